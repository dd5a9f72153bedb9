"""``oncoseg predict`` with a note-guided model prints its result lines and nothing else,
and with a note it has read before it never loads the language model.

Through the real console script, stdout and stderr captured apart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from oncoseg.infer.config import load_config
from oncoseg.train.trainer import train

NOTE = "N2, total mastectomy, left side"


def _oncoseg(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "oncoseg"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "oncoseg.cli"]
    env = {**os.environ, "PYTHONWARNINGS": "default", "ONCOSEG_CACHE": str(cache)}
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, env=env, timeout=600, check=False
    )


@pytest.mark.slow  # three CLI runs and a training: ~1 min on 2 idle cores
def test_predict_prints_only_its_result_and_skips_the_lm_for_a_cached_note(
    breast_dataset: Path, case_image: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    overrides = [f"data.dataset={breast_dataset}", f"out={run}", "model.preset=tiny"]
    overrides += ["data.patch_size=[32,32,32]", "train.epochs=1", f"text.model={tiny_lm_dir}"]
    train(load_config(None, overrides))  # note-guided: two_way, cached-frozen
    note = tmp_path / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    cache = tmp_path / "cache"  # empty: the first predict reads the note with the LM
    args = ["predict", "-m", str(run), "-i", str(case_image), "-n", str(note)]

    first = _oncoseg(*args, "-o", str(tmp_path / "a"), cache=cache)
    assert first.returncode == 0, first.stderr
    name = case_image.name.replace("_0000.nii.gz", ".nii.gz")
    assert first.stdout.splitlines() == [str(tmp_path / "a" / name)]
    assert first.stderr == ""  # no "Loading weights" bar, no library line
    assert list((cache / "note-states").glob("*.safetensors"))  # the note's states, kept

    again = _oncoseg("-v", *args, "-o", str(tmp_path / "b"), cache=cache)  # debug log on
    assert again.returncode == 0, again.stderr
    assert str(tmp_path / "b" / name) in again.stdout.splitlines()
    assert "loading the language model" not in again.stdout + again.stderr

    other = tmp_path / "other.txt"  # a note not read before: the LM loads (and says so)
    other.write_text(NOTE.replace("left", "right"), encoding="utf-8")
    new = _oncoseg("-v", *args[:-1], str(other), "-o", str(tmp_path / "c"), cache=cache)
    assert new.returncode == 0, new.stderr
    assert "loading the language model" in new.stdout + new.stderr
