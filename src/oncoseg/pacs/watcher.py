"""The department watcher: stable studies from Orthanc -> their notes -> the prediction
pipeline -> DICOM-SEG and RTSTRUCT back into the same study (-> an HL7 ORU^R01 result).

One poll:

1. read Orthanc's ``/changes`` from the journal's cursor; each ``StableStudy`` is recorded
   (``waiting``) together with the new cursor, in one transaction;
2. for every open study, find its note in the :class:`NoteStore`: by accession number first,
   then by MRN and study date (notes that name no accession number only). If none is there
   yet, a text SR in the study and (when configured) the FHIR server are read into the
   store. A study without a note waits ``note_timeout`` seconds and is then reported
   (``no-note`` in the status file); several notes that fit are reported (``ambiguous``);
   nothing is ever guessed;
3. the oldest ready study (one per poll) is marked ``running`` (committed), its series is
   downloaded and segmented by :func:`oncoseg.infer.pipeline.run_prediction` (predict ->
   outputs -> side check -> volumes -> provenance), and the SEG and RTSTRUCT are uploaded;
   it is marked ``done`` only after both are stored. A study found ``running`` (the watcher
   was killed) is first looked up in the PACS: outputs already there are not sent again, so
   killed at any moment and restarted, the watcher stores each object exactly once;
4. optionally an ORU^R01 with the volumes goes to the EMR over MLLP (at least once: a kill
   between sending and recording it sends it again);
5. the status file (JSON, atomic) lists every study's state.

No ML here: all segmentation is :func:`run_prediction`'s. Logs and the status file name
studies by a prefix of Orthanc's ID; no patient identity is logged or written.
"""

from __future__ import annotations

import io
import logging
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from oncoseg.infer.pipeline import PredictionResult, SegmentModel, run_prediction
from oncoseg.io.atomic import write_json
from oncoseg.io.dicom_series import read_dicom_series
from oncoseg.pacs.hl7_result import build_result
from oncoseg.pacs.journal import OPEN, Journal, StudyRow
from oncoseg.pacs.mllp import send_message
from oncoseg.pacs.notes_store import AmbiguousNote, NoteRecord, NoteStore
from oncoseg.pacs.orthanc import OrthancClient, OrthancError, choose_series, watch

log = logging.getLogger(__name__)
OUTPUTS = {"SEG": "dicom-seg", "RTSTRUCT": "rtstruct"}  # modality -> pipeline format
OWN_SERIES = "oncoseg"  # SeriesDescription prefix of the objects the pipeline writes


@dataclass
class WatchConfig:
    """How the watcher behaves."""

    note_timeout: float = 600.0  # seconds a stable study waits for its note, then reported
    max_attempts: int = 3  # failed predictions/uploads of one study before it is given up
    result_to: tuple[str, int] | None = None  # host, port of the EMR's MLLP result listener
    fhir_url: str = ""  # FHIR R4 base URL asked for notes ("" : not asked)
    fhir_system: str = ""  # identifier system of the MRN on the FHIR server
    run_name: str = ""  # the model's training run, recorded in the DICOM outputs


class DepartmentWatcher:
    """Watches one Orthanc for one model (see the module docstring)."""

    def __init__(
        self,
        pacs: OrthancClient,
        predictor: SegmentModel,
        store: NoteStore,
        journal: Journal,
        status_path: Path,
        config: WatchConfig | None = None,
    ) -> None:
        self.pacs, self.predictor, self.store, self.journal = pacs, predictor, store, journal
        self.status_path, self.config = Path(status_path), config or WatchConfig()
        self._sr_read: set[str] = set()  # studies whose SR series were read this run
        self.pending = 0  # studies ready after the last poll's one
        names = predictor.plan.channel_names
        if len(names) != 1:
            raise ValueError(f"the watcher segments one series; this model needs {len(names)}")
        self.modality = "CT" if next(iter(names.values())).upper() == "CT" else "MR"

    # 1. changes -------------------------------------------------------------------------
    def read_changes(self) -> int:
        """Record the studies that became stable since the cursor; returns how many."""
        seen, done = 0, False
        while not done:
            page = self.pacs.get("/changes", since=self.journal.since, limit=200)
            stable = [str(c["ID"]) for c in page["Changes"] if c["ChangeType"] == "StableStudy"]
            self.journal.add_stable(stable, int(page["Last"]))
            seen, done = seen + len(stable), bool(page["Done"])
        return seen

    # 2. notes ---------------------------------------------------------------------------
    def _sr_notes(self, study_id: str) -> None:
        import pydicom

        from oncoseg.pacs.sr_note import store_sr_note

        if study_id in self._sr_read:
            return
        self._sr_read.add(study_id)
        for series in self.pacs.get(f"/studies/{study_id}/series"):
            if series["MainDicomTags"].get("Modality") != "SR":
                continue
            for instance in series["Instances"]:
                data = self.pacs._call("GET", f"/instances/{instance}/file").content
                try:
                    record = store_sr_note(self.store, pydicom.dcmread(io.BytesIO(data)))
                    log.info("study %s: note read from its SR (%s)", study_id[:8], record.key[:16])
                except ValueError as exc:  # not a text SR, or no text in it
                    log.info("study %s: SR without a note: %s", study_id[:8], exc)

    def find_note(self, study_id: str, tags: dict[str, Any]) -> NoteRecord | None:
        """The study's note, or None; :class:`AmbiguousNote` when several fit."""
        keys = {"accession": tags["accession"], "mrn": tags["mrn"], "date": tags["date"]}
        note = self.store.find(**keys)
        if note is None:
            self._sr_notes(study_id)
            if self.config.fhir_url and tags["mrn"]:
                from oncoseg.pacs.fhir import FhirError, store_fhir_notes

                try:
                    store_fhir_notes(
                        self.store,
                        self.config.fhir_url,
                        mrn=tags["mrn"],
                        system=self.config.fhir_system,
                        accession=tags["accession"],
                    )
                except FhirError as exc:
                    log.warning("study %s: FHIR not read: %s", study_id[:8], exc)
            note = self.store.find(**keys)
        return note

    # 3. segment -------------------------------------------------------------------------
    def stored_outputs(self, study_id: str) -> set[str]:
        """Modalities (SEG, RTSTRUCT) of this tool's objects already in the study."""
        return {
            str(s["MainDicomTags"].get("Modality"))
            for s in self.pacs.get(f"/studies/{study_id}/series")
            if str(s["MainDicomTags"].get("SeriesDescription", "")).startswith(OWN_SERIES)
            and s["MainDicomTags"].get("Modality") in OUTPUTS
        }

    def segment(self, study_id: str, note: str) -> tuple[str, PredictionResult | None]:
        """Segment the study and store what is missing of SEG and RTSTRUCT."""
        have = self.stored_outputs(study_id)
        if set(OUTPUTS) <= have:
            return "SEG and RTSTRUCT already in the PACS (stored before a restart)", None
        series_id = choose_series(self.pacs, study_id, self.modality)
        with tempfile.TemporaryDirectory(prefix="oncoseg-watch-") as tmp:
            series = read_dicom_series(self.pacs.download_series(series_id, Path(tmp)))
            formats = tuple(fmt for mod, fmt in OUTPUTS.items() if mod not in have)
            result = run_prediction(
                self.predictor,
                [series.image],
                note=note,
                out=Path(tmp) / "out",
                name="oncoseg",
                formats=formats,
                series=series,
                run_name=self.config.run_name,
                note_source="the study's note",
            )
            for path in result.files:
                answer = self.pacs.upload(path)
                if answer.get("ParentStudy") != study_id:
                    raise OrthancError(f"{path.name} landed outside study {study_id[:8]}")
        detail = f"stored {', '.join(formats)}; {result.volume_ml:.1f} ml"
        if result.warning:
            detail += f"; side check: {result.warning}"
            log.warning("study %s: %s", study_id[:8], result.warning)
        return detail, result

    def _tags(self, study_id: str) -> dict[str, Any]:
        study = self.pacs.get(f"/studies/{study_id}")
        main, patient = study.get("MainDicomTags", {}), study.get("PatientMainDicomTags", {})
        return {
            "accession": str(main.get("AccessionNumber", "")).strip(),
            "date": str(main.get("StudyDate", "")).strip()[:8],
            "mrn": str(patient.get("PatientID", "")).strip(),
        }

    def ready(self, row: StudyRow) -> tuple[dict[str, Any], NoteRecord] | None:
        """The study's tags and note when it can be segmented now; else None (and the
        study reported as no-note, ambiguous or failed where that is what it is)."""
        try:
            tags = self._tags(row.study)
        except OrthancError:
            self.journal.set_state(row.study, "failed", "the study is no longer in the PACS")
            return None
        try:
            note = self.find_note(row.study, tags)
        except AmbiguousNote as exc:
            self.journal.set_state(row.study, "ambiguous", str(exc))
            return None
        if note is None:
            waited = time.time() - row.stable_at
            if row.state == "waiting" and waited > self.config.note_timeout:
                self.journal.set_state(row.study, "no-note", f"no note after {waited:.0f} s")
                log.warning("study %s: no note after %.0f s (reported)", row.study[:8], waited)
            return None
        if row.attempts >= self.config.max_attempts:
            self.journal.set_state(
                row.study, "failed", f"gave up after {row.attempts} attempts; last: {row.detail}"
            )
            return None
        return tags, note

    def process(self, row: StudyRow, tags: dict[str, Any], note: NoteRecord) -> bool:
        """Segment one ready study and store its outputs; True when it is done."""
        self.journal.set_state(row.study, "running", "started", attempt=True)
        try:
            detail, result = self.segment(row.study, note.text)
        except (OrthancError, ValueError, OSError, zipfile.BadZipFile) as exc:
            self.journal.set_state(row.study, "running", f"attempt failed: {exc}")
            log.warning("study %s: attempt %d failed: %s", row.study[:8], row.attempts + 1, exc)
            return False
        self.journal.set_state(row.study, "done", detail)
        log.info("study %s: %s", row.study[:8], detail)
        if self.config.result_to is not None:
            self._send_result(row.study, tags, result)
        return True

    # 4. result --------------------------------------------------------------------------
    def _send_result(
        self, study_id: str, tags: dict[str, Any], result: PredictionResult | None
    ) -> None:
        assert self.config.result_to is not None
        volumes = result.label_volumes_ml if result is not None else {}
        message = build_result(
            mrn=tags["mrn"],
            accession=tags["accession"],
            volumes_ml=volumes,
            status="DICOM-SEG and RTSTRUCT stored in the PACS",
            control_id=f"OS{study_id[:16]}",
        )
        try:
            ack = send_message(*self.config.result_to, message)
        except OSError as exc:
            log.warning("study %s: result message not sent: %s", study_id[:8], exc)
            return
        if "|AA|" in ack or "|CA|" in ack:
            self.journal.mark_result_sent(study_id)
        else:
            log.warning("study %s: result message not accepted by the EMR", study_id[:8])

    # 5. one poll, status ----------------------------------------------------------------
    def poll(self) -> int:
        """One round: new changes, every open study's note, then the oldest ready study is
        segmented (one per poll, so timeouts, new arrivals and the status file stay fresh
        between studies). Returns the studies completed; ``self.pending`` how many more
        are ready."""
        self.read_changes()
        ready = [(row, found) for row in self.journal.rows(OPEN) if (found := self.ready(row))]
        completed = int(self.process(ready[0][0], *ready[0][1])) if ready else 0
        self.pending = max(0, len(ready) - 1)
        if self.config.result_to is not None:  # results a kill kept from being sent
            for row in self.journal.rows(("done",)):
                if not row.result_sent:
                    self._send_result(row.study, self._tags(row.study), None)
        self.write_status()
        return completed

    def write_status(self) -> None:
        now = time.time()
        rows = self.journal.rows()
        counts = {s: sum(r.state == s for r in rows) for s in {r.state for r in rows}}
        write_json(
            self.status_path,
            {
                "updated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "counts": counts,
                "studies": [
                    {
                        "study": r.study[:17],
                        "state": r.state,
                        "detail": r.detail,
                        "attempts": r.attempts,
                        "waited_s": round((r.done_at or now) - r.stable_at, 1),
                    }
                    for r in rows
                ],
            },
        )


def run_watch(
    watcher: DepartmentWatcher,
    *,
    interval: float = 2.0,
    polls: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll every ``interval`` seconds (``polls`` times, or until interrupted), at once
    while studies are pending (:func:`oncoseg.pacs.orthanc.watch`)."""
    return watch(watcher, interval=interval, polls=polls, sleep=sleep)
