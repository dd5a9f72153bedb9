"""Atomic folders: a folder appears under its name only when complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oncoseg.io.atomic import atomic_dir


def test_atomic_dir_replaces_only_on_success(tmp_path: Path) -> None:
    final = tmp_path / "cohort"
    with atomic_dir(final) as work:
        assert work.name.startswith(".cohort.partial-") and not final.exists()
        (work / "a.txt").write_text("one")
    assert (final / "a.txt").read_text() == "one"
    with pytest.raises(RuntimeError), atomic_dir(final) as work:
        (work / "a.txt").write_text("half")
        raise RuntimeError("killed halfway")
    assert (final / "a.txt").read_text() == "one"  # the old folder, untouched
    with atomic_dir(final) as work:
        (work / "b.txt").write_text("two")
    assert sorted(p.name for p in final.iterdir()) == ["b.txt"]  # replaced, not merged
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort"]  # nothing left beside


def test_atomic_dir_removes_leftovers_of_dead_processes_only(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(gone.stdout)  # a process that has exited
    killed = tmp_path / f".ds.partial-{dead}"
    old = tmp_path / f".ds.old-{dead}"
    running = tmp_path / ".ds.partial-1"  # PID 1 always runs
    other = tmp_path / ".dsx.partial-99999999"  # another folder's: not ours to judge
    for d in (killed, old, running, other):
        d.mkdir()
    with atomic_dir(tmp_path / "ds") as work:
        (work / "x").write_text("x")
    assert not killed.exists() and not old.exists()
    assert running.exists() and other.exists()
