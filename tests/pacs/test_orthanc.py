"""The PACS bridge against a real Orthanc (Debian package ``orthanc``), started inside a
private network namespace (``unshare --net``, loopback up) because Debian's Orthanc 1.10 has
no bind-address setting and would listen on every interface (DESIGN §8). The work runs in
tests/pacs/orthanc_driver.py; this test starts it there and asserts on what it measured."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from oncoseg.infer.config import load_config
from oncoseg.pacs.orthanc import (
    OrthancClient,
    OrthancError,
    Watcher,
    WatchState,
    note_for,
    watch,
)
from oncoseg.train.trainer import train

ROOT = Path(__file__).resolve().parents[2]
TINY = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.epochs=1", "model.fusion=none"]


def _namespace_problem() -> str | None:
    """Why a private network namespace with Orthanc cannot be had here (None: it can)."""
    for tool in ("Orthanc", "unshare", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install orthanc util-linux iproute2)"
    probe = subprocess.run(
        ["unshare", "--net", "ip", "link", "set", "lo", "up"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"unshare --net not permitted here ({probe.stderr.strip()[:120]})"
    return None


def test_bridge_stores_seg_and_rtstruct_in_the_study(breast_dataset: Path, tmp_path: Path) -> None:
    problem = _namespace_problem()
    if problem:
        pytest.skip(problem)
    run = tmp_path / "run"
    t0 = time.perf_counter()
    train(load_config(None, [f"data.dataset={breast_dataset}", f"out={run}", *TINY]))
    print(f"training: {time.perf_counter() - t0:.1f} s")
    work = tmp_path / "work"
    work.mkdir()
    driver = f"{sys.executable} -m tests.pacs.orthanc_driver {run} {work} 8042"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    res = subprocess.run(
        ["unshare", "--net", "bash", "-c", f"ip link set lo up && exec {driver}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("FACTS ")]
    assert res.returncode == 0 and lines, (res.stdout + res.stderr)[-4000:]
    facts = json.loads(lines[-1][len("FACTS ") :])
    once, watch = facts["once"], facts["watch"]
    print(json.dumps(once), watch["rounds"], facts["seconds"])
    # SEG and RTSTRUCT landed in the source study, next to the CT, and equal the prediction
    assert once["stored"] == 2 and once["series_in_study"] == ["CT", "RTSTRUCT", "SEG"]
    assert once["studies"] == 1  # no new study was made
    assert all(0 < n < once["voxels"] for n in once["foreground"].values()), once["foreground"]
    assert set(once["seg_mismatch"].values()) == {0} and set(once["rt_mismatch"].values()) == {0}
    assert once["bad_args"] == 2  # an unknown study UID: clear error, exit 2
    # --watch: B (note present) once, C when its note appears, A (no note) keeps waiting
    assert watch["rounds"] == [[0, {"b": 1, "c": 0}], [0, {"b": 1, "c": 0}], [0, {"b": 1, "c": 1}]]
    assert watch["done"] == ["b", "c"] and watch["waiting_after"] == 1
    assert "ACC-" not in watch["state_text"] and "P-B" not in watch["state_text"]


def test_client_errors_are_one_line(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/tools/lookup":
            return httpx.Response(200, json=[])
        return httpx.Response(401)

    pacs = OrthancClient("http://pacs", transport=httpx.MockTransport(handler))
    with pytest.raises(OrthancError, match="no study with the given Study Instance UID"):
        pacs.find_study("1.2.3")
    with pytest.raises(OrthancError, match=r"GET /system answered HTTP 401"):
        pacs.get("/system")
    bad = tmp_path / "state.json"
    bad.write_text("{}")
    with pytest.raises(OrthancError, match="not a watch state file"):
        WatchState.read(bad)
    (tmp_path / "ACC9.txt").write_text("note")
    assert note_for(tmp_path, "ACC9") == "note"
    assert note_for(tmp_path, "../ACC9") is None and note_for(tmp_path, "") is None


def test_watcher_records_a_failed_study_once_and_keeps_going(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/changes":
            since = int(request.url.params["since"])
            changes = [{"ChangeType": "StableStudy", "ID": "gone-study", "Seq": 1}]
            return httpx.Response(
                200, json={"Changes": changes if since == 0 else [], "Done": True, "Last": 1}
            )
        return httpx.Response(404)

    pacs = OrthancClient("http://pacs", transport=httpx.MockTransport(handler))
    state = tmp_path / "state.json"
    watcher = Watcher(pacs, None, tmp_path, state)  # type: ignore[arg-type]
    assert watch(watcher, polls=2, sleep=lambda _: None) == 1
    saved = json.loads(state.read_text())
    assert saved["since"] == 1 and list(saved["done"]) == ["gone-study"]
    assert (
        saved["done"]["gone-study"].startswith("failed: ")
        and "HTTP 404" in saved["done"]["gone-study"]
    )
    assert calls.count("/studies/gone-study") == 1  # not retried on the second poll
    assert Watcher(pacs, None, tmp_path, state).state.since == 1  # type: ignore[arg-type]
