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
    """The commit of the oncoseg code that runs (with ``-dirty`` if its tree has changes):
    by default read where this package's source lives, not in the working directory, so a
    command started in another checkout records the code it ran.

    Outside a git checkout (a copied tree, a container) ``$ONCOSEG_COMMIT`` is used if set,
    else ``unknown``.
    """
    fallback = os.environ.get("ONCOSEG_COMMIT", "unknown")
    cwd = Path(__file__).resolve().parent if cwd is None else cwd
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


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``; else ``platform.processor()``, which
    may be empty)."""
    import platform

    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def compute_device() -> str:
    """Where torch computes here: the GPU's name, or the CPU, its vector instruction set
    and thread count. The CPU can matter: with the same seed, code and data, training gives
    the same weights on one machine, but float kernels differ by instruction set."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)} (torch {torch.__version__})"
    isa = torch.backends.cpu.get_cpu_capability()
    return (
        f"cpu: {cpu_model()}, {isa}, {torch.get_num_threads()} threads (torch {torch.__version__})"
    )


# the installed libraries whose versions can change a trained model or a metric
KEY_PACKAGES = ("torch", "monai", "numpy", "scipy", "transformers", "SimpleITK", "nibabel")


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` for a missing one)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def provenance(**extra: Any) -> dict[str, Any]:
    """A record to store beside every result file."""
    return {
        "command": " ".join(shlex.quote(a) for a in ["oncoseg", *sys.argv[1:]]),
        "commit": git_commit(),
        "oncoseg_version": __version__,
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "created_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }
