"""Turn a folder of DICOM patients (CT/MR series + RTSTRUCT) into an oncoseg dataset.

``convert_dicom_cohort(SRC, OUT, rules)`` indexes every file under SRC by its headers
(:mod:`oncoseg.io.dicom_index`: any layout), and for each patient:

1. picks the structure set: an RTSTRUCT whose referenced series is among the patient's
   files (several: the APPROVED one, then the latest; the choice is reported);
2. matches its ROI names to the labels (:mod:`oncoseg.data.roi_match`): a missing or
   ambiguous label fails the patient, unmatched ROI names are reported;
3. reads the referenced series (:func:`~oncoseg.io.dicom_series.read_dicom_files`: missing
   slices, tilt, ... fail the patient) and rasterises the matched ROIs on its grid
   (:func:`~oncoseg.io.rtstruct_read.roi_masks`); where labels overlap the later one wins;
4. finds the note in NOTES_DIR by AccessionNumber, then PatientID (``<ID>.txt``),
   de-identifies it (:mod:`oncoseg.text.deid`, plus the patient's own ID, accession and name
   parts from the header) and writes the case ``<task>_<index>``.

A patient that fails is reported and skipped. The dataset is built in a hidden temporary
folder beside OUT and renamed into place at the end, so OUT is complete or untouched.
Patients are named by index (and, on the console, a short hash of the PatientID), never by
identity; ``conversion.json`` in the dataset records each patient's outcome by index.

Example:
    >>> rules = parse_roi_rules("CTV=CTV*")  # doctest: +SKIP
    >>> report = convert_dicom_cohort("export/", "ds/", rules)  # doctest: +SKIP
    >>> [(p.index, p.case_id, p.problems) for p in report.patients]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from oncoseg.data.dataset import DatasetCase, DatasetInfo, kfold_splits, write_case, write_info
from oncoseg.data.roi_match import RoiRule, match_rois
from oncoseg.io.atomic import write_json
from oncoseg.io.dicom_index import PatientFiles, index_patients
from oncoseg.io.dicom_series import DicomSeries, DicomSeriesError, read_dicom_files
from oncoseg.io.image import Image
from oncoseg.io.rtstruct_read import RtstructError, list_rois, referenced_series, roi_masks
from oncoseg.text.deid import deidentify

log = logging.getLogger(__name__)
NO_NOTE = "(no clinical note)"
MAX_FOLDS = 5
MIN_NAME_CHARS = 6  # file names at least this long are hidden in messages
# what one bad patient may raise (malformed files too); anything else is a bug and stops
PATIENT_ERRORS = (ValueError, KeyError, AttributeError, TypeError, OSError, EOFError)


class PatientError(ValueError):
    """One patient cannot be converted; the message names no identity."""


@dataclass
class PatientResult:
    """The outcome for one patient (index = position in key order)."""

    index: int
    key: str  # short SHA-256 of the PatientID: for the operator's console, not the dataset
    case_id: str = ""
    problems: list[str] = field(default_factory=list)  # why it was skipped
    unmatched: list[str] = field(default_factory=list)  # ROI names no label matched
    remarks: list[str] = field(default_factory=list)  # choices made on the way

    @property
    def ok(self) -> bool:
        return bool(self.case_id) and not self.problems


@dataclass
class CohortReport:
    out: Path
    patients: list[PatientResult]

    @property
    def converted(self) -> list[PatientResult]:
        return [p for p in self.patients if p.ok]

    @property
    def skipped(self) -> list[PatientResult]:
        return [p for p in self.patients if not p.ok]


def _sanitize(message: str, pt: PatientFiles, src: Path) -> str:
    """``message`` with the patient's paths and file names replaced (they may hold names)."""
    for p in sorted(pt.files, key=lambda q: -len(str(q))):
        message = message.replace(str(p), "<file>")
        if len(p.name) >= MIN_NAME_CHARS:  # short names ("1", "IM1") would mangle the text
            message = message.replace(p.name, "<file>")
    message = message.replace(str(src), "SRC")
    for value in (pt.patient_id, *pt.accession_numbers):
        if len(value) >= 3:
            message = message.replace(value, "<id>")
    return message


def _choose_rtstruct(pt: PatientFiles, result: PatientResult) -> tuple[Dataset, str]:
    """The structure set to use and the series it references."""
    if not pt.rtstructs:
        raise PatientError("no RTSTRUCT")
    usable: list[tuple[Dataset, str]] = []
    for path in pt.rtstructs:
        ds = pydicom.dcmread(path)
        uids = [u for u in referenced_series(ds) if u in pt.images]
        if uids:
            usable.append((ds, uids[0]))
    if not usable:
        raise PatientError(
            f"{len(pt.rtstructs)} RTSTRUCT(s), none references an image series found in SRC"
        )
    if len(usable) > 1:
        usable.sort(
            key=lambda u: (
                str(u[0].get("ApprovalStatus", "")) == "APPROVED",
                str(u[0].get("StructureSetDate", "")) + str(u[0].get("StructureSetTime", "")),
            ),
            reverse=True,
        )
        result.remarks.append(f"{len(usable)} RTSTRUCTs: used the approved/latest one")
    return usable[0]


def _label_map(
    rt: Dataset, series: DicomSeries, rules: Sequence[RoiRule], result: PatientResult
) -> np.ndarray:
    """uint8 labels ``[column, row, slice]`` from the matched ROIs (later labels win)."""
    rois = list_rois(rt)
    match = match_rois([r.name for r in rois], rules)
    result.unmatched = match.unmatched
    if not match.ok:
        raise PatientError("; ".join(match.problems()))
    number = {r.name: r.number for r in rois}
    wanted = {label: number[name] for label, name in match.found.items()}
    masks = roi_masks(rt, series, wanted.values())
    labels = np.zeros(series.image.shape[:3], dtype=np.uint8)
    for value, rule in enumerate(rules, start=1):
        mask = masks.get(wanted[rule.label])
        if mask is None or not mask.any():
            raise PatientError(f"ROI '{match.found[rule.label]}' (label '{rule.label}') is empty")
        labels[mask] = value
    return labels


def _scrub(text: str, header: Dataset) -> str:
    """De-identify ``text``, and remove the header's own IDs and name parts wherever left."""
    out = deidentify(text).text
    for kw, tag in (("PatientID", "[ID]"), ("AccessionNumber", "[ID]")):
        value = str(header.get(kw, "")).strip()
        if len(value) >= 3:
            out = re.sub(re.escape(value), tag, out, flags=re.IGNORECASE)
    parts = re.split(r"[\^\s,]+", str(header.get("PatientName", "")))
    for part in (p for p in parts if len(p) >= 2):
        out = re.sub(rf"\b{re.escape(part)}\b", "[NAME]", out, flags=re.IGNORECASE)
    return out


def _note(notes_dir: Path | None, header: Dataset) -> str:
    """The patient's de-identified note (``<AccessionNumber>.txt``, else ``<PatientID>.txt``)."""
    if notes_dir is None:
        return NO_NOTE
    for kw in ("AccessionNumber", "PatientID"):
        value = str(header.get(kw, "")).strip()
        if not value or "/" in value or "\\" in value or value in (".", ".."):
            continue
        for name in (f"{value}.txt", value):
            path = notes_dir / name
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError as exc:
                    raise PatientError(f"its note file (by {kw}) is not UTF-8 text") from exc
                if not text.strip():
                    raise PatientError(f"its note file (by {kw}) is empty")
                return _scrub(text, header)
    raise PatientError("no note in NOTES_DIR (looked up by AccessionNumber, then PatientID)")


def _convert_one(
    pt: PatientFiles,
    result: PatientResult,
    rules: Sequence[RoiRule],
    notes_dir: Path | None,
) -> tuple[DatasetCase, str]:
    """The patient's case and the modality of its series."""
    rt, uid = _choose_rtstruct(pt, result)
    series = read_dicom_files(pt.images[uid], "image series")
    labels = _label_map(rt, series, rules, result)
    note = _note(notes_dir, series.datasets[0])
    case = DatasetCase(
        case_id=result.case_id,
        images=[series.image],
        label=Image(labels, series.image.affine.copy()),
        note=note,
    )
    return case, series.modality


def _write_cases(
    patients: list[PatientFiles],
    tmp: Path,
    rules: Sequence[RoiRule],
    options: tuple[Path | None, str, Path],
    progress: Callable[[PatientResult], None] | None,
) -> tuple[list[PatientResult], str]:
    """Convert each patient into ``tmp``; returns the results and the cohort's modality."""
    notes_dir, task, src = options
    results: list[PatientResult] = []
    modality = ""
    for index, pt in enumerate(patients):
        result = PatientResult(index=index, key=pt.key, case_id=f"{task}_{index:03d}")
        try:
            case, mod = _convert_one(pt, result, rules, notes_dir)
            if modality and mod != modality:
                raise PatientError(f"modality {mod}, the cohort's first patient is {modality}")
            modality = modality or mod
            write_case(tmp, case)
        except (PatientError, DicomSeriesError, RtstructError, *PATIENT_ERRORS) as exc:
            result.problems.append(_sanitize(str(exc), pt, src))
            result.case_id = ""
        log.info(
            "patient %d: %s", index, result.case_id or "skipped: " + "; ".join(result.problems)
        )
        results.append(result)
        if progress:
            progress(result)
    return results, modality


def _write_metadata(
    tmp: Path, results: list[PatientResult], rules: Sequence[RoiRule], modality: str, task: str
) -> None:
    cases = [r.case_id for r in results if r.ok]
    info = DatasetInfo(
        channel_names={"0": modality or "CT"},
        labels={"background": 0, **{r.label: i for i, r in enumerate(rules, start=1)}},
        num_training=len(cases),
        task=task,
        site="dicom",
        extra={
            "source": "DICOM cohort (oncoseg convert dicom)",
            "roi_patterns": {r.label: list(r.patterns) for r in rules},
            "label_overlap": "a later label wins where ROIs overlap",
        },
    )
    write_info(tmp, info)
    if len(cases) >= 2:
        write_json(tmp / "splits.json", kfold_splits(cases, k=min(MAX_FOLDS, len(cases))))
    rows = [{k: v for k, v in asdict(r).items() if k != "key"} for r in results]
    write_json(tmp / "conversion.json", {"patients": rows})


def convert_dicom_cohort(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    rules: Sequence[RoiRule],
    *,
    notes_dir: str | os.PathLike[str] | None = None,
    task: str = "dicom",
    overwrite: bool = False,
    progress: Callable[[PatientResult], None] | None = None,
) -> CohortReport:
    """Convert the patients under ``src`` into a dataset at ``out`` (see the module doc).

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is false.
        ValueError: ``src`` holds no DICOM, ``notes_dir`` is not a folder, or no patient
            converted (then nothing is written).
    """
    source, final = Path(src), Path(out)
    if final.exists() and not overwrite:
        raise FileExistsError(f"{final} exists (pass --overwrite to replace it)")
    notes = Path(notes_dir) if notes_dir is not None else None
    if notes is not None and not notes.is_dir():
        raise ValueError(f"{notes}: not a folder (--notes expects a folder of <ID>.txt files)")
    if not re.fullmatch(r"[A-Za-z0-9_]+", task):
        raise ValueError(f"--task {task!r}: expected letters, digits and underscores")
    patients = index_patients(source)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        results, modality = _write_cases(patients, tmp, rules, (notes, task, source), progress)
        if not any(r.ok for r in results):
            raise ValueError(f"{source}: no patient converted ({len(results)} skipped)")
        _write_metadata(tmp, results, rules, modality, task)
        _replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return CohortReport(final, results)


def _replace(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final``; an old ``final`` is moved aside first, removed after."""
    old = final.with_name(f".{final.name}.old")
    if final.exists():
        if old.exists():
            shutil.rmtree(old)
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)
