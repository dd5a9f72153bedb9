"""The department watcher against an in-memory PACS (the real Orthanc runs in test_day.py):
notes matched by accession then MRN + date, a study without a note reported and never
segmented, ambiguous notes never guessed, and a crash between the two uploads followed by a
restart that stores the missing object only (exactly once)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from oncoseg.io.image import Image
from oncoseg.pacs.journal import Journal
from oncoseg.pacs.notes_store import NoteStore
from oncoseg.pacs.orthanc import OrthancError
from oncoseg.pacs.watcher import DepartmentWatcher, WatchConfig, run_watch
from tests.io.conftest import SeriesSpec, write_series

pytest.importorskip("highdicom")


@dataclass
class _Plan:
    channel_names: dict[str, str]
    labels: dict[str, int]


class FakeModel:
    """Marks a box; records the notes it was given."""

    uses_text = True
    plan = _Plan({"0": "CT"}, {"background": 0, "ctv": 1})

    def __init__(self) -> None:
        self.notes: list[str] = []

    def predict(self, images: Sequence[Image], note: str = "", note_source: str = "") -> Image:
        self.notes.append(note)
        mask = np.zeros(images[0].shape, np.uint8)
        mask[4:12, 5:14, 2:7] = 1
        return Image(mask, images[0].affine)


class Crash(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


class FakePacs:
    """The few Orthanc calls the watcher makes, over folders of DICOM files."""

    def __init__(self, root: Path) -> None:
        self.root, self.studies, self.changes = root, {}, []  # type: ignore[var-annotated]
        self.uploads: list[tuple[str, str]] = []
        self.crash_after_uploads: int | None = None

    def add_study(self, sid: str, folder: Path) -> None:
        ds = pydicom.dcmread(next(folder.iterdir()))
        self.studies[sid] = {"tags": ds, "series": {f"{sid}-ct": ("CT", "CT", folder)}}
        self.changes.append({"ChangeType": "StableStudy", "ID": sid})

    def get(self, path: str, **params: Any) -> Any:
        parts = path.strip("/").split("/")
        if parts == ["changes"]:
            since = int(params.get("since", 0))
            page = self.changes[since : since + int(params.get("limit", 100))]
            return {"Changes": page, "Last": since + len(page), "Done": True}
        study = self.studies.get(parts[1])
        if study is None:
            raise OrthancError("404")
        if len(parts) == 2:
            ds = study["tags"]
            return {
                "MainDicomTags": {"AccessionNumber": ds.AccessionNumber, "StudyDate": ds.StudyDate},
                "PatientMainDicomTags": {"PatientID": ds.PatientID},
            }
        return [
            {"ID": k, "MainDicomTags": {"Modality": m, "SeriesDescription": d}, "Instances": ["i"]}
            for k, (m, d, _) in study["series"].items()
        ]

    def download_series(self, series_id: str, folder: Path) -> Path:
        sid = series_id.rsplit("-", 1)[0]
        return Path(shutil.copytree(self.studies[sid]["series"][series_id][2], folder / "s"))

    def upload(self, path: Path) -> dict[str, Any]:
        ds = pydicom.dcmread(path)
        sid = next(
            k for k, v in self.studies.items() if v["tags"].StudyInstanceUID == ds.StudyInstanceUID
        )
        self.studies[sid]["series"][f"{sid}-{ds.Modality}"] = (
            ds.Modality,
            str(ds.SeriesDescription),
            path.parent,
        )
        self.uploads.append((sid, str(ds.Modality)))
        if len(self.uploads) == self.crash_after_uploads:  # stored, then killed
            raise Crash()
        return {"ID": f"{sid}-{ds.Modality}", "ParentStudy": sid, "Status": "Success"}


def _setup(tmp_path: Path) -> tuple[FakePacs, NoteStore]:
    pacs = FakePacs(tmp_path)
    for sid, pid, acc in (
        ("s1", "P1", "A1"),
        ("s2", "P2", ""),
        ("s3", "P3", "A3"),
        ("s4", "P4", ""),
    ):
        spec = SeriesSpec(patient_id=pid, accession=acc, slices=8)
        pacs.add_study(sid, write_series(tmp_path / sid, spec))
    store = NoteStore(tmp_path / "store", salt=b"test")
    store.put("Left breast, N1.", source="hl7", mrn="P1", accession="A1", date="20240101")
    store.put("Right breast, N0.", source="hl7", mrn="P2", date="20240101")  # by MRN + date
    store.put("Other study's note.", source="hl7", mrn="P3", accession="A-OTHER", date="20240101")
    store.put("Left, N2.", source="hl7", mrn="P4", date="20240101")
    store.put("Right, N0.", source="hl7", mrn="P4", date="20240101")  # two fit: ambiguous
    return pacs, store


def _watcher(
    pacs: FakePacs, store: NoteStore, tmp_path: Path, model: FakeModel
) -> DepartmentWatcher:
    return DepartmentWatcher(
        pacs,
        model,
        store,
        Journal(tmp_path / "journal.sqlite"),  # type: ignore[arg-type]
        tmp_path / "status.json",
        WatchConfig(note_timeout=0.0),
    )


def test_matching_reporting_and_exactly_once_after_a_crash(tmp_path: Path) -> None:
    pacs, store = _setup(tmp_path)
    model = FakeModel()
    pacs.crash_after_uploads = 1  # killed after s1's SEG is stored, before its RTSTRUCT
    with pytest.raises(Crash):
        run_watch(_watcher(pacs, store, tmp_path, model), polls=1)
    assert pacs.uploads == [("s1", "SEG")]
    pacs.crash_after_uploads = None
    restarted = _watcher(pacs, store, tmp_path, model)
    assert run_watch(restarted, polls=2, sleep=lambda s: None) == 2
    # s1: the RTSTRUCT only (its SEG was already there); s2 matched by MRN + date
    assert sorted(pacs.uploads) == [
        ("s1", "RTSTRUCT"),
        ("s1", "SEG"),
        ("s2", "RTSTRUCT"),
        ("s2", "SEG"),
    ]
    assert model.notes == ["Left breast, N1.", "Left breast, N1.", "Right breast, N0."]
    status = json.loads((tmp_path / "status.json").read_text())
    states = {s["study"]: s["state"] for s in status["studies"]}
    # s3's only note belongs to another accession: not taken; s4 has two candidate notes
    assert states == {"s1": "done", "s2": "done", "s3": "no-note", "s4": "ambiguous"}
    # once done, later polls (and the PACS's own change events) store nothing more
    pacs.changes.append({"ChangeType": "StableStudy", "ID": "s1"})
    run_watch(restarted, polls=1)
    assert len(pacs.uploads) == 4
    # a note arriving late for a reported study is still used
    store.put("Left, N1.", source="hl7", mrn="P3", accession="A3", date="20240101")
    assert run_watch(restarted, polls=1) == 1 and ("s3", "SEG") in pacs.uploads


def test_restart_with_both_outputs_stored_sends_nothing(tmp_path: Path) -> None:
    pacs, store = _setup(tmp_path)
    model = FakeModel()
    pacs.crash_after_uploads = 2  # both of s1's objects stored, killed before "done"
    with pytest.raises(Crash):
        run_watch(_watcher(pacs, store, tmp_path, model), polls=1)
    pacs.crash_after_uploads = None
    run_watch(_watcher(pacs, store, tmp_path, model), polls=2)
    assert sorted(u for u in pacs.uploads if u[0] == "s1") == [("s1", "RTSTRUCT"), ("s1", "SEG")]
    assert len(model.notes) == 2  # s1 once before the kill, s2 once after; s1 not again
    journal = Journal(tmp_path / "journal.sqlite")
    row = journal.get("s1")
    assert row is not None and row.state == "done" and "already in the PACS" in row.detail


def test_result_message_goes_to_the_emr(tmp_path: Path) -> None:
    """ORU^R01 back over MLLP, read by hl7apy (an independent parser); ACK AA recorded."""
    import socket
    import threading

    from hl7apy.parser import parse_message

    from oncoseg.pacs.hl7 import build_ack
    from oncoseg.pacs.mllp import EB, SB, Framer

    got: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def emr() -> None:
        conn, _ = server.accept()
        with conn:
            framer, frames = Framer(), []
            while not frames:
                frames = framer.feed(conn.recv(65536))
            got.append(frames[0].data)
            conn.sendall(SB + build_ack(frames[0].data, "AA").encode() + EB + b"\r")

    thread = threading.Thread(target=emr, daemon=True)
    thread.start()
    pacs, store = _setup(tmp_path)
    watcher = _watcher(pacs, store, tmp_path, FakeModel())
    watcher.config.result_to = ("127.0.0.1", server.getsockname()[1])
    assert run_watch(watcher, polls=1) == 1
    thread.join(10)
    server.close()
    oru = parse_message(got[0].decode(), find_groups=False)
    assert oru.msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
    assert oru.pid.pid_3.to_er7().split("^")[0] == "P1" and oru.obr.obr_3.to_er7() == "A1"
    volume = float(oru.obx[0].obx_5.to_er7())
    assert oru.obx[0].obx_6.to_er7() == "mL" and volume == pytest.approx(
        8 * 9 * 5 * 0.8 * 1.3 * 2.5 / 1000, abs=0.005
    )
    row = watcher.journal.get("s1")
    assert row is not None and row.state == "done" and row.result_sent
