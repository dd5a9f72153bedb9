"""``oncoseg predict-cohort``: masks, status.csv, metrics.csv, resume after SIGKILL, failing
cases, bad input, and the Ray engine (in a private network namespace) against the local one.

A tiny vision-only model is trained for one epoch on the 32³ breast fixture (8 training +
2 test cases); ``--split all`` gives a 10-case cohort.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock
from typer.testing import CliRunner

from oncoseg.cli import app
from oncoseg.data.dataset import image_path, list_cases
from oncoseg.infer import Predictor
from oncoseg.infer.config import load_config
from oncoseg.io.image import load_image
from oncoseg.train.trainer import train

TINY = [
    "model.preset=tiny",
    "data.patch_size=[32,32,32]",
    "train.epochs=1",
    "train.batch_size=2",
    "model.fusion=none",
]
N_CASES = 10  # breast_dataset: 8 training + 2 test cases


@pytest.fixture(scope="module")
def tiny_run(breast_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("cohort") / "run"
    train(load_config(None, [f"data.dataset={breast_dataset}", f"out={run}", *TINY]))
    return run


def _cli(*args: str | Path) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["predict-cohort", *map(str, args)])
    return res.exit_code, res.output


def _flat(output: str) -> str:
    return " ".join(output.split())  # rich wraps long lines


def _status(out: Path) -> list[dict[str, str]]:
    with (out / "status.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _runs(out: Path) -> list[dict]:
    return json.loads((out / "cohort.json").read_text())["runs"]


def _masks(out: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(load_image(p).array) for p in sorted((out / "masks").glob("*"))}


@pytest.fixture(scope="module")
def local_out(tiny_run: Path, breast_dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    """The 10-case cohort run by the local engine, 1 worker, 1 thread."""
    out = tmp_path_factory.mktemp("cohort") / "local"
    code, output = _cli(
        "--model", tiny_run, "--dataset", breast_dataset, "-o", out, "--split", "all",
        "--threads", "1",
    )  # fmt: skip
    assert code == 0, output
    return out


def test_local_one_worker_end_to_end(local_out: Path, tiny_run: Path, breast_dataset: Path) -> None:
    rows = _status(local_out)
    cases = list_cases(breast_dataset, "Tr") + list_cases(breast_dataset, "Ts")
    assert [r["case"] for r in rows] == cases and len(cases) == N_CASES
    assert {r["status"] for r in rows} == {"ok"} and all(r["error"] == "" for r in rows)
    assert all(float(r["seconds"]) > 0 for r in rows)
    masks = _masks(local_out)
    assert sorted(masks) == sorted(f"{c}.nii.gz" for c in cases)
    # the mask is the Predictor's, on the image's grid
    case, split = cases[-1], "Ts"
    image = load_image(image_path(breast_dataset, case, 0, split))
    direct = Predictor.from_run(tiny_run).predict([image])
    assert masks[f"{case}.nii.gz"].shape == image.shape == (32, 32, 32)
    assert np.array_equal(masks[f"{case}.nii.gz"], np.asarray(direct.array))
    assert np.allclose(load_image(local_out / "masks" / f"{case}.nii.gz").affine, image.affine)
    with (local_out / "metrics.csv").open(newline="") as fh:
        metrics = list(csv.DictReader(fh))
    assert [m["case"] for m in metrics] == cases  # one foreground class
    assert {m["class"] for m in metrics} == {"ctv"}
    gt = np.asarray(load_image(breast_dataset / "labelsTs" / f"{case}.nii.gz").array) == 1
    pred = masks[f"{case}.nii.gz"] == 1
    dice = 2 * (pred & gt).sum() / max(1, pred.sum() + gt.sum())
    assert float(metrics[-1]["dice"]) == pytest.approx(dice, abs=1e-4)
    run = _runs(local_out)[0]
    assert (run["cases"], run["skipped"], run["ok"], run["failed"]) == (N_CASES, 0, N_CASES, 0)
    assert run["cases_per_min"] > 0


def test_rerun_of_a_finished_cohort_predicts_nothing(
    local_out: Path, tiny_run: Path, breast_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "copy"
    shutil.copytree(local_out, out)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "masks").iterdir()}
    metrics = (out / "metrics.csv").read_text()
    # a run killed after a mask's rename and before the books: its rows are rebuilt
    rows = _status(out)
    lost = rows[3]["case"]
    with (out / "status.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(r for r in rows if r["case"] != lost)
    (out / "metrics.csv").write_text(
        "".join(ln for ln in metrics.splitlines(True) if not ln.startswith(lost + ","))
    )
    killed = f".{lost}.nii.gz.tmp-0badf00d-12345-abc_1234.nii.gz"  # io.atomic's pattern
    (out / "masks" / killed).write_bytes(b"half")  # a write killed on some machine
    code, output = _cli(
        "--model", tiny_run, "--dataset", breast_dataset, "-o", out, "--split", "all"
    )
    assert code == 0, output
    assert _runs(out)[-1]["skipped"] == N_CASES and _runs(out)[-1]["ok"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "masks").iterdir()} == before
    assert [r["case"] for r in _status(out)] == [r["case"] for r in rows]
    assert (out / "metrics.csv").read_text() == metrics  # rescored from the mask on disk


def test_resume_after_sigkill(tiny_run: Path, breast_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    cmd = [
        sys.executable, "-m", "oncoseg.cli", "predict-cohort", "--model", str(tiny_run),
        "--dataset", str(breast_dataset), "-o", str(out), "--split", "all", "--threads", "1",
    ]  # fmt: skip
    log = tmp_path / "killed.log"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "status.csv").exists() and len(_status(out)) >= 3:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, log.read_text()[-2000:]
    done = {p.name: p.stat().st_mtime_ns for p in (out / "masks").glob("*.nii.gz")}
    assert 3 <= len(done) < N_CASES
    code, output = _cli(
        "--model", tiny_run, "--dataset", breast_dataset, "-o", out, "--split", "all",
        "--threads", "1",
    )  # fmt: skip
    assert code == 0, output
    run = _runs(out)[-1]  # the killed run never wrote its record
    assert (run["skipped"], run["ok"]) == (len(done), N_CASES - len(done))
    after = {p.name: p.stat().st_mtime_ns for p in (out / "masks").iterdir()}
    assert len(after) == N_CASES and all(after[k] == v for k, v in done.items())
    rows = _status(out)
    assert len(rows) == len({r["case"] for r in rows}) == N_CASES
    assert {r["status"] for r in rows} == {"ok"}


def test_a_corrupt_image_fails_alone_and_is_retried(
    tiny_run: Path, breast_dataset: Path, tmp_path: Path
) -> None:
    ds = tmp_path / "ds"
    shutil.copytree(breast_dataset, ds)
    bad, good = list_cases(ds, "Ts")
    img = image_path(ds, bad, 0, "Ts")
    original = img.read_bytes()
    img.write_bytes(b"not a nifti file")
    out = tmp_path / "out"
    code, output = _cli("--model", tiny_run, "--dataset", ds, "-o", out)
    assert code == 1, output
    rows = {r["case"]: r for r in _status(out)}
    assert rows[good]["status"] == "ok" and rows[good]["error"] == ""
    assert rows[bad]["status"] == "failed"
    assert rows[bad]["error"].startswith("ImageReadError") and img.name in rows[bad]["error"]
    assert not (out / "masks" / f"{bad}.nii.gz").exists()
    img.write_bytes(original)  # fixed: a rerun runs the failed case only
    code, output = _cli("--model", tiny_run, "--dataset", ds, "-o", out)
    assert code == 0, output
    assert (_runs(out)[-1]["skipped"], _runs(out)[-1]["ok"]) == (1, 1)
    assert [(r["case"], r["status"]) for r in _status(out)] == [(bad, "ok"), (good, "ok")]


def test_bad_input_exits_2_and_writes_nothing(
    tiny_run: Path, breast_dataset: Path, local_out: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    base = ["--model", tiny_run, "--dataset", breast_dataset, "-o", out]
    cases = [
        (["--model", tiny_run, "--dataset", tmp_path, "-o", out], "dataset.json"),
        (["--model", tmp_path, "--dataset", breast_dataset, "-o", out], "config.yaml: not found"),
        ([*base, "--split", "val"], "--split"),
        ([*base, "--engine", "dask"], "--engine"),
        ([*base, "--address", "auto"], "--address"),
        ([*base, "--workers", "0"], "--workers"),
    ]
    for args, message in cases:
        code, output = _cli(*args)
        assert code == 2 and message in _flat(output) and "Traceback" not in output, output
        assert not out.exists()
    # an output folder of another job (split all) is refused, and left as it was
    before = (local_out / "status.csv").read_text()
    code, output = _cli("--model", tiny_run, "--dataset", breast_dataset, "-o", local_out)
    assert code == 2 and "another -o folder" in _flat(output), output
    assert (local_out / "status.csv").read_text() == before
    with FileLock(str(local_out / ".lock")):
        code, output = _cli(
            "--model", tiny_run, "--dataset", breast_dataset, "-o", local_out, "--split", "all"
        )
    assert code == 2 and "another predict-cohort run" in _flat(output), output


def test_ray_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    from oncoseg.batch.cohort_case import CohortJob
    from oncoseg.batch.ray_engine import run_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails
    with pytest.raises(RuntimeError, match=r"pip install 'oncoseg\[cluster\]'"):
        run_ray(CohortJob(model="m", dataset="d", out="o"), [], 1, print)
    src = Path(__file__).resolve().parents[2] / "src" / "oncoseg"
    top = [
        str(p)
        for p in src.rglob("*.py")
        for line in p.read_text(encoding="utf-8").splitlines()
        if line.startswith(("import ray", "from ray"))  # only inside functions
    ]
    assert not top, top


def _netns_ok() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    res = subprocess.run(
        ["unshare", "--net", "sh", "-c", "ip link set lo up"], capture_output=True, timeout=30
    )
    return res.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray not installed")
def test_ray_two_workers_equal_local(
    local_out: Path, tiny_run: Path, breast_dataset: Path, tmp_path: Path
) -> None:
    """Ray registers the host's address: it runs inside a private network namespace."""
    if not _netns_ok():
        pytest.skip("needs `unshare --net` (root) and `ip` for a private network namespace")
    out = tmp_path / "ray"
    cohort = (
        f"{sys.executable} -m oncoseg.cli predict-cohort --model {tiny_run} "
        f"--dataset {breast_dataset} -o {out} --split all --engine ray --workers 2 --threads 1"
    )
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    res = subprocess.run(
        ["unshare", "--net", "sh", "-c", f"ip link set lo up && exec {cohort}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    run = _runs(out)[0]
    assert (run["engine"], run["workers"], run["ok"], run["failed"]) == ("ray", 2, N_CASES, 0)
    assert [r["case"] for r in _status(out)] == [r["case"] for r in _status(local_out)]
    ray_masks, local_masks = _masks(out), _masks(local_out)
    assert sorted(ray_masks) == sorted(local_masks)
    for name, mask in local_masks.items():
        assert np.array_equal(ray_masks[name], mask), name
    assert (out / "metrics.csv").read_text() == (local_out / "metrics.csv").read_text()
