"""A short clinical day (src/oncoseg/bench/day.py) against real tools we did not write:
Debian's Orthanc (in a private network namespace), dcmtk's storescu, python-hl7's
mllp_send, dciodvfy. Five small studies, one without a note, malformed messages, notes
before and after the images, and the watcher SIGKILLed at three random moments: nothing
lost, nothing duplicated, the note-less study reported and never segmented. The 40-study
day at 512 x 512 x 100 is a documented command (docs/department.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oncoseg.infer.config import load_config
from oncoseg.train.trainer import train

TINY = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.epochs=1", "model.fusion=none"]
MALFORMED = {"not HL7", "unsupported type", "truncated (no OBX)", "not UTF-8", "oversized"}


def _problem() -> str | None:
    for tool in ("Orthanc", "storescu", "unshare", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (apt-get install orthanc dcmtk util-linux iproute2)"
    if not Path(sys.executable).with_name("mllp_send").exists():
        return "python-hl7's mllp_send not installed (pip install hl7)"
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    return (
        f"unshare --net not permitted ({probe.stderr.strip()[:100]})" if probe.returncode else None
    )


def test_short_day_loses_and_duplicates_nothing(breast_dataset: Path, tmp_path: Path) -> None:
    problem = _problem()
    if problem:
        pytest.skip(problem)
    run = tmp_path / "run"
    train(load_config(None, [f"data.dataset={breast_dataset}", f"out={run}", *TINY]))
    work = tmp_path / "day"
    args = [
        "--model",
        str(run),
        "--work",
        str(work),
        "--studies",
        "5",
        "--shape",
        "64,64,16",
        "--no-note",
        "1",
        "--gap",
        "2",
        "--stable-age",
        "1",
        "--kills",
        "3",
        "--timeout",
        "900",
    ]
    res = subprocess.run(
        [sys.executable, "-m", "oncoseg.bench.day", *args],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    day = json.loads((work / "day.json").read_text())
    print(
        {
            k: day[k]
            for k in (
                "latency_from_last_image_s",
                "latency_from_stable_and_note_s",
                "throughput_studies_per_min",
                "wall_s",
            )
        }
    )
    assert (day["with_note"], day["without_note"]) == (4, 1)
    assert day["orders"]["note-first"] >= 1 and day["orders"]["note-after"] >= 1
    assert day["kills"] == 3
    assert (day["lost"], day["duplicated"], day["segmented_without_note"]) == (0, 0, 0)
    assert day["unmatched_reported"] == 1
    acks = dict(day["acks"][i] for i in range(len(day["acks"])) if day["acks"][i][0] != "note")
    assert set(acks) == MALFORMED and all(code in ("AE", "AR") for code in acks.values())
    assert day["orders"]["sr"] == 1  # one note arrives as a DICOM SR in the study
    assert [c for w, c in day["acks"] if w == "note"] == ["AA"] * 3
    assert day["dciodvfy_errors"] == {"SEG": 0, "RTSTRUCT": 0}
    assert len(day["latency_from_last_image_s"]) == 3  # p50, p95, max measured
    # no planted identifier in the note store, the watcher's journal, status or log
    names = ("holloway", "pemberton", "okafor", "lindqvist", "marchetti", "margaret", "evelyn")
    for folder in (work / "store", work / "state"):
        for f in folder.rglob("*"):
            if f.is_file():
                data = f.read_bytes().lower()
                assert b"d0000" not in data and b"acc0000" not in data, f
                assert not any(n.encode() in data for n in names), f
    log = (work / "watcher.log").read_text().lower()
    assert "d0000" not in log and not any(n in log for n in names)
