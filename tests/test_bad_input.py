"""Every bad-input category through ``oncoseg predict``, ``train`` and ``dataset check``:
exit code 2, one ``error:`` line (or one problem line) naming the file, no traceback, and
nothing written where the command writes."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from oncoseg.cli import app
from oncoseg.data.dataset import image_path, label_path, note_path
from oncoseg.infer.config import load_config
from oncoseg.io.image import Image, load_image, save_image
from oncoseg.io.image_rules import InvalidImageError
from tests.io.bad_inputs import IMAGE_BREAKERS, NOTE_BREAKERS

runner = CliRunner()
CASE = "bctv_int_0001"  # a training case of the breast fixture
TINY = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.batch_size=2"]


@pytest.fixture(scope="module")
def note_run(
    breast_dataset: Path, tiny_lm_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A tiny note-guided run (one epoch): predict reads an image and a note."""
    from oncoseg.train.trainer import train

    out = tmp_path_factory.mktemp("runs") / "mm"
    sets = [f"data.dataset={breast_dataset}", f"out={out}", *TINY, "train.epochs=1"]
    train(load_config(None, [*sets, "model.fusion=two_way", f"text.model={tiny_lm_dir}"]))
    return out


@pytest.fixture
def case_files(breast_dataset: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A good test image and note, copied out of the fixture."""
    image, note = tmp_path / "in" / "pt_0000.nii.gz", tmp_path / "in" / "note.txt"
    image.parent.mkdir()
    case = sorted(breast_dataset.glob("imagesTs/*_0000.nii.gz"))[0].name[: -len("_0000.nii.gz")]
    shutil.copy(image_path(breast_dataset, case, 0, "Ts"), image)
    shutil.copy(note_path(breast_dataset, case, "Ts"), note)
    return image, note


def _refused(res: Result, named: Path | str, words: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, res.output
    assert str(named) in errors[0] and words in errors[0], errors[0]


def _predict(run: Path, image: Path, note: Path, out: Path, *first: str) -> Result:
    args = [*first, "predict", "-m", str(run), "-i", str(image), "-n", str(note), "-o", str(out)]
    return runner.invoke(app, args)


@pytest.mark.parametrize("category", sorted(IMAGE_BREAKERS))
def test_predict_refuses_each_bad_image(
    note_run: Path, case_files: tuple[Path, Path], tmp_path: Path, category: str
) -> None:
    image, note = case_files
    breaker, words = IMAGE_BREAKERS[category]
    breaker(image)
    res = _predict(note_run, image, note, tmp_path / "out")
    _refused(res, image, words)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("category", sorted(NOTE_BREAKERS))
def test_predict_refuses_each_bad_note(
    note_run: Path, case_files: tuple[Path, Path], tmp_path: Path, category: str
) -> None:
    image, note = case_files
    breaker, words = NOTE_BREAKERS[category]
    breaker(note)
    res = _predict(note_run, image, note, tmp_path / "out")
    _refused(res, note, words)
    assert not (tmp_path / "out").exists()


def test_predict_debug_shows_the_traceback(
    note_run: Path, case_files: tuple[Path, Path], tmp_path: Path
) -> None:
    image, note = case_files
    IMAGE_BREAKERS["nan"][0](image)
    res = _predict(note_run, image, note, tmp_path / "out", "--debug")
    assert res.exit_code == 2 and "Traceback" in res.output and "InvalidImageError" in res.output
    assert not (tmp_path / "out").exists()


def test_a_long_note_is_cut_with_a_warning_naming_the_file(
    note_run: Path, case_files: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    image, note = case_files
    # a filler the de-identifier keeps (a capitalised word it does not know may be masked
    # as one run, and the note would then be short)
    note.write_text("N1, total mastectomy, left side. " + "quixotic " * 300, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        res = _predict(note_run, image, note, tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert load_image(tmp_path / "out" / "pt.nii.gz").shape == load_image(image).shape
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(m.startswith(f"{note}: note of ") and "the 128 the model" in m for m in warned)
    assert not any("quixotic" in m or "mastectomy" in m for m in warned)


def test_the_predictor_checks_images_in_memory(note_run: Path) -> None:
    """The service and the cohort runner hand Predictor arrays; the same rules apply."""
    from oncoseg.infer import Predictor

    predictor = Predictor.from_run(note_run)
    arr = np.zeros((20, 20, 20), np.float32)
    arr[5, 5, 5] = np.nan
    with pytest.raises(InvalidImageError, match=r"^channel 0: 1 of 8000 voxels"):
        predictor.predict([Image(arr, np.eye(4))], "N0, left side")
    with pytest.raises(InvalidImageError, match=r"^upload\.nii: 2D array"):
        predictor.predict([Image(arr[0], np.eye(4), "upload.nii")], "N0, left side")


def test_predict_refusal_is_one_line_on_the_real_terminal(
    note_run: Path, case_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """Through the console script: stderr holds exactly the error line, stdout nothing."""
    image, note = case_files
    IMAGE_BREAKERS["zero_spacing"][0](image)
    script = Path(sys.executable).parent / "oncoseg"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "oncoseg.cli"]
    res = subprocess.run(
        [*cmd, "predict", "-m", str(note_run), "-i", str(image), "-n", str(note)]
        + ["-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "default", "COLUMNS": "60"},
        timeout=600,
    )
    assert res.returncode == 2 and res.stdout == "", res.stderr
    (line,) = res.stderr.splitlines()  # one line, however narrow the terminal
    assert line.startswith(f"error: {image}: header voxel size (pixdim) (")
    assert line.endswith(", 0) mm, expected every spacing above 0")
    assert not (tmp_path / "out").exists()


def _broken_copy(breast_dataset: Path, tmp_path: Path) -> Path:
    ds = tmp_path / "ds"
    shutil.copytree(breast_dataset, ds)
    return ds


def _train(ds: Path, out: Path) -> Result:
    sets = [f"data.dataset={ds}", f"out={out}", *TINY, "train.epochs=1", "model.fusion=none"]
    return runner.invoke(app, ["train", *sum((["--set", s] for s in sets), [])])


BAD_FILES = [("image", c) for c in sorted(IMAGE_BREAKERS)] + [
    ("note", c) for c in sorted(NOTE_BREAKERS)
]


def _break(ds: Path, kind: str, category: str) -> tuple[Path, str]:
    """Break CASE's channel 0 or note in ``ds``; the broken file and the words expected."""
    path = image_path(ds, CASE, 0) if kind == "image" else note_path(ds, CASE)
    breaker, words = (IMAGE_BREAKERS if kind == "image" else NOTE_BREAKERS)[category]
    breaker(path)
    return path, words


@pytest.mark.parametrize(("kind", "category"), BAD_FILES)
def test_train_refuses_each_bad_file(
    breast_dataset: Path, tmp_path: Path, kind: str, category: str
) -> None:
    ds = _broken_copy(breast_dataset, tmp_path)
    path, words = _break(ds, kind, category)
    res = _train(ds, tmp_path / "run")
    _refused(res, path, words)
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_label_on_another_grid(breast_dataset: Path, tmp_path: Path) -> None:
    ds = _broken_copy(breast_dataset, tmp_path)
    label = load_image(label_path(ds, CASE))
    affine = label.affine.copy()
    affine[2, 2] *= 2.0  # slice spacing doubled
    save_image(Image(label.array, affine), label_path(ds, CASE))
    res = _train(ds, tmp_path / "run")
    _refused(res, label_path(ds, CASE), "differs from")
    assert not (tmp_path / "run").exists()


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
    }


@pytest.mark.parametrize(("kind", "category"), BAD_FILES)
def test_dataset_check_names_each_bad_file(
    breast_dataset: Path, tmp_path: Path, kind: str, category: str
) -> None:
    ds = _broken_copy(breast_dataset, tmp_path)
    path, words = _break(ds, kind, category)
    before = _snapshot(ds)
    res = runner.invoke(app, ["dataset", "check", str(ds)])
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    problems = [line for line in res.output.splitlines() if line.startswith("✗")]
    assert len(problems) == 1, res.output
    assert str(path.relative_to(ds)) in problems[0] and words in problems[0], problems[0]
    assert _snapshot(ds) == before  # nothing written


def test_dataset_check_of_no_folder(tmp_path: Path) -> None:
    res = runner.invoke(app, ["dataset", "check", str(tmp_path / "nope")])
    _refused(res, tmp_path / "nope", "not a folder")
