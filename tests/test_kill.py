"""Kill tests: ``oncoseg synth``, ``predict``, ``convert`` and ``experiment`` SIGKILLed at a
random point leave nothing half-written under a final name, and a rerun's outputs equal an
uninterrupted run's. (``train``/``--resume``: tests/train/test_resume.py; concurrent
experiments: tests/experiments/test_locks.py.) One kill each runs by default; the other
kill points are ``slow``.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from oncoseg.data.dataset import dataset_hash
from oncoseg.data.phantom_cohort import write_cohort
from oncoseg.infer.config import load_config
from oncoseg.io.image import load_image
from oncoseg.tasks import breast_ctv
from oncoseg.train.trainer import train
from tests.conftest import SHARED_DATA
from tests.killing import (
    assert_nothing_corrupt,
    dot_leftovers,
    kill_oncoseg,
    run_oncoseg,
)

SLOW_SEEDS = [pytest.param(s, marks=pytest.mark.slow) for s in (1, 2, 3)]


def _partial(out: Path) -> bool:
    """``out`` is being built (its temporary folder exists)."""
    return any(out.parent.glob(f".{out.name}.partial-*"))


def _assert_dataset_or_nothing(out: Path, want: str) -> None:
    """After a kill: the dataset is absent or complete (the uninterrupted run's hash)."""
    if out.exists():
        assert dataset_hash(out) == want


# ----------------------------------------------------------------------------- synth


@pytest.mark.parametrize("seed", [0, *SLOW_SEEDS])
def test_sigkill_during_synth(tmp_path: Path, seed: int) -> None:
    spec = breast_ctv.cohort_spec()
    want = dataset_hash(write_cohort(tmp_path / "ref", spec, cases=4, size=32, seed=7))
    out = tmp_path / "kill" / "cohort"
    args = ["synth", "breast-ctv", str(out), "--cases", "4", "--size", "32", "--seed", "7"]
    kill_oncoseg(args, random.Random(seed).uniform(0.0, 1.5), lambda: _partial(out))
    _assert_dataset_or_nothing(out, want)
    run_oncoseg([*args, "--overwrite"])
    assert dataset_hash(out) == want
    assert dot_leftovers(out.parent) == []  # the killed run's build folder is gone


# ----------------------------------------------------------------------------- predict


@pytest.fixture(scope="module")
def predicted(breast_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A tiny trained run, the predict arguments for one test case, and the uninterrupted
    prediction with its duration."""
    root = tmp_path_factory.mktemp("kill-predict")
    run = root / "run"
    settings = ["model.preset=tiny", "model.fusion=none", "data.patch_size=[32,32,32]"]
    train(
        load_config(
            None,
            [
                f"data.dataset={breast_dataset}",
                f"out={run}",
                *settings,
                "train.epochs=1",
                "train.batch_size=2",
            ],
        )
    )
    image = sorted((breast_dataset / "imagesTs").glob("*_0000.nii.gz"))[0]
    args = ["predict", "-m", str(run), "-i", str(image)]
    t0 = time.monotonic()
    run_oncoseg([*args, "-o", str(root / "ref")])
    seconds = time.monotonic() - t0
    (mask,) = sorted((root / "ref").iterdir())
    return {"args": args, "name": mask.name, "mask": load_image(mask), "seconds": seconds}


@pytest.mark.parametrize("seed", [0, *SLOW_SEEDS])
def test_sigkill_during_predict(predicted: dict, tmp_path: Path, seed: int) -> None:
    out = tmp_path / "out"
    delay = random.Random(seed).uniform(0.3, 1.0) * predicted["seconds"]
    kill_oncoseg([*predicted["args"], "-o", str(out)], delay)
    if out.exists():
        assert_nothing_corrupt(out)
        assert {p.name for p in out.iterdir() if not p.name.startswith(".")} <= {predicted["name"]}
    run_oncoseg([*predicted["args"], "-o", str(out)])
    got, want = load_image(out / predicted["name"]), predicted["mask"]
    assert np.array_equal(np.asarray(got.array), np.asarray(want.array))
    assert np.allclose(got.affine, want.affine)


# ----------------------------------------------------------------------------- convert

OPENKBP = SHARED_DATA / "openkbp"


@pytest.mark.slow
@pytest.mark.skipif(not OPENKBP.is_dir(), reason="../shared/data/openkbp absent")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkill_during_convert_openkbp(tmp_path: Path, seed: int) -> None:
    from oncoseg.tasks.openkbp.convert import convert_openkbp

    src = tmp_path / "src" / "train-pats"
    for pt in ("pt_1", "pt_10"):
        shutil.copytree(OPENKBP / "train-pats" / pt, src / pt)
    convert_openkbp(src.parent, tmp_path / "ref")
    want = dataset_hash(tmp_path / "ref")
    out = tmp_path / "kill" / "kbp"
    args = ["convert", "openkbp", str(src.parent), str(out)]
    kill_oncoseg(args, random.Random(seed).uniform(0.0, 3.0), lambda: _partial(out))
    _assert_dataset_or_nothing(out, want)
    run_oncoseg([*args, "--overwrite"])
    assert dataset_hash(out) == want and dot_leftovers(out.parent) == []


# ----------------------------------------------------------------------------- experiment


def _experiment_config(root: Path) -> Path:
    tiny = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.warmup_steps=2"]
    cfg = {
        "cases": 5,
        "test_cases": 2,
        "external_cases": 0,
        "size": 32,
        "epochs": 3,
        "train": [*tiny, "data.fold=0", "train.batch_size=2", "train.lr=3e-3"],
        "vision": ["model.fusion=none"],
        "multimodal": ["model.fusion=none", "train.lr=1e-3"],  # a second model, no LM
        "store": str(root / "models"),
        "data_dir": str(root / "data"),
    }
    path = root / "experiment.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _results(path: Path) -> dict:
    doc = json.loads(path.read_text())
    return {k: doc[k] for k in ("models", "comparisons", "data_hash")}


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkill_during_experiment(tmp_path: Path, seed: int) -> None:
    from oncoseg.experiments.config import load_experiment_config
    from oncoseg.experiments.runner import run_experiment

    ref = tmp_path / "ref"
    ref.mkdir()
    t0 = time.monotonic()
    run_experiment("compare", load_experiment_config(str(_experiment_config(ref)), []), ref)
    seconds = time.monotonic() - t0
    root = tmp_path / "kill"
    root.mkdir()
    args = ["experiment", "compare", "-c", str(_experiment_config(root)), "-o", str(root)]

    def training() -> bool:  # the cohort is made and the first model is training
        return any((root / "models").glob("*/metrics.jsonl"))

    kill_oncoseg(args, random.Random(seed).uniform(0.0, 1.0) * seconds, training)
    assert_nothing_corrupt(root)
    run_oncoseg(args)
    assert _results(root / "results.json") == _results(ref / "results.json")
    for model in (root / "models").iterdir():
        if model.is_dir() and not model.name.startswith("."):
            assert (model / "done.json").exists()
