"""What a simulated clinical day sends: phantom CT studies as DICOM files and HL7 v2 notes.

The CTs are breast_ctv phantoms (:mod:`oncoseg.tasks.breast_ctv`) rendered on a coarse cube
and resampled (linear) to the scanner's grid, e.g. 512 x 512 x 100, then written as an
axial CT series, one file per slice (int16 HU, uncompressed). Each study has its own
patient, accession number and UIDs; the note is the phantom's own narrative note, sent as
an MDM^T02 (or ORU^R01) with the patient's name and MRN in PID and the accession number in
OBR-3. :func:`malformed_messages` gives the messages an interface must refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

RENDER_SIZE = 96  # voxels per axis of the rendered cube before resampling


@dataclass(frozen=True)
class DayStudy:
    """One study of the day (identity is synthetic)."""

    index: int
    mrn: str
    name: str  # DICOM PN, FAMILY^Given
    accession: str
    study_uid: str
    folder: Path
    note: str  # raw note text (carries the patient's name, as real notes do)
    slices: int


SURNAMES = (
    "Holloway",
    "Pemberton",
    "Okafor",
    "Lindqvist",
    "Marchetti",
    "Nakamura",
    "Fairbairn",
    "Delacroix",
)
GIVEN = ("Margaret", "Evelyn", "Adaeze", "Ingrid", "Giulia", "Haruka", "Morag", "Sylvie")


def render_ct(
    anatomy_seed: int, clinical: object, shape: tuple[int, int, int]
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """A phantom CT (int16 HU, shape ``shape`` as x, y, z) and its voxel size in mm."""
    from scipy.ndimage import zoom

    from oncoseg.tasks.breast_ctv.phantom import render

    image, _, _, affine = render(anatomy_seed, clinical, "internal", RENDER_SIZE)  # type: ignore[arg-type]
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    factors = [t / s for t, s in zip(shape, image.shape, strict=True)]
    big = zoom(image.astype(np.float32), factors, order=1)
    new_spacing = tuple(float(sp / f) for sp, f in zip(spacing, factors, strict=True))
    return np.clip(np.round(big), -1024, 3071).astype(np.int16), new_spacing  # type: ignore[return-value]


def write_ct_series(
    folder: Path, hu: np.ndarray, spacing: tuple[float, float, float], study: DayStudy, date: str
) -> None:
    """Write ``hu`` (x, y, z) as an axial CT series, one file per slice."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series_uid, frame_uid = generate_uid(), generate_uid()
    sx, sy, sz = spacing
    for k in range(hu.shape[2]):
        ds = Dataset()
        ds.PatientName, ds.PatientID, ds.PatientSex = study.name, study.mrn, "F"
        ds.PatientBirthDate = ""
        ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName = date, "090000", ""
        ds.StudyID, ds.AccessionNumber, ds.Modality = "1", study.accession, "CT"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study.study_uid, series_uid
        ds.SeriesNumber, ds.InstanceNumber, ds.AcquisitionNumber = 2, k + 1, 1
        ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = frame_uid, ""
        ds.Manufacturer, ds.KVP, ds.PatientPosition = "oncoseg phantom", "120", "HFS"
        ds.SeriesDescription = "planning CT"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, generate_uid()
        ds.ImagePositionPatient = [-sx * hu.shape[0] / 2, -sy * hu.shape[1] / 2, k * sz]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [round(sy, 6), round(sx, 6)]
        ds.SliceThickness = round(sz, 6)
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows, ds.Columns = hu.shape[1], hu.shape[0]
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, 0, "HU"
        ds.PixelData = np.ascontiguousarray(hu[:, :, k].T).tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(folder / f"ct{k:04d}.dcm", enforce_file_format=True)


def make_studies(
    work: Path,
    n: int,
    shape: tuple[int, int, int],
    seed: int,
    date: str = "20240301",
    distinct: int = 8,
) -> list[DayStudy]:
    """``n`` studies under ``work``; ``distinct`` anatomies rendered, reused in turn."""
    from pydicom.uid import generate_uid

    from oncoseg.data.phantom_cohort import plan_cases
    from oncoseg.tasks import breast_ctv

    spec = breast_ctv.cohort_spec()
    cases = plan_cases(spec, min(n, distinct), "internal", "narrative", seed)
    volumes = {}
    studies = []
    for i in range(n):
        case = cases[i % len(cases)]
        if case.case_id not in volumes:
            volumes[case.case_id] = render_ct(case.anatomy_seed, case.clinical, shape)
        name = f"{SURNAMES[i % len(SURNAMES)].upper()}^{GIVEN[(i * 3) % len(GIVEN)]}"
        family, given = name.split("^")
        study = DayStudy(
            i,
            f"D{seed:02d}{i:05d}",
            name,
            f"ACC{seed:02d}{i:05d}",
            generate_uid(),
            work / f"study{i:03d}",
            f"{given} {family.title()}: {case.note.strip()}",
            shape[2],
        )
        hu, spacing = volumes[case.case_id]
        write_ct_series(study.folder, hu, spacing, study, date)
        studies.append(study)
    return studies


def _escape(text: str) -> str:
    for a, b in (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\")):
        text = text.replace(a, b)
    return "~".join(line for line in text.splitlines() if line.strip())


def note_message(study: DayStudy, date: str, kind: str = "MDM^T02^MDM_T02") -> bytes:
    """The study's note as an HL7 v2.5 message (MLLP frame not included)."""
    segments = [
        f"MSH|^~\\&|EMR|HOSP|ONCOSEG|RT|{date}080000||{kind}|N{study.index:05d}|P|2.5",
        f"EVN|T02|{date}080000",
        f"PID|1||{study.mrn}^^^HOSP^MR||{study.name}||19600101|F",
        "PV1|1|O",
        f"TXA|1|CN|TX|{date}",
        f"OBR|1||{study.accession}",
        f"OBX|1|TX|NOTE^Clinical note^L||{_escape(study.note)}",
    ]
    return "\r".join(segments).encode("utf-8")


def malformed_messages(cap: int) -> list[tuple[str, bytes]]:
    """Messages that must not be stored: (what, bytes)."""
    head = "MSH|^~\\&|EMR|HOSP|ONCOSEG|RT|20240301080000||{}|{}|P|2.5"
    pid = "PID|1||X999^^^HOSP^MR||NOBODY^Test"
    return [
        ("not HL7", b"this is not an HL7 message"),
        ("unsupported type", "\r".join([head.format("ADT^A08^ADT_A01", "M1"), pid]).encode()),
        (
            "truncated (no OBX)",
            "\r".join([head.format("MDM^T02", "M2"), pid, "OBR|1||ACCX1"]).encode(),
        ),
        (
            "not UTF-8",
            "\r".join(
                [head.format("MDM^T02", "M3"), pid, "OBR|1||ACCX2", "OBX|1|TX|||Mammographie é"]
            ).encode("latin-1"),
        ),
        (
            "oversized",
            "\r".join(
                [
                    head.format("MDM^T02", "M4"),
                    pid,
                    "OBR|1||ACCX3",
                    "OBX|1|TX|||" + "x" * (cap + 10),
                ]
            ).encode(),
        ),
    ]


def write_sr(study: DayStudy, folder: Path) -> Path:
    """The study's note as a Comprehensive SR (highdicom) in the same study; returns the file."""
    import highdicom as hd
    import pydicom
    from pydicom.sequence import Sequence
    from pydicom.uid import generate_uid

    ct = pydicom.dcmread(next(iter(sorted(study.folder.glob("*.dcm")))), stop_before_pixels=True)
    code = hd.sr.CodedConcept
    root = hd.sr.ContainerContentItem(name=code("18748-4", "LN", "Diagnostic imaging report"))
    items = [
        hd.sr.TextContentItem(
            name=code("121071", "DCM", "Finding"), value=line, relationship_type="CONTAINS"
        )
        for line in study.note.splitlines()
        if line.strip()
    ]
    root.ContentSequence = Sequence(items)
    sr = hd.sr.ComprehensiveSR(
        evidence=[ct],
        content=root,
        series_instance_uid=generate_uid(),
        series_number=90,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="EMR",
    )
    folder.mkdir(parents=True, exist_ok=True)
    sr.save_as(folder / "sr.dcm")
    return folder / "sr.dcm"
