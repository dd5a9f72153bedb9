"""Provenance records: the commit outside a checkout, and where torch computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncoseg.io.provenance import (
    compute_device,
    cpu_model,
    git_commit,
    package_versions,
    provenance,
)


def test_commit_outside_a_checkout_uses_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    monkeypatch.delenv("ONCOSEG_COMMIT", raising=False)
    assert git_commit(tmp_path) == "unknown"
    monkeypatch.setenv("ONCOSEG_COMMIT", "abc123")
    assert git_commit(tmp_path) == "abc123"


def test_commit_inside_this_checkout_is_a_sha() -> None:
    sha = git_commit(Path(__file__).parent).removesuffix("-dirty")
    if sha == "unknown":
        pytest.skip("not a git checkout")
    assert len(sha) == 40 and int(sha, 16) >= 0


def test_device_and_record() -> None:
    dev = compute_device()
    assert dev.startswith(("cpu: ", "cuda: ")) and "torch " in dev
    rec = provenance(extra_field=1)
    assert rec["extra_field"] == 1 and rec["command"].startswith("oncoseg")
    import monai
    import torch

    assert rec["packages"]["torch"] == torch.__version__
    assert rec["packages"]["monai"] == monai.__version__
    assert package_versions(("no-such-package-xyz",)) == {"no-such-package-xyz": "not installed"}


def test_cpu_model_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: X\nmodel name\t: Some CPU 9000 @ 3 GHz\n\n")
    assert cpu_model(info) == "Some CPU 9000 @ 3 GHz"
    info.write_text("processor\t: 0\n")  # no model name: falls back, never raises
    assert isinstance(cpu_model(info), str) and cpu_model(info)
    assert isinstance(cpu_model(tmp_path / "missing"), str)


def test_commit_is_that_of_the_running_code_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    import oncoseg

    src = Path(oncoseg.__file__).resolve().parent
    try:
        expected = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=src, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("oncoseg is not running from a git checkout")
    other = tmp_path / "other-checkout"  # a command started in another repository
    other.mkdir()
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    subprocess.run(
        [
            "git",
            "-C",
            str(other),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    monkeypatch.chdir(other)
    assert git_commit().removesuffix("-dirty") == expected
