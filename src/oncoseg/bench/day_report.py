"""The day's tallies: outputs found in the PACS, latencies, counts (see :mod:`.day`)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from oncoseg.bench.day_data import DayStudy

if TYPE_CHECKING:
    from oncoseg.bench.day import DayConfig, _Clock


def finished(cfg: DayConfig, plan: list[tuple[float, DayStudy, str]], clock: _Clock) -> bool:
    need = [s.index for _, s, k in plan if k != "none"]
    if not all(len(clock.outputs.get(i, {})) == 2 for i in need):
        return False
    status = cfg.work / "state" / "status.json"
    if not status.exists():
        return False
    counts = json.loads(status.read_text()).get("counts", {})
    return int(counts.get("no-note", 0)) >= sum(k == "none" for _, _, k in plan)


def count_outputs(cfg: DayConfig, studies: list[DayStudy]) -> dict[int, dict[str, int]]:
    from oncoseg.pacs.orthanc import OrthancClient

    found: dict[int, dict[str, int]] = {}
    with OrthancClient(f"http://127.0.0.1:{cfg.ports[0]}", timeout=60) as pacs:
        for s in studies:
            sid = pacs.find_study(s.study_uid)
            counts = {"SEG": 0, "RTSTRUCT": 0}
            for series in pacs.get(f"/studies/{sid}/series"):
                mod = series["MainDicomTags"].get("Modality")
                if mod in counts:
                    counts[mod] += len(series["Instances"])
            found[s.index] = counts
            if s.index == 0 or "check" not in found:  # dciodvfy one study with outputs
                _dciodvfy(pacs, sid, cfg.work / "check", found)
    return found


def _dciodvfy(pacs: Any, study_id: str, folder: Path, found: dict[Any, Any]) -> None:
    tool = shutil.which("dciodvfy") or str(Path(sys.executable).with_name("dciodvfy"))
    errors = {}
    for series in pacs.get(f"/studies/{study_id}/series"):
        mod = series["MainDicomTags"].get("Modality")
        if mod not in ("SEG", "RTSTRUCT") or not series["Instances"]:
            continue
        folder.mkdir(exist_ok=True)
        path = folder / f"{mod}.dcm"
        path.write_bytes(pacs._call("GET", f"/instances/{series['Instances'][0]}/file").content)
        out = subprocess.run([tool, str(path)], capture_output=True, text=True)
        errors[mod] = sum(ln.startswith("Error") for ln in (out.stdout + out.stderr).splitlines())
    if len(errors) == 2:
        found["check"] = errors


def summary(
    cfg: DayConfig,
    plan: list[tuple[float, DayStudy, str]],
    clock: _Clock,
    outputs: dict[Any, Any],
    wall: float,
) -> dict[str, Any]:
    with_note = [s.index for _, s, k in plan if k != "none"]
    without = [s.index for _, s, k in plan if k == "none"]
    done_t = {
        i: max(clock.outputs[i].values()) for i in with_note if len(clock.outputs.get(i, {})) == 2
    }
    from_image = [done_t[i] - clock.stored[i] for i in done_t]
    ready = {i: max(clock.stored[i] + cfg.stable_age, clock.noted.get(i, 0.0)) for i in done_t}
    from_ready = [done_t[i] - ready[i] for i in done_t]

    def pct(v: list[float]) -> dict[str, float]:
        return (
            {
                "p50": round(float(np.percentile(v, 50)), 2),
                "p95": round(float(np.percentile(v, 95)), 2),
                "max": round(float(max(v)), 2),
            }
            if v
            else {}
        )

    span = (max(done_t.values()) - min(clock.stored.values())) if done_t else 0.0
    return {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "studies": len(plan),
        "with_note": len(with_note),
        "without_note": len(without),
        "orders": {
            k: sum(o == k for _, _, o in plan) for k in ("note-first", "note-after", "sr", "none")
        },
        "latency_from_last_image_s": pct(from_image),
        "latency_from_stable_and_note_s": pct(from_ready),
        "stable_wait_s": cfg.stable_age,
        "throughput_studies_per_min": round(60 * len(done_t) / span, 2) if span else 0.0,
        "lost": sum(outputs[i]["SEG"] == 0 or outputs[i]["RTSTRUCT"] == 0 for i in with_note),
        "duplicated": sum(outputs[i]["SEG"] > 1 or outputs[i]["RTSTRUCT"] > 1 for i in with_note),
        "unmatched_reported": _reported_no_note(cfg),
        "segmented_without_note": sum(
            outputs[i]["SEG"] + outputs[i]["RTSTRUCT"] > 0 for i in without
        ),
        "acks": clock.acks,
        "kills": len(clock.kills),
        "dciodvfy_errors": outputs.get("check", {}),
        "wall_s": round(wall, 1),
    }


def _reported_no_note(cfg: DayConfig) -> int:
    db = sqlite3.connect(cfg.work / "state" / "journal.sqlite")
    try:
        return int(db.execute("SELECT COUNT(*) FROM studies WHERE state = 'no-note'").fetchone()[0])
    finally:
        db.close()
