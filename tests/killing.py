"""Kill tests' helpers: run ``oncoseg ...`` in a subprocess and SIGKILL it at a random point.

Each kill test then checks that nothing a rerun would trust is half-written and that the
rerun's outputs equal an uninterrupted run's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

ONCOSEG = [sys.executable, "-m", "oncoseg.cli"]
TIMEOUT = 600.0  # seconds; a loaded 2-core CI machine imports torch slowly


def run_oncoseg(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``oncoseg ARGS`` to completion; fails the test on a non-zero exit."""
    done = subprocess.run(
        [*ONCOSEG, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def kill_oncoseg(args: list[str], delay: float, started: Callable[[], bool] | None = None) -> bool:
    """Start ``oncoseg ARGS``; SIGKILL it ``delay`` seconds after ``started()`` first holds
    (after the start when ``None``). True when it was killed, False when it finished first.
    """
    proc = subprocess.Popen([*ONCOSEG, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_end = time.monotonic() + TIMEOUT
    try:
        while started is not None and not started():
            if proc.poll() is not None or time.monotonic() > t_end:
                break
            time.sleep(0.05)
        try:
            proc.wait(timeout=delay)
            print(f"oncoseg {args[0]}: finished within {delay:.2f} s, not killed")
            return False
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            print(f"oncoseg {args[0]}: SIGKILL {delay:.2f} s after the start point")
            return True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def assert_nothing_corrupt(folder: Path) -> None:
    """Every file under ``folder`` with a final name is complete: checkpoints load with
    ``weights_only``, JSON parses, JSON lines parse, NIfTI files load fully."""
    import nibabel as nib

    for path in folder.rglob("*"):
        if not path.is_file() or any(p.startswith(".") for p in path.relative_to(folder).parts):
            continue  # temporaries are dot-files and dot-folders, never read by a rerun
        if path.suffix == ".pt":
            torch.load(path, map_location="cpu", weights_only=True)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)
        elif path.name.endswith(".nii.gz"):
            nib.load(path).get_fdata()


def dot_leftovers(folder: Path) -> list[Path]:
    """Temporary files and folders (dot names) directly in ``folder``."""
    return sorted(p for p in folder.glob(".*") if not p.name.endswith(".lock"))
