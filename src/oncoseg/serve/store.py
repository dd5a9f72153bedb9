"""The service's files under ``--data``: cases, jobs and results, each written atomically.

Layout::

    DATA/cases/<case_id>/case.json            kind (nifti | dicom), channels, de-identified note
    DATA/cases/<case_id>/input/0000.nii.gz    one NIfTI per channel (or input/dicom/ files)
    DATA/cases/<case_id>/results/<job_id>/    mask.nii.gz [seg.dcm rtstruct.dcm]
    DATA/jobs/<job_id>.json                   status, case, note, explain, error, result

A case folder is filled under a hidden temporary name and renamed into place once complete,
a result folder likewise, and every JSON file is replaced atomically; so after a crash a case
or result either exists whole or not at all. Only de-identified notes are ever written, and
uploaded file names are not kept (they may carry a patient's name).

Example:
    >>> import tempfile
    >>> store = Store(Path(tempfile.mkdtemp()))
    >>> with store.new_case() as (case_id, folder):
    ...     _ = (folder / "input").mkdir()
    ...     store.write_case(folder, Case(case_id, "nifti", 1, "N0, left side"))
    >>> store.case(case_id).note
    'N0, left side'
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oncoseg.io.atomic import remove_stale_temp_files, write_json

_ID = re.compile(r"^[0-9a-f]{32}$")
RESULT_FILES = {  # served name -> output format of oncoseg.io.outputs
    "mask.nii.gz": "nifti",
    "seg.dcm": "dicom-seg",
    "rtstruct.dcm": "rtstruct",
}
EXPLAIN_FILES = ("explain.json", "explain.nii.gz", "explain_view.json")  # note-reading models


def new_id() -> str:
    return uuid.uuid4().hex


def valid_id(text: str) -> bool:
    """True for ids this service hands out (32 hex digits); anything else is unknown."""
    return bool(_ID.match(text))


@dataclass
class Case:
    """One uploaded case (no patient identity: the note is stored de-identified)."""

    case_id: str
    kind: str  # nifti | dicom
    channels: int
    note: str  # de-identified
    series_uid: str | None = None  # the series chosen from a DICOM zip that held several
    created: float = field(default_factory=time.time)

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Job:
    """One segmentation request and what became of it."""

    job_id: str
    case_id: str
    note: str  # de-identified
    explain: bool = False  # also attribute the contour to the note's clauses (~3x the cost)
    status: str = "queued"  # queued | running | done | failed
    error: str | None = None
    result: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None

    def public(self) -> dict[str, Any]:
        return asdict(self)


class Store:
    """Cases, jobs and results under one data folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.cases_dir = self.root / "cases"
        self.jobs_dir = self.root / "jobs"
        self.cases_dir.mkdir(parents=True, exist_ok=True)
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.cases_dir.glob(".tmp-*"):  # an upload cut short by a crash
            shutil.rmtree(leftover, ignore_errors=True)
        remove_stale_temp_files(self.root, recursive=True)  # JSON or results cut short

    # cases -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def new_case(self) -> Iterator[tuple[str, Path]]:
        """A fresh case id and a temporary folder to fill; renamed into place on success."""
        case_id = new_id()
        tmp = self.cases_dir / f".tmp-{case_id}"
        tmp.mkdir()
        try:
            yield case_id, tmp
            tmp.rename(self.cases_dir / case_id)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)

    def write_case(self, folder: Path, case: Case) -> None:
        write_json(folder / "case.json", case.public())

    def case(self, case_id: str) -> Case | None:
        path = self.cases_dir / case_id / "case.json"
        if not valid_id(case_id) or not path.exists():
            return None
        return Case(**json.loads(path.read_text(encoding="utf-8")))

    def cases(self) -> list[Case]:
        """Every stored case, newest first."""
        found = [self.case(p.name) for p in self.cases_dir.iterdir() if valid_id(p.name)]
        return sorted((c for c in found if c), key=lambda c: -c.created)

    def input_dir(self, case_id: str) -> Path:
        return self.cases_dir / case_id / "input"

    # jobs and results --------------------------------------------------------------------

    def save_job(self, job: Job) -> None:
        write_json(self.jobs_dir / f"{job.job_id}.json", job.public())

    def job(self, job_id: str) -> Job | None:
        path = self.jobs_dir / f"{job_id}.json"
        if not valid_id(job_id) or not path.exists():
            return None
        return Job(**json.loads(path.read_text(encoding="utf-8")))

    def jobs(self) -> list[Job]:
        """Every stored job, oldest first."""
        found = [self.job(p.stem) for p in self.jobs_dir.glob("*.json")]
        return sorted((j for j in found if j), key=lambda j: j.created)

    def result_dir(self, case_id: str, job_id: str) -> Path:
        return self.cases_dir / case_id / "results" / job_id

    @contextlib.contextmanager
    def new_result(self, case_id: str, job_id: str) -> Iterator[Path]:
        """A temporary folder for a job's files; it replaces the result folder on success."""
        final = self.result_dir(case_id, job_id)
        tmp = final.parent / f".tmp-{job_id}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            yield tmp
            shutil.rmtree(final, ignore_errors=True)  # a job re-run after a crash
            tmp.rename(final)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)

    def result_file(self, case_id: str, job_id: str, name: str) -> Path | None:
        """The path of a finished result file, or ``None`` when there is no such file."""
        known = name in RESULT_FILES or name in EXPLAIN_FILES
        if not known or not (valid_id(case_id) and valid_id(job_id)):
            return None
        path = self.result_dir(case_id, job_id) / name
        return path if path.is_file() else None
