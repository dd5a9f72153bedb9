"""Find the patients in a folder of DICOM files by their headers, whatever the file layout.

Every file under the folder is opened once for a few grouping attributes (no pixel data);
non-DICOM files are skipped. Files are grouped by PatientID (a file without one falls back
to its Study Instance UID), then into image series (CT, MR, ...) and RTSTRUCT files. Other
objects (SEG, plans, doses) are ignored. Patients are ordered by a short SHA-256 of their
PatientID, so the order does not depend on folder names, and the ID itself is kept out of
``repr`` and logs: reports name a patient by its index or its key.

Example:
    >>> patients = index_patients("export/")  # doctest: +SKIP
    >>> [(p.key, len(p.images), len(p.rtstructs)) for p in patients]  # doctest: +SKIP
    [('0c1f5e7a9b', 1, 1), ('3d2e...', 2, 1)]
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from oncoseg.io.dicom_series import NON_IMAGE_MODALITIES

INDEX_TAGS = (
    "PatientID",
    "AccessionNumber",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Modality",
    "Rows",
)
KEY_CHARS = 10


def patient_key(patient_id: str) -> str:
    """Short SHA-256 hex of a PatientID: names a patient in reports without the ID."""
    return hashlib.sha256(patient_id.encode("utf-8")).hexdigest()[:KEY_CHARS]


@dataclass
class PatientFiles:
    """The DICOM files of one patient (identity kept out of ``repr``)."""

    key: str
    patient_id: str = field(repr=False)
    accession_numbers: set[str] = field(default_factory=set, repr=False)
    images: dict[str, list[Path]] = field(default_factory=dict, repr=False)  # series -> files
    rtstructs: list[Path] = field(default_factory=list, repr=False)

    @property
    def files(self) -> list[Path]:
        return [p for ps in self.images.values() for p in ps] + self.rtstructs


def _header(path: Path) -> pydicom.Dataset | None:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(INDEX_TAGS))
    except (InvalidDicomError, EOFError, OSError, ValueError):
        return None  # not DICOM: exports carry READMEs, DICOMDIRs, spreadsheets


def index_patients(root: str | os.PathLike[str]) -> list[PatientFiles]:
    """The patients under ``root`` (ordered by key); raises ``ValueError`` if there are none."""
    folder = Path(root)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    patients: dict[str, PatientFiles] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        ds = _header(path)
        if ds is None:
            continue
        modality = str(ds.get("Modality", ""))
        is_image = modality not in NON_IMAGE_MODALITIES and "Rows" in ds
        if modality != "RTSTRUCT" and not is_image:
            continue
        pid = str(ds.get("PatientID", "")) or "study:" + str(ds.get("StudyInstanceUID", ""))
        pt = patients.setdefault(pid, PatientFiles(key=patient_key(pid), patient_id=pid))
        if ds.get("AccessionNumber"):
            pt.accession_numbers.add(str(ds.AccessionNumber))
        if modality == "RTSTRUCT":
            pt.rtstructs.append(path)
        else:
            pt.images.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append(path)
    if not patients:
        raise ValueError(f"{folder}: no DICOM image series or RTSTRUCT files found")
    return sorted(patients.values(), key=lambda p: p.key)
