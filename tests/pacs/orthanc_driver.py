"""Drive a real Orthanc through the bridge; run *inside* a private network namespace.

``python -m tests.pacs.orthanc_driver RUN WORK PORT`` starts Orthanc (Debian's, which
listens on every interface: hence the namespace, DESIGN §8) on 127.0.0.1:PORT with its
storage under WORK, and then:

1. uploads a synthetic CT series (oblique, non-square, uncompressed) and runs
   ``oncoseg orthanc segment --study UID --note FILE``; downloads the SEG and RTSTRUCT
   Orthanc filed in that study and reads them back on the series;
2. uploads two more studies and runs ``--watch --once`` three times (notes folder keyed by
   accession number): the study with a note is segmented once, the one without waits until
   its note appears.

Prints one JSON line of measured facts for tests/pacs/test_orthanc.py to assert on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from oncoseg.cli import app
from oncoseg.infer import Predictor
from oncoseg.io.dicom_seg import read_dicom_seg
from oncoseg.io.dicom_series import read_dicom_series
from oncoseg.io.rtstruct import read_rtstruct
from oncoseg.pacs.orthanc import OrthancClient
from tests.io.conftest import SeriesSpec, write_series

ORTHANC_ID = re.compile(r"[0-9a-f]{8}(-[0-9a-f]{8}){4}")
NOTE = "Left breast cancer, breast conserving surgery, N1."


def start_orthanc(work: Path, port: int) -> subprocess.Popen[bytes]:
    cfg = {
        "Name": "oncoseg-test",
        "StorageDirectory": str(work / "orthanc-db"),
        "IndexDirectory": str(work / "orthanc-db"),
        "HttpPort": port,
        "DicomServerEnabled": False,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "StableAge": 1,
        "Plugins": [],
    }
    (work / "orthanc.json").write_text(json.dumps(cfg))
    log = (work / "orthanc.log").open("wb")
    proc = subprocess.Popen(["Orthanc", str(work / "orthanc.json")], stdout=log, stderr=log)
    pacs = OrthancClient(f"http://127.0.0.1:{port}", timeout=5)
    for _ in range(150):
        try:
            pacs.get("/system")
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("Orthanc did not answer within 30 s; see orthanc.log")


def upload_series(pacs: OrthancClient, folder: Path) -> str:
    answers = [pacs.upload(f) for f in sorted(folder.iterdir())]
    return str(answers[0]["ParentStudy"])


def outputs_in(pacs: OrthancClient, study_id: str, work: Path) -> dict[str, list[Path]]:
    """Modality -> downloaded files of every SEG/RTSTRUCT instance in the study."""
    out: dict[str, list[Path]] = {}
    for s in pacs.get(f"/studies/{study_id}/series"):
        modality = s["MainDicomTags"]["Modality"]
        if modality in ("SEG", "RTSTRUCT"):
            for inst in s["Instances"]:
                path = work / f"{inst}.dcm"
                path.write_bytes(pacs._call("GET", f"/instances/{inst}/file").content)
                out.setdefault(modality, []).append(path)
    return out


def bridge_once(pacs: OrthancClient, run: Path, work: Path) -> dict[str, Any]:
    folder = write_series(work / "ct-a", SeriesSpec(patient_id="P-A", accession="ACC-A"), 1)
    series = read_dicom_series(folder)
    study_id = upload_series(pacs, folder)
    (work / "note.txt").write_text(NOTE)
    args = ["orthanc", "segment", "--url", pacs.url, "--model", str(run)]
    res = CliRunner().invoke(
        app, [*args, "--study", series.study_uid, "--note", str(work / "note.txt")]
    )
    assert res.exit_code == 0, res.output
    stored = [w for w in res.output.split() if ORTHANC_ID.fullmatch(w)]
    found = outputs_in(pacs, study_id, work)
    predictor = Predictor.from_run(run)  # the direct prediction the stored objects must equal
    direct = predictor.predict([series.image], NOTE).array
    labels = {k: v for k, v in predictor.plan.labels.items() if v}
    seg = read_dicom_seg(found["SEG"][0], series)
    rt = read_rtstruct(found["RTSTRUCT"][0], series)
    return {
        "stored": len(stored),
        "series_in_study": sorted(
            s["MainDicomTags"]["Modality"] for s in pacs.get(f"/studies/{study_id}/series")
        ),
        "studies": len(pacs.get("/studies")),
        "foreground": {n: int((direct == v).sum()) for n, v in labels.items()},
        "voxels": int(direct.size),
        "seg_mismatch": {n: int((seg[n] != (direct == v)).sum()) for n, v in labels.items()},
        "rt_mismatch": {n: int((rt[n] != (direct == v)).sum()) for n, v in labels.items()},
        "bad_args": CliRunner().invoke(app, [*args, "--study", "1.2.3.4"]).exit_code,
    }


def wait_stable(pacs: OrthancClient, study_ids: list[str]) -> None:
    for _ in range(100):
        changes = pacs.get("/changes", limit=1000)["Changes"]
        stable = {c["ID"] for c in changes if c["ChangeType"] == "StableStudy"}
        if set(study_ids) <= stable:
            return
        time.sleep(0.2)
    raise RuntimeError("studies did not become stable within 20 s")


def watch_rounds(pacs: OrthancClient, run: Path, work: Path) -> dict[str, Any]:
    notes, state = work / "notes", work / "state.json"
    notes.mkdir()
    (notes / "ACC-B.txt").write_text(NOTE)
    b = upload_series(
        pacs, write_series(work / "ct-b", SeriesSpec(patient_id="P-B", accession="ACC-B"), 2)
    )
    c = upload_series(
        pacs, write_series(work / "ct-c", SeriesSpec(patient_id="P-C", accession="ACC-C"), 3)
    )
    wait_stable(pacs, [b, c])
    args = ["orthanc", "segment", "--url", pacs.url, "--model", str(run), "--watch", "--once"]
    args += ["--notes-dir", str(notes), "--state", str(state)]

    def outputs() -> dict[str, int]:
        return {
            k: len(outputs_in(pacs, s, work / k).get("SEG", [])) for k, s in (("b", b), ("c", c))
        }

    for k in ("b", "c"):
        (work / k).mkdir()
    rounds = []
    first = CliRunner().invoke(app, args)
    rounds.append((first.exit_code, outputs()))
    wait_stable(pacs, [b])  # the bridge's own upload makes B change (and stabilise) again
    time.sleep(1.5)
    second = CliRunner().invoke(app, args)
    rounds.append((second.exit_code, outputs()))
    (notes / "ACC-C.txt").write_text(NOTE)
    third = CliRunner().invoke(app, args)
    rounds.append((third.exit_code, outputs()))
    saved = json.loads(state.read_text())
    return {
        "rounds": rounds,
        "done": sorted(("b" if s == b else "c" if s == c else "a") for s in saved["done"]),
        "waiting_after": len(saved["waiting"]),
        "state_text": state.read_text(),
    }


def main(run: Path, work: Path, port: int) -> None:
    t0 = time.perf_counter()
    proc = start_orthanc(work, port)
    try:
        with OrthancClient(f"http://127.0.0.1:{port}") as pacs:
            t1 = time.perf_counter()
            facts = {"once": bridge_once(pacs, run, work)}
            t2 = time.perf_counter()
            facts["watch"] = watch_rounds(pacs, run, work)
            t3 = time.perf_counter()
            facts["seconds"] = {"start": t1 - t0, "once": t2 - t1, "watch": t3 - t2}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print("FACTS " + json.dumps(facts))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
