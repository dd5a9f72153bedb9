"""The clinical note from a DICOM Structured Report in the study (Basic Text / Enhanced /
Comprehensive SR).

Some departments keep the referral or the radiology report in the PACS as an SR. Its text
is the value of the TEXT content items of the content tree (depth first, in document
order), one line each; the patient and study come from the SR's own header (PatientID,
AccessionNumber, StudyDate). The text is de-identified by the
:class:`~oncoseg.pacs.notes_store.NoteStore` before it is written; the names and IDs of the
header are removed first, then the rule-based de-identifier runs.

Example:
    >>> note = read_sr_note(pydicom.dcmread("report.dcm"))  # doctest: +SKIP
    >>> store_sr_note(NoteStore("notes"), pydicom.dcmread("report.dcm"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from oncoseg.pacs.notes_store import NoteRecord, NoteStore

SR_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.88.11": "Basic Text SR",
    "1.2.840.10008.5.1.4.1.1.88.22": "Enhanced SR",
    "1.2.840.10008.5.1.4.1.1.88.33": "Comprehensive SR",
    "1.2.840.10008.5.1.4.1.1.88.34": "Comprehensive 3D SR",
}
MAX_DEPTH = 50  # content trees nest a few levels; a deeper one is refused, not recursed into


@dataclass(frozen=True)
class SrNote:
    """What an SR says: raw text (identifiers in it) and the fields to match its study."""

    text: str
    mrn: str
    accession: str
    date: str
    study_uid: str
    identifiers: tuple[str, ...]


def _text_items(items: Iterable[Dataset], depth: int = 0) -> Iterator[str]:
    if depth > MAX_DEPTH:
        raise ValueError(f"SR content tree deeper than {MAX_DEPTH} levels")
    for item in items:
        if str(item.get("ValueType", "")) == "TEXT" and str(item.get("TextValue", "")).strip():
            yield str(item.TextValue).strip()
        if "ContentSequence" in item:
            yield from _text_items(item.ContentSequence, depth + 1)


def read_sr_note(ds: Dataset, source: str = "SR") -> SrNote:
    """The note of one SR dataset; ``ValueError`` naming ``source`` when it is not a text SR
    or holds no text."""
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class not in SR_CLASSES:
        raise ValueError(
            f"{source}: SOP class {sop_class or '(none)'} is not a text SR "
            f"({', '.join(SR_CLASSES.values())})"
        )
    lines = list(_text_items(ds.get("ContentSequence", [])))
    if not lines:
        raise ValueError(f"{source}: the SR has no TEXT content item")
    name = ds.get("PatientName")
    parts = [p for p in (str(name).replace("^", " ").split() if name else []) if len(p) >= 2]
    others = [str(v) for v in (ds.get("OtherPatientIDs") or [])]
    mrn, accession = str(ds.get("PatientID", "")), str(ds.get("AccessionNumber", ""))
    return SrNote(
        text="\n".join(lines),
        mrn=mrn,
        accession=accession,
        date=str(ds.get("StudyDate", ""))[:8],
        study_uid=str(ds.get("StudyInstanceUID", "")),
        identifiers=tuple(i for i in (*parts, mrn, accession, *others) if i),
    )


def store_sr_note(store: NoteStore, sr: Dataset | str | Path) -> NoteRecord:
    """Read the SR (a dataset or a file), de-identify its note and store it."""
    source = str(sr) if not isinstance(sr, Dataset) else "SR"
    ds = sr if isinstance(sr, Dataset) else pydicom.dcmread(sr)
    note = read_sr_note(ds, Path(source).name)
    return store.put(
        note.text,
        source="sr",
        mrn=note.mrn,
        accession=note.accession,
        date=note.date,
        identifiers=note.identifiers,
    )
