"""Patient/study identity of DICOM outputs, and repair of empty UIDs in a source series.

Outputs (DICOM-SEG, RTSTRUCT) must carry the source's patient and study attributes, or a PACS
files them under a different patient. Those values are copied, never logged: functions here
report attribute *names* only.

Some exported series have empty Study/Series/SOP Instance UIDs and SOP Class UID in the data
set — e.g. the TotalSegmentator fixture, whose UIDs live in ``file_meta`` and the file names
(DESIGN §8). Writers (highdicom) refuse such sources. :func:`repair_uids` fills SOP
Instance/Class UIDs from ``file_meta`` (or a UID-shaped file name) and derives missing
Study/Series/Frame of Reference UIDs deterministically from what the files do hold, so the
same folder always yields the same UIDs. A derived Study UID does not match any study in a
PACS: outputs then attach to a new study, which :func:`repair_uids` reports.

Example:
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.SOPInstanceUID = ""; ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    >>> ds.StudyInstanceUID = "1.2.3"; ds.SeriesInstanceUID = "1.2.3.4"
    >>> ds.FrameOfReferenceUID = "1.2.3.5"
    >>> ds.file_meta = Dataset(); ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5"
    >>> repair_uids([ds], ["x"], "series-key")
    ['SOPInstanceUID']
    >>> ds.SOPInstanceUID
    '1.2.3.4.5'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydicom import Dataset
from pydicom.uid import generate_uid

# Patient and General Study module attributes copied into every output (type 2 ones are
# written empty when the source lacks them).
PATIENT_STUDY_TYPE2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)
PATIENT_STUDY_OPTIONAL = (
    "SpecificCharacterSet",
    "IssuerOfPatientID",
    "OtherPatientIDsSequence",
    "PatientAge",
    "PatientWeight",
    "PatientSize",
    "PatientIdentityRemoved",
    "DeidentificationMethod",
    "StudyDescription",
)
_UID_RE = re.compile(r"(\d+(?:\.\d+)+)$")


def copy_identity(src: Dataset, dst: Dataset) -> None:
    """Copy patient and study attributes (and the Study Instance UID) from ``src`` to ``dst``."""
    for kw in PATIENT_STUDY_TYPE2:
        setattr(dst, kw, src.get(kw, ""))
    for kw in PATIENT_STUDY_OPTIONAL:
        if kw in src:
            dst[kw] = src[kw]
    dst.StudyInstanceUID = src.StudyInstanceUID


def _uid_from_name(name: str) -> str:
    """``CT.1.2.3`` or ``1.2.3.dcm`` -> ``1.2.3``; "" when the name holds no UID."""
    stem = name[:-4] if name.lower().endswith(".dcm") else name
    m = _UID_RE.search(stem)
    return m.group(1) if m and len(m.group(1)) <= 64 else ""


def repair_uids(datasets: Sequence[Dataset], names: Sequence[str], key: str) -> list[str]:
    """Fill empty UIDs of one series in place; return the attribute names that were repaired.

    Args:
        datasets: the series' headers (one per file).
        names: the file names, parallel to ``datasets`` (a UID-shaped name is a fallback for
            an empty SOP Instance UID).
        key: a string that identifies the series in its folder (mixed into derived UIDs).
    """
    repaired: set[str] = set()
    for ds, name in zip(datasets, names, strict=True):
        meta = getattr(ds, "file_meta", Dataset())
        if not str(ds.get("SOPInstanceUID", "")):
            ds.SOPInstanceUID = str(meta.get("MediaStorageSOPInstanceUID", "")) or (
                _uid_from_name(name) or generate_uid(entropy_srcs=[key, name])
            )
            repaired.add("SOPInstanceUID")
        if not str(ds.get("SOPClassUID", "")) and meta.get("MediaStorageSOPClassUID"):
            ds.SOPClassUID = meta.MediaStorageSOPClassUID
            repaired.add("SOPClassUID")
    sops = sorted(str(ds.SOPInstanceUID) for ds in datasets)
    for kw in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        values = {str(ds.get(kw, "")) for ds in datasets}
        if values == {""}:
            uid = generate_uid(entropy_srcs=[kw, key, *sops])
            for ds in datasets:
                setattr(ds, kw, uid)
            repaired.add(kw)
    return sorted(repaired)
