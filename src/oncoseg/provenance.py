"""What produced a result: command line, git commit, package version, time."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from oncoseg import __version__


def git_commit(cwd: str | Path | None = None) -> str:
    """The current commit (with ``-dirty`` if the tree has changes).

    Outside a git checkout (a copied tree, a container) ``$ONCOSEG_COMMIT`` is used if set,
    else ``unknown``.
    """
    fallback = os.environ.get("ONCOSEG_COMMIT", "unknown")
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return fallback
    return sha + ("-dirty" if dirty else "")


def compute_device() -> str:
    """Where torch computes here: the GPU's name, or the CPU and its thread count."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)} (torch {torch.__version__})"
    return f"cpu: {torch.get_num_threads()} threads (torch {torch.__version__})"


def provenance(**extra: Any) -> dict[str, Any]:
    """A record to store beside every result file."""
    return {
        "command": " ".join(shlex.quote(a) for a in ["oncoseg", *sys.argv[1:]]),
        "commit": git_commit(),
        "oncoseg_version": __version__,
        "python": sys.version.split()[0],
        "created_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }
