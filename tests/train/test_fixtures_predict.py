"""``oncoseg predict`` on real images from ../shared/data/fixtures keeps their geometry.

A tiny model of the matching modality (CT: breast phantoms; MRI: FLAIR + T1c brain
phantoms) is trained for one epoch; only geometry and label values are checked here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oncoseg.cli import app
from oncoseg.infer.config import load_config
from oncoseg.io.image import load_image
from oncoseg.train.trainer import train
from tests.conftest import SHARED_DATA

FIX = SHARED_DATA / "fixtures"
BRATS = FIX / "deepmedic/examples/dataForExamples/brats2015TrainingData/test/brats_2013_pat0001_1"
CT_NIFTI = FIX / "TotalSegmentator/tests/reference_files/example_ct_sm.nii.gz"
CT_NRRD = FIX / "pyradiomics/data/lung1_image.nrrd"
needs_fixtures = pytest.mark.skipif(not FIX.is_dir(), reason="../shared/data/fixtures absent")
TINY = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.epochs=1", "model.fusion=none"]


def _two_channel_mri(brain: Path, out: Path) -> Path:
    """The brain phantoms with FLAIR and T1ce only, in the fixture's channel order."""
    shutil.copytree(brain, out)
    info = json.loads((out / "dataset.json").read_text())
    d = out / "imagesTr"
    for img in [*d.glob("*_0000.nii.gz"), *d.glob("*_0002.nii.gz")]:  # T1, T2 dropped
        img.unlink()
    for flair in d.glob("*_0003.nii.gz"):  # FLAIR first, T1ce (_0001) second
        flair.rename(d / (flair.name[: -len("_0003.nii.gz")] + "_0000.nii.gz"))
    info["channel_names"] = {"0": "FLAIR", "1": "T1c"}
    (out / "dataset.json").write_text(json.dumps(info))
    return out


def _predict_and_compare(run: Path, images: list[Path], tmp: Path) -> None:
    res = CliRunner().invoke(
        app,
        [
            "predict",
            "--model",
            str(run),
            *sum((["-i", str(p)] for p in images), []),
            "-o",
            str(tmp),
        ],
    )
    assert res.exit_code == 0, res.output
    out = Path(res.output.strip().splitlines()[-1])
    src, pred = load_image(images[0]), load_image(out)
    assert pred.array.shape == src.array.shape
    assert np.allclose(pred.affine, src.affine, atol=1e-4)  # spacing, origin and direction
    assert np.allclose(pred.spacing, src.spacing, atol=1e-5)
    assert set(np.unique(pred.array)) <= {0, 1}


@needs_fixtures
def test_predict_real_ct_keeps_geometry(breast_dataset: Path, tmp_path: Path) -> None:
    run = tmp_path / "ct"
    train(load_config(None, [f"data.dataset={breast_dataset}", f"out={run}", *TINY]))
    _predict_and_compare(run, [CT_NIFTI], tmp_path / "a")
    _predict_and_compare(run, [CT_NRRD], tmp_path / "b")  # 512 x 512 x 48, NRRD


@needs_fixtures
def test_predict_real_brats_mri_keeps_geometry(brain_dataset: Path, tmp_path: Path) -> None:
    ds = _two_channel_mri(brain_dataset, tmp_path / "mri")
    run = tmp_path / "mr"
    train(load_config(None, [f"data.dataset={ds}", f"out={run}", *TINY]))
    assert json.loads((run / "plan.json").read_text())["channel_names"] == {
        "0": "FLAIR",
        "1": "T1c",
    }
    images = [BRATS / "Flair_subtrMeanDivStd.nii.gz", BRATS / "T1c_subtrMeanDivStd.nii.gz"]
    _predict_and_compare(run, images, tmp_path / "c")
