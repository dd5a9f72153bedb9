"""Load and crash tests of ``oncoseg serve`` as a separate process on loopback (slow).

``test_load_32_clients_against_max_queue_8``: 32 clients each upload a phantom case, meet at
a barrier, then ask for segmentation at once against ``--max-queue 8``. Every request must
get 201/202 or 503 (none hangs, none 500s); refused clients retry after ``Retry-After``
until accepted; every accepted job must finish with a mask equal to a direct
``Predictor.predict`` call. The server's peak RSS is its kernel high-water mark (VmHWM).
The figures go to ``test-artefacts/load.json`` (docs/performance.md quotes them).

``test_kill_9_then_restart_serves_the_result``: the server process is killed (SIGKILL)
after a job finished; a new one on the same ``--data`` serves the same result.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import requests

from oncoseg.io.image import load_image
from tests.serve.test_api import wait_job

ARTEFACTS = Path(
    os.environ.get("ONCOSEG_TEST_ARTEFACTS", Path(__file__).resolve().parents[2] / "test-artefacts")
)
CLIENTS, MAX_QUEUE = 32, 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def oncoseg_serve(run: Path, data: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen]]:  # type: ignore[type-arg]
    """``oncoseg serve`` in a child process; yields its URL and the process."""
    port = _free_port()
    script = Path(sys.executable).parent / "oncoseg"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "oncoseg.cli"]
    log = (data.parent / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        [*cmd, "serve", "--model", str(run), "--port", str(port), "--data", str(data), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert proc.poll() is None, (data.parent / f"serve-{port}.log").read_text()
            try:
                if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "oncoseg serve did not start"
            time.sleep(0.2)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _client(url: str, image: Path, barrier: threading.Barrier, log: list[dict]) -> dict:  # type: ignore[type-arg]
    """One client: upload, wait for the others, ask for a job until accepted (bounded)."""
    t0 = time.perf_counter()
    files = {"image": ("ct.nii.gz", image.read_bytes())}
    res = requests.post(f"{url}/api/cases", files=files, data={"note": "N2"}, timeout=120)
    log.append({"kind": "upload", "status": res.status_code, "s": time.perf_counter() - t0})
    assert res.status_code == 201, res.text
    case_id = res.json()["case_id"]
    barrier.wait(timeout=600)
    for attempt in range(200):
        t0 = time.perf_counter()
        res = requests.post(f"{url}/api/cases/{case_id}/segment", json={}, timeout=120)
        took = time.perf_counter() - t0
        log.append({"kind": "segment", "attempt": attempt, "status": res.status_code, "s": took})
        assert res.status_code in (202, 503), res.text
        if res.status_code == 202:
            return {"image": image, "job_id": res.json()["job_id"], "accepted": time.monotonic()}
        time.sleep(int(res.headers["Retry-After"]))
    raise AssertionError("never accepted")


@pytest.mark.slow
def test_load_32_clients_against_max_queue_8(
    tiny_run: Path, breast_dataset: Path, tmp_path: Path
) -> None:
    from oncoseg.infer import Predictor

    images = sorted((breast_dataset / "imagesTr").glob("*_0000.nii.gz"))[:4]
    log: list[dict] = []  # type: ignore[type-arg]
    barrier = threading.Barrier(CLIENTS)
    t_start = time.perf_counter()
    with oncoseg_serve(tiny_run, tmp_path / "data", "--max-queue", str(MAX_QUEUE)) as (url, proc):
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [
                pool.submit(_client, url, images[i % len(images)], barrier, log)
                for i in range(CLIENTS)
            ]
            accepted = [f.result(timeout=900) for f in futures]
        turnaround, run_s = [], []
        for a in accepted:
            job = wait_job(url, a["job_id"], timeout=900)
            assert job["status"] == "done", job
            turnaround.append(job["finished"] - job["created"])
            run_s.append(job["finished"] - job["started"])
            got = requests.get(url + job["result"]["files"]["mask.nii.gz"], timeout=30)
            (tmp_path / f"{a['job_id']}.nii.gz").write_bytes(got.content)
        peak_mb = _peak_rss_mb(proc.pid)
        health = requests.get(f"{url}/healthz", timeout=10).json()
    wall = time.perf_counter() - t_start
    predictor = Predictor.from_run(tiny_run)
    direct = {p: predictor.predict([load_image(p)]).array for p in images}
    for a in accepted:
        served = load_image(tmp_path / f"{a['job_id']}.nii.gz").array
        assert np.array_equal(served, direct[a["image"]])

    seg = [r for r in log if r["kind"] == "segment"]
    first_wave = [r for r in seg if r["attempt"] == 0]  # all 32 at once, after the barrier
    assert all(r["status"] in (201, 202, 503) for r in log)
    assert health["queue"]["waiting"] == 0
    lat = np.array([r["s"] for r in log])
    figures = {
        "clients": CLIENTS,
        "max_queue": MAX_QUEUE,
        "requests": len(log),
        "uploads_201": sum(r["status"] == 201 for r in log),
        "segment_202": sum(r["status"] == 202 for r in seg),
        "segment_503": sum(r["status"] == 503 for r in seg),
        "first_wave_503": sum(r["status"] == 503 for r in first_wave),
        "jobs_done": len(accepted),
        "jobs_lost": CLIENTS - len(accepted),
        "latency_p50_s": round(float(np.percentile(lat, 50)), 3),
        "latency_p95_s": round(float(np.percentile(lat, 95)), 3),
        "latency_max_s": round(float(lat.max()), 3),
        "job_turnaround_p50_s": round(float(np.percentile(turnaround, 50)), 3),
        "job_turnaround_p95_s": round(float(np.percentile(turnaround, 95)), 3),
        "job_run_p50_s": round(float(np.percentile(run_s, 50)), 3),
        "server_peak_rss_mb": round(peak_mb, 1),
        "wall_s": round(wall, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    assert figures["jobs_lost"] == 0 and figures["segment_202"] == CLIENTS
    assert figures["first_wave_503"] >= 1  # the cap was reached, and answered with 503
    assert peak_mb < 2048  # bounded: one model, jobs run one at a time


@pytest.mark.slow
def test_kill_9_then_restart_serves_the_result(
    tiny_run: Path, breast_dataset: Path, tmp_path: Path
) -> None:
    image = sorted((breast_dataset / "imagesTs").glob("*_0000.nii.gz"))[0]
    data = tmp_path / "data"
    with oncoseg_serve(tiny_run, data) as (url, proc):
        files = {"image": ("ct.nii.gz", image.read_bytes())}
        case_id = requests.post(f"{url}/api/cases", files=files, timeout=60).json()["case_id"]
        job_id = requests.post(f"{url}/api/cases/{case_id}/segment", timeout=60).json()["job_id"]
        job = wait_job(url, job_id, timeout=300)
        before = requests.get(url + job["result"]["files"]["mask.nii.gz"], timeout=30).content
        proc.kill()  # SIGKILL: no shutdown handler runs
        proc.wait(30)
    with oncoseg_serve(tiny_run, data) as (url, _):
        assert requests.get(f"{url}/api/jobs/{job_id}", timeout=30).json()["status"] == "done"
        after = requests.get(url + job["result"]["files"]["mask.nii.gz"], timeout=30)
        assert after.status_code == 200 and after.content == before
