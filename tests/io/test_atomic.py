"""Atomic folders: a folder appears under its name only when complete; temporary files
left by killed writers are recognised by their name and removed, nothing else."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oncoseg.io.atomic import atomic_dir, atomic_path


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


def _killed_writer(final: Path) -> Path:
    """The temporary file a process SIGKILLed inside ``atomic_path(final)`` leaves."""
    code = (
        "import os, signal, sys\n"
        "from oncoseg.io.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half a checkpoint')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    before = set(final.parent.glob(".*"))
    done = subprocess.run([sys.executable, "-c", code, str(final)], check=False)
    assert done.returncode == -9
    (left,) = set(final.parent.glob(".*")) - before
    return left


def test_atomic_path_names_its_temporary_file_by_pattern(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "mask.nii.gz") as tmp:
        assert re.fullmatch(
            rf"\.mask\.nii\.gz\.tmp-[0-9a-f]{{8}}-{os.getpid()}-\w{{8}}\.nii\.gz", tmp.name
        )
        tmp.write_text("x")
    assert [p.name for p in tmp_path.iterdir()] == ["mask.nii.gz"]


def test_remove_stale_temp_files_removes_ours_only(tmp_path: Path) -> None:
    from oncoseg.io import atomic

    killed = _killed_writer(tmp_path / "last.pt")  # a real SIGKILLed writer: gone at once
    assert killed.name.startswith(".last.pt.tmp-") and killed.name.endswith(".pt")
    host = atomic._HOST
    day = time.time() - 2 * 86400
    ours_old = [  # another machine's writer / an old oncoseg's name: by age
        tmp_path / f".best.pt.tmp-0badf00d-{os.getpid()}-abcd_123.pt",
        tmp_path / ".last.pt.k2j3h4g5.pt",
        tmp_path / "masks" / ".case_01.nii.gz.tmp-0badf00d-12-zz99zz99.nii.gz",
    ]
    live_writer = tmp_path / f".status.csv.tmp-{host}-{os.getpid()}-q1w2e3r4.csv"  # this process
    other_host_fresh = tmp_path / ".cohort.json.tmp-0badf00d-12-abcdefgh.json"
    lookalikes = [
        tmp_path / ".bashrc",
        tmp_path / ".lock",
        tmp_path / ".last.pt.tmp-notours.pt",
        tmp_path / ".last.pt.k2j3h4g5.nii",  # a suffix atomic_path would not give last.pt
        tmp_path / ".backup.20240101.tar",
        tmp_path / f"last.pt.tmp-{host}-99999999-abcdefgh.pt",  # no leading dot
        tmp_path / "notes.txt",
    ]
    for p in [*ours_old, live_writer, other_host_fresh, *lookalikes]:
        p.parent.mkdir(exist_ok=True)
        p.write_text("x")
    for p in [*ours_old, *lookalikes]:
        os.utime(p, (day, day))
    dead_partial = tmp_path / f".cohort.partial-{_dead_pid()}"
    dead_partial.mkdir()

    removed = atomic.remove_stale_temp_files(tmp_path)  # this folder only
    assert sorted(removed) == sorted([killed, *ours_old[:2], dead_partial])
    assert atomic.remove_stale_temp_files(tmp_path, recursive=True) == [ours_old[2]]
    for p in [live_writer, other_host_fresh, *lookalikes]:
        assert p.exists(), p
    # past max_age everything of ours goes, a live writer's too (its PID may be recycled)
    got = atomic.remove_stale_temp_files(tmp_path, max_age=-1)
    assert sorted(got) == sorted([other_host_fresh, live_writer])
    assert all(p.exists() for p in lookalikes)


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)
