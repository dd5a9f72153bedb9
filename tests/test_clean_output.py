"""The terminal shows progress, results and errors, never a library's Python warnings:
those go to the debug log and, for commands with a run folder, to its log file.

Through the real console script with ``PYTHONWARNINGS=default`` (every warning shown once
per place, as a user's shell may set it). ``oncoseg predict`` has its own test in
tests/train/test_training.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_bad_input import TINY


def _oncoseg(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "oncoseg"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "oncoseg.cli"]
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "default"},
        timeout=900,
    )


def test_synth_and_dataset_check_print_no_warnings(tmp_path: Path) -> None:
    res = _oncoseg("synth", "brain-tumor", str(tmp_path / "b"), "--cases", "2", "--size", "32")
    assert res.returncode == 0, res.stderr
    assert "Warning" not in res.stdout + res.stderr, res.stderr
    res = _oncoseg("dataset", "check", str(tmp_path / "b"))
    assert res.returncode == 0, res.stderr
    assert "Warning" not in res.stdout + res.stderr, res.stderr
    assert "2 training, 0 test" in res.stdout


def test_train_prints_no_warnings_and_keeps_a_log(
    breast_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    sets = [f"data.dataset={breast_dataset}", f"out={out}", *TINY, "train.epochs=1"]
    sets += ["model.fusion=two_way", f"text.model={tiny_lm_dir}"]
    res = _oncoseg("train", *sum((["--set", s] for s in sets), []))
    assert res.returncode == 0, res.stderr
    assert "Warning" not in res.stdout + res.stderr, res.stderr
    assert res.stdout.strip().splitlines()[-1] == str(out)  # after the progress bar
    log = (out / "train.log").read_text(encoding="utf-8")
    assert "INFO oncoseg.train.trainer: epoch 1 loss" in log
