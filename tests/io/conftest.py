"""Synthetic DICOM series written with pydicom, and the independent DICOM readers.

The series are small (tests stay fast) and deliberately awkward: rows != columns, row
spacing != column spacing, anisotropic slices, oblique orientation, unsigned storage with a
rescale, files under random names in random order.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from oncoseg.io.image import Image
from tests.conftest import SHARED_DATA

FIXTURES = SHARED_DATA / "fixtures"
TOTALSEG_CT = FIXTURES / "TotalSegmentator" / "tests" / "reference_files" / "example_ct_dicom"


def tool(name: str) -> str:
    """Path of a command-line reader (venv bin first); skip the test when it is missing."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if not found:
        pytest.skip(f"{name} not installed (test dependency)")
    return found


def dciodvfy_errors(path: Path) -> list[str]:
    """``Error`` lines that dciodvfy (dicom3tools) prints for one file."""
    run = subprocess.run([tool("dciodvfy"), str(path)], capture_output=True, text=True)
    lines = (run.stdout + run.stderr).splitlines()
    return [ln for ln in lines if ln.startswith("Error")]


def rotation(axis: tuple[float, float, float], degrees: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64)
    a /= np.linalg.norm(a)
    t = np.deg2rad(degrees)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)


@dataclass(frozen=True)
class SeriesSpec:
    """What a synthetic series looks like (LPS geometry)."""

    columns: int = 24
    rows: int = 20
    slices: int = 10
    row_spacing: float = 0.8  # PixelSpacing[0]
    col_spacing: float = 1.3  # PixelSpacing[1]
    step: float = 2.5
    rotation: tuple[tuple[float, ...], ...] = tuple(map(tuple, rotation((1, 2, 0.5), 25)))
    origin: tuple[float, float, float] = (-40.25, 13.5, -120.0)
    slope: float = 1.0
    intercept: float = -1024.0
    empty_uids: bool = False  # UIDs only in file_meta, like the TotalSegmentator fixture
    patient_name: str = "Syn^Test"
    patient_id: str = "SYN1"
    accession: str = "ACC1"


def _header(spec: SeriesSpec, uids: dict[str, str], k: int) -> Dataset:
    rot = np.asarray(spec.rotation)
    x, y, n = rot[:, 0], rot[:, 1], rot[:, 2]
    ds = Dataset()
    ds.PatientName, ds.PatientID = spec.patient_name, spec.patient_id
    ds.PatientBirthDate, ds.PatientSex = "", "O"
    ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName = "20240101", "120000", ""
    ds.StudyID, ds.AccessionNumber, ds.Modality = "1", spec.accession, "CT"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uids["study"], uids["series"]
    ds.SeriesNumber, ds.InstanceNumber, ds.AcquisitionNumber = 3, k + 1, 1
    ds.FrameOfReferenceUID, ds.PositionReferenceIndicator = uids["frame"], ""
    ds.Manufacturer, ds.KVP, ds.PatientPosition = "synthetic", "120", "HFS"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, uids[f"sop{k}"]
    ds.ImagePositionPatient = [round(float(v), 6) for v in np.add(spec.origin, k * spec.step * n)]
    ds.ImageOrientationPatient = [round(float(v), 8) for v in (*x, *y)]
    ds.PixelSpacing = [spec.row_spacing, spec.col_spacing]
    ds.SliceThickness = spec.step
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = spec.rows, spec.columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = spec.slope, spec.intercept, "HU"
    return ds


def hu_volume(spec: SeriesSpec) -> np.ndarray:
    """The stored volume in HU, indexed ``[column, row, slice]``."""
    i, j, k = np.meshgrid(
        np.arange(spec.columns), np.arange(spec.rows), np.arange(spec.slices), indexing="ij"
    )
    return (-1000 + 7 * i + 11 * j + 100 * k).astype(np.float64) * spec.slope


def write_series(folder: Path, spec: SeriesSpec, seed: int = 0) -> Path:
    """Write ``spec`` as CT files with random names; returns ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    uids = {"study": generate_uid(), "series": generate_uid(), "frame": generate_uid()}
    uids |= {f"sop{k}": generate_uid() for k in range(spec.slices)}
    stored = np.round((hu_volume(spec) - spec.intercept) / spec.slope).astype(np.uint16)
    for k in rng.permutation(spec.slices):
        ds = _header(spec, uids, int(k))
        ds.PixelData = np.ascontiguousarray(stored[:, :, k].T).tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        if spec.empty_uids:
            ds.SOPInstanceUID = ds.SOPClassUID = ds.StudyInstanceUID = ds.SeriesInstanceUID = ""
        ds.save_as(folder / f"{rng.integers(1 << 40):x}", enforce_file_format=True)
    return folder


def label_mask(spec: SeriesSpec) -> np.ndarray:
    """Two labels on ``[column, row, slice]``: a ring with a hole plus a second island (1) and
    a ball (2); some slices empty."""
    i, j, k = np.meshgrid(
        np.arange(spec.columns), np.arange(spec.rows), np.arange(spec.slices), indexing="ij"
    )
    mask = np.zeros(i.shape, dtype=np.uint8)
    r = np.hypot((i - 8) * spec.col_spacing, (j - 9) * spec.row_spacing)
    slab = (k >= 2) & (k <= spec.slices - 3)
    mask[(r <= 7.5) & (r >= 3) & slab] = 1  # ring with a hole
    mask[(i >= 18) & (i <= 20) & (j >= 2) & (j <= 5) & slab] = 1  # second island
    mask[(i == 14) & (j == 16) & slab] = 1  # one-voxel island
    ball = np.sqrt(
        ((i - 16) * spec.col_spacing) ** 2
        + ((j - 12) * spec.row_spacing) ** 2
        + ((k - 5) * spec.step) ** 2
    )
    mask[ball <= 4.0] = 2
    return mask


@pytest.fixture
def make_series(tmp_path: Path) -> Callable[..., Path]:
    """``make_series(name, **SeriesSpec fields)`` writes a synthetic series, returns its folder."""

    def make(name: str = "ct", seed: int = 0, **fields: object) -> Path:
        return write_series(tmp_path / name, SeriesSpec(**fields), seed)  # type: ignore[arg-type]

    return make


def onto_grid(other: Image, grid: Image) -> np.ndarray:
    """``other``'s array placed on ``grid``'s voxels; fails unless the two grids share voxel
    centres (same axes and spacing, integer offset) — a reader that crops is fine."""
    t = np.linalg.inv(grid.affine) @ other.affine
    assert np.allclose(t[:3, :3], np.eye(3), atol=1e-3), f"axes differ:\n{np.round(t, 4)}"
    offset = np.round(t[:3, 3]).astype(int)
    assert np.allclose(t[:3, 3], offset, atol=1e-3), f"offset not integral: {t[:3, 3]}"
    out = np.zeros(grid.shape[:3], dtype=other.array.dtype)
    lo = np.maximum(offset, 0)
    hi = np.minimum(offset + np.array(other.shape[:3]), grid.shape[:3])
    src = tuple(slice(a - o, b - o) for a, b, o in zip(lo, hi, offset, strict=True))
    out[tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))] = other.array[src]
    assert other.array.sum() == out.sum(), "the other image reaches outside the grid"
    return out


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(bool), b.astype(bool)
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else float(2 * (a & b).sum() / total)


def sitk_image(folder: Path) -> Image:
    """The series as SimpleITK/GDCM reads it (the reference geometry)."""
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    itk = reader.Execute()
    direction = np.array(itk.GetDirection()).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = np.diag([-1.0, -1.0, 1.0]) @ direction @ np.diag(itk.GetSpacing())
    affine[:3, 3] = np.diag([-1.0, -1.0, 1.0]) @ np.array(itk.GetOrigin())
    return Image(sitk.GetArrayFromImage(itk).transpose(2, 1, 0), affine)
