from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oncoseg.cli import app
from oncoseg.infer.config import load_config
from oncoseg.io.dicom_seg import read_dicom_seg
from oncoseg.io.image import Image, load_image
from oncoseg.io.outputs import load_input, parse_formats, write_outputs
from oncoseg.io.rtstruct import list_rois, read_rtstruct
from oncoseg.train.trainer import train
from tests.io.conftest import SeriesSpec, label_mask, sitk_image

TINY = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.epochs=1", "model.fusion=none"]


def test_parse_formats() -> None:
    assert parse_formats("nifti,dicom-seg, RTSTRUCT,nifti") == ("nifti", "dicom-seg", "rtstruct")
    with pytest.raises(ValueError, match="expected a comma list of nifti, dicom-seg, rtstruct"):
        parse_formats("nifti,png")


def test_write_all_formats(make_series: Callable[..., Path], tmp_path: Path) -> None:
    image, series = load_input(make_series())
    assert series is not None
    mask = Image(label_mask(SeriesSpec()), image.affine)
    labels = {"background": 0, "CTV": 1, "GTV": 2}
    paths = write_outputs(
        mask, tmp_path / "out", "case", ["nifti", "dicom-seg", "rtstruct"], series, labels, "run-x"
    )
    assert [p.name for p in paths] == ["case.nii.gz", "case_seg.dcm", "case_rtstruct.dcm"]
    nifti = load_image(paths[0])
    assert np.allclose(nifti.affine, sitk_image(series.folder).affine, atol=1e-5)
    assert np.array_equal(nifti.array, mask.array)
    seg = read_dicom_seg(paths[1], series)
    rt = read_rtstruct(paths[2], series)
    for name in ("CTV", "GTV"):
        assert np.array_equal(seg[name], mask.array == labels[name])
        assert np.array_equal(rt[name], mask.array == labels[name])
    with pytest.raises(ValueError, match="needs a DICOM series folder"):
        write_outputs(mask, tmp_path / "x", "case", ["rtstruct"], None, labels)


def test_predict_cli_on_a_dicom_folder(
    breast_dataset: Path, make_series: Callable[..., Path], tmp_path: Path
) -> None:
    run = tmp_path / "run"
    train(load_config(None, [f"data.dataset={breast_dataset}", f"out={run}", *TINY]))
    folder = make_series("patient/ct", rows=32, columns=36, slices=12)
    args = ["predict", "--model", str(run), "-i", str(folder), "-o", str(tmp_path / "out")]
    res = CliRunner().invoke(app, [*args, "--format", "nifti,dicom-seg,rtstruct"])
    assert res.exit_code == 0, res.output
    nifti, seg_path, rt_path = (Path(p) for p in res.output.strip().splitlines()[-3:])
    series = load_input(folder)[1]
    assert series is not None
    mask = load_image(nifti)
    assert np.allclose(mask.affine, sitk_image(folder).affine, atol=1e-5)
    assert mask.shape == (36, 32, 12)
    names = [r.name for r in list_rois(rt_path)]
    assert names == [n for n in read_dicom_seg(seg_path, series)]
    rt = read_rtstruct(rt_path, series)
    for value, name in enumerate(names, start=1):
        assert np.array_equal(rt[name], mask.array == value)
    # a file input cannot give DICOM outputs; two series need --series
    make_series("patient/other", slices=5)
    res = CliRunner().invoke(
        app, ["predict", "--model", str(run), "-i", str(folder.parent), "-o", str(tmp_path / "o2")]
    )
    assert res.exit_code == 2 and "2 series found" in " ".join(res.output.split())
    res = CliRunner().invoke(
        app,
        [
            "predict",
            "--model",
            str(run),
            "-i",
            str(nifti),
            "-o",
            str(tmp_path / "o3"),
            "--format",
            "rtstruct",
        ],
    )
    assert res.exit_code == 2 and "needs a DICOM series folder" in " ".join(res.output.split())
