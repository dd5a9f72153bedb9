"""Read an RT Structure Set: its ROIs, the series it references, and ROI masks on that series.

Each CLOSED_PLANAR contour is mapped from patient coordinates (LPS, mm) to fractional pixel
indices of the slice it lies on, through that slice's own ImagePositionPatient, the series'
direction cosines and ``PixelSpacing`` in DICOM order (row spacing along the column
direction) — so non-square, anisotropic and oblique series come out right — and the
contours of one slice are filled together by the even-odd rule (an inner contour is a hole;
keyholed outlines work too). POINT and OPEN_PLANAR contours enclose nothing and are skipped.
A contour off the series' slices raises :class:`RtstructError`. The Frame of Reference
UID is not compared (exporters such as rt-utils write a new one); the slice planes are.
Identity attributes are never read into messages or logs.

Example:
    >>> series = read_dicom_series("ct/")  # doctest: +SKIP
    >>> [r.name for r in list_rois("ct/rtstruct.dcm")]  # doctest: +SKIP
    ['CTV_Breast', 'GTV']
    >>> read_rtstruct("ct/rtstruct.dcm", series)["GTV"].shape  # doctest: +SKIP
    (24, 20, 10)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from oncoseg.io.contours import polygons_to_mask
from oncoseg.io.dicom_series import DicomSeries

CONTOUR_DATA = Tag(0x3006, 0x0050)
AREA_TYPES = frozenset({"CLOSED_PLANAR", "CLOSEDPLANAR_XOR"})
PLANE_TOL_MM = 0.05  # a contour lies on a slice when within this, or 5 % of the slice step

Source = str | os.PathLike[str] | Dataset


class RtstructError(ValueError):
    """An RTSTRUCT is not a structure set, or its contours do not fit the given series."""


@dataclass(frozen=True)
class RoiInfo:
    """One ROI of an RTSTRUCT: number, name, interpreted type and number of contours."""

    number: int
    name: str
    rt_type: str
    contours: int


def _load(source: Source) -> tuple[Dataset, str]:
    """The data set and the name used in errors (the file name, never identity)."""
    if isinstance(source, Dataset):
        name = Path(str(source.filename)).name if source.get("filename") else "RTSTRUCT"
        ds = source
    else:
        name = Path(source).name
        ds = pydicom.dcmread(source)
    if str(ds.get("Modality", "")) != "RTSTRUCT":
        raise RtstructError(f"{name}: not an RTSTRUCT (Modality {ds.get('Modality')})")
    return ds, name


def list_rois(source: Source) -> list[RoiInfo]:
    """The ROIs of an RTSTRUCT file or data set, in Structure Set ROI order."""
    ds, _ = _load(source)
    counts = {
        int(r.ReferencedROINumber): len(r.get("ContourSequence", []))
        for r in ds.get("ROIContourSequence", [])
    }
    types = {
        int(o.ReferencedROINumber): str(o.get("RTROIInterpretedType", ""))
        for o in ds.get("RTROIObservationsSequence", [])
    }
    return [
        RoiInfo(
            int(r.ROINumber),
            str(r.ROIName),
            types.get(int(r.ROINumber), ""),
            counts.get(int(r.ROINumber), 0),
        )
        for r in ds.get("StructureSetROISequence", [])
    ]


def referenced_series(source: Source) -> list[str]:
    """Series Instance UIDs the structure set references (Referenced Frame of Reference)."""
    ds, _ = _load(source)
    uids: list[str] = []
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            for ser in study.get("RTReferencedSeriesSequence", []):
                uid = str(ser.get("SeriesInstanceUID", ""))
                if uid and uid not in uids:
                    uids.append(uid)
    return uids


def _points(contour: Dataset) -> np.ndarray:
    """Contour Data ``(n, 3)``, parsed straight from the encoded values when possible."""
    elem = contour.get_item(CONTOUR_DATA)
    if isinstance(elem, RawDataElement) and elem.value is not None:
        text = elem.value.decode("ascii").replace("\\", " ")
        return np.array(text.split(), dtype=np.float64).reshape(-1, 3)
    return np.asarray([float(v) for v in contour.ContourData]).reshape(-1, 3)


class _Grid:
    """Maps contour points onto ``series``' slices and fractional pixel indices."""

    def __init__(self, series: DicomSeries) -> None:
        self.series, self.geom = series, series.geometry
        n = series.image.shape[2]
        self.along = np.array([series.slice_position(k) @ self.geom.normal for k in range(n)])
        step = float(np.median(np.diff(self.along))) if n > 1 else 1.0
        self.tol = max(PLANE_TOL_MM, 0.05 * step)

    def place(self, pts: np.ndarray, where: str) -> tuple[int, np.ndarray]:
        """Slice index and ``(n, 2)`` fractional ``(i, j)`` of a planar contour."""
        d = pts @ self.geom.normal
        k = int(np.argmin(np.abs(self.along - d[0])))
        if np.abs(d - self.along[k]).max() > self.tol:
            raise RtstructError(f"{where} has a contour off the series' slices")
        rel = pts - self.series.slice_position(k)
        ij = np.stack(
            [
                rel @ self.geom.row_cosines / self.geom.col_spacing,
                rel @ self.geom.col_cosines / self.geom.row_spacing,
            ],
            axis=1,
        )
        return k, ij


def roi_masks(
    source: Source, series: DicomSeries, numbers: Iterable[int] | None = None
) -> dict[int, np.ndarray]:
    """Boolean masks ``[column, row, slice]`` on ``series.image``'s grid, by ROI number.

    Args:
        source: an RTSTRUCT file or data set.
        series: the image series the contours were drawn on.
        numbers: ROI numbers to rasterise (default: every ROI with a contour item).

    Raises:
        RtstructError: a wanted ROI has a contour off the series' slices.
    """
    ds, name = _load(source)
    wanted = None if numbers is None else {int(n) for n in numbers}
    grid = _Grid(series)
    shape = (series.image.shape[0], series.image.shape[1], series.image.shape[2])
    out: dict[int, np.ndarray] = {}
    for roi in ds.get("ROIContourSequence", []):
        number = int(roi.ReferencedROINumber)
        if wanted is not None and number not in wanted:
            continue
        where = f"{name}: ROI {number}"
        polys: dict[int, list[np.ndarray]] = {}
        for c in roi.get("ContourSequence", []):
            kind = str(c.get("ContourGeometricType", "CLOSED_PLANAR"))
            pts = _points(c)
            if kind not in AREA_TYPES or len(pts) < 3:
                continue
            k, ij = grid.place(pts, where)
            polys.setdefault(k, []).append(ij)
        mask = np.zeros(shape, dtype=bool)
        for k, ps in polys.items():
            mask[:, :, k] = polygons_to_mask(ps, shape[:2])
        out[number] = mask
    return out


def read_rtstruct(source: Source, series: DicomSeries) -> dict[str, np.ndarray]:
    """Every ROI of an RTSTRUCT rasterised on ``series.image``'s grid, by ROI name."""
    names = {r.number: r.name for r in list_rois(source)}
    return {
        names.get(number, f"roi_{number}"): mask
        for number, mask in roi_masks(source, series).items()
    }
