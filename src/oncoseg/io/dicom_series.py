"""Read one DICOM CT/MR series from a folder into an :class:`~oncoseg.io.image.Image`.

Files may lie in any order and in sub-folders; non-DICOM files and non-image objects
(RTSTRUCT, SEG, plans, reports) are ignored. Slices are sorted by their position along the
slice normal (never by file name or InstanceNumber), RescaleSlope/Intercept are applied, and
compressed transfer syntaxes are decoded by pydicom's plugins (JPEG 2000 needs
``pylibjpeg-openjpeg``, in the ``dicom`` extra). The affine follows
:mod:`oncoseg.io.dicom_geometry` and equals SimpleITK/GDCM's geometry for the same files.

A folder with several series needs ``series_uid``; the error then lists each series with its
modality, description and slice count. Errors name the folder (or file) and the problem:
missing slices, uneven spacing, gantry tilt, mixed orientations or sizes, localizers mixed
in, no pixel data. Headers are never logged (they hold patient identity).

Example:
    >>> series = read_dicom_series("patient1/CT")  # doctest: +SKIP
    >>> series.image.spacing, series.modality  # doctest: +SKIP
    ((0.7, 0.9, 2.5), 'CT')
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from pydicom import Dataset
from pydicom.errors import InvalidDicomError

from oncoseg.io.dicom_geometry import (
    SeriesGeometryError,
    SliceGeometry,
    series_affine,
    sort_positions,
)
from oncoseg.io.dicom_identity import repair_uids
from oncoseg.io.image import Image, ImageReadError

log = logging.getLogger(__name__)
NON_IMAGE_MODALITIES = frozenset(
    {"SEG", "RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "SR", "PR", "KO", "REG", "DOC"}
)


class DicomSeriesError(ImageReadError):
    """A DICOM folder does not hold one readable, regular image series."""


@dataclass(frozen=True)
class SeriesInfo:
    """One series found in a folder (no patient identity)."""

    uid: str  # SeriesInstanceUID; derived (see dicom_identity) when the files have none
    modality: str
    description: str
    slices: int

    def __str__(self) -> str:
        return f"{self.uid}  {self.modality}  '{self.description}'  {self.slices} slices"


@dataclass(frozen=True)
class DicomSeries:
    """A series read from ``folder``: the image plus the sorted headers (no pixel data).

    ``datasets[k]`` and ``files[k]`` describe slice ``k`` of ``image.array[:, :, k]``.
    ``repaired`` names the UID attributes that were empty and had to be filled.
    """

    image: Image
    datasets: tuple[Dataset, ...]
    files: tuple[Path, ...]
    folder: Path
    geometry: SliceGeometry
    repaired: tuple[str, ...] = field(default=())

    @property
    def modality(self) -> str:
        return str(self.datasets[0].get("Modality", ""))

    @property
    def study_uid(self) -> str:
        return str(self.datasets[0].StudyInstanceUID)

    @property
    def series_uid(self) -> str:
        return str(self.datasets[0].SeriesInstanceUID)

    @property
    def frame_of_reference_uid(self) -> str:
        return str(self.datasets[0].FrameOfReferenceUID)

    def slice_position(self, k: int) -> np.ndarray:
        """ImagePositionPatient (LPS, mm) of slice ``k``."""
        return np.array([float(v) for v in self.datasets[k].ImagePositionPatient])


def _series_key(ds: Dataset) -> str:
    uid = str(ds.get("SeriesInstanceUID", ""))
    if uid:
        return uid
    parts = (
        ds.get("StudyInstanceUID", ""),
        ds.get("FrameOfReferenceUID", ""),
        ds.get("SeriesNumber", ""),
        ds.get("Modality", ""),
    )
    return "no-uid:" + ":".join(str(p) for p in parts)


def scan_files(paths: Iterable[Path]) -> dict[str, list[tuple[Path, Dataset]]]:
    """Headers of the image files among ``paths``, grouped by series (others skipped)."""
    groups: dict[str, list[tuple[Path, Dataset]]] = defaultdict(list)
    for path in paths:
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except (InvalidDicomError, EOFError, OSError, ValueError):
            continue  # not DICOM (or unreadable): folders hold READMEs, DICOMDIRs, ...
        if str(ds.get("Modality", "")) in NON_IMAGE_MODALITIES or "Rows" not in ds:
            continue
        groups[_series_key(ds)].append((path, ds))
    return dict(groups)


def _scan(folder: Path) -> dict[str, list[tuple[Path, Dataset]]]:
    """Headers of the image files under ``folder``, grouped by series."""
    if not folder.is_dir():
        raise DicomSeriesError(f"{folder}: not a folder")
    groups = scan_files(sorted(p for p in folder.rglob("*") if p.is_file()))
    if not groups:
        raise DicomSeriesError(f"{folder}: no DICOM image files found")
    return groups


def _repair(groups: dict[str, list[tuple[Path, Dataset]]]) -> dict[str, tuple[str, ...]]:
    """Repair empty UIDs of every group in place (see dicom_identity); keyed by series UID."""
    out: dict[str, tuple[str, ...]] = {}
    for key, items in list(groups.items()):
        fixed = repair_uids([d for _, d in items], [p.name for p, _ in items], key)
        uid = str(items[0][1].SeriesInstanceUID)
        groups[uid] = groups.pop(key)
        out[uid] = tuple(fixed)
    return out


def _info(uid: str, items: list[tuple[Path, Dataset]]) -> SeriesInfo:
    ds = items[0][1]
    desc = str(ds.get("SeriesDescription", ""))
    return SeriesInfo(uid, str(ds.get("Modality", "")), desc, len(items))


def list_series(folder: str | os.PathLike[str]) -> list[SeriesInfo]:
    """The image series under ``folder`` (largest first)."""
    groups = _scan(Path(folder))
    _repair(groups)
    infos = [_info(uid, items) for uid, items in groups.items()]
    return sorted(infos, key=lambda s: (-s.slices, s.uid))


def _select(
    groups: dict[str, list[tuple[Path, Dataset]]], series_uid: str | None, folder: Path
) -> str:
    if series_uid is not None:
        if series_uid not in groups:
            raise DicomSeriesError(f"{folder}: no series {series_uid}; found:\n" + _listing(groups))
        return series_uid
    if len(groups) > 1:
        raise DicomSeriesError(
            f"{folder}: {len(groups)} series found, choose one by its UID "
            "(--series UID):\n" + _listing(groups)
        )
    return next(iter(groups))


def _listing(groups: dict[str, list[tuple[Path, Dataset]]]) -> str:
    infos = sorted((_info(u, it) for u, it in groups.items()), key=lambda s: -s.slices)
    return "\n".join(f"  {s}" for s in infos)


def _check_slices(items: list[tuple[Path, Dataset]], where: str) -> SliceGeometry:
    """Every slice single-frame, same size, spacing and orientation, no localizer."""
    first_geom: SliceGeometry | None = None
    size = None
    for path, ds in items:
        if "LOCALIZER" in [str(v).upper() for v in ds.get("ImageType", [])]:
            raise DicomSeriesError(
                f"{where}: {path.name} is a localizer (scout) image mixed "
                "into the series; remove it or export the axial series alone"
            )
        if int(ds.get("NumberOfFrames", 1) or 1) > 1:
            raise DicomSeriesError(
                f"{where}: {path.name} is a multi-frame (enhanced) image; "
                "only single-frame series are read"
            )
        for kw in ("ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"):
            if not ds.get(kw):
                raise DicomSeriesError(f"{where}: {path.name} has no {kw}")
        try:
            geom = SliceGeometry.from_values(ds.ImageOrientationPatient, ds.PixelSpacing)
        except SeriesGeometryError as exc:
            raise DicomSeriesError(f"{where}: {path.name}: {exc}") from exc
        if first_geom is None:
            first_geom, size = geom, (ds.Rows, ds.Columns)
            continue
        if not geom.same_orientation(first_geom):
            raise DicomSeriesError(
                f"{where}: mixed orientations ({path.name} differs from "
                f"{items[0][0].name}); one series per orientation expected"
            )
        if (ds.Rows, ds.Columns) != size or not np.allclose(
            (geom.row_spacing, geom.col_spacing),
            (first_geom.row_spacing, first_geom.col_spacing),
            atol=1e-4,
        ):
            raise DicomSeriesError(
                f"{where}: {path.name} has another slice size or pixel "
                f"spacing than {items[0][0].name}"
            )
    assert first_geom is not None
    return first_geom


def _pixels(path: Path, where: str) -> tuple[np.ndarray, float, float]:
    """Raw pixels ``(rows, columns)`` of one file with its slope and intercept."""
    ds = pydicom.dcmread(path)
    if "PixelData" not in ds:
        raise DicomSeriesError(f"{where}: {path.name} has no pixel data")
    try:
        raw = ds.pixel_array
    except (RuntimeError, NotImplementedError) as exc:  # missing decoder plugin
        syntax = ds.file_meta.get("TransferSyntaxUID", "?")
        raise DicomSeriesError(
            f"{where}: {path.name}: cannot decode transfer syntax {syntax} ({exc}); install "
            "oncoseg[dicom] (pylibjpeg-openjpeg decodes JPEG 2000)"
        ) from exc
    if raw.ndim != 2:
        raise DicomSeriesError(
            f"{where}: {path.name}: pixel data of shape {raw.shape}, expected one greyscale frame"
        )
    return raw, float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0)


def _stack(paths: list[Path], where: str) -> np.ndarray:
    """Rescaled volume ``[column, row, slice]``: int16/int32 when exact, else float32."""
    slices = [_pixels(p, where) for p in paths]
    exact = all(s.is_integer() and b.is_integer() for _, s, b in slices)
    work = np.dtype(np.int64 if exact else np.float32)
    vol = np.stack(
        [
            np.asarray(raw, dtype=work) * np.asarray(s, work) + np.asarray(b, work)
            for raw, s, b in slices
        ],
        axis=-1,
    )
    vol = vol.transpose(1, 0, 2)  # (rows, cols, k) -> (cols, rows, k)
    if exact:
        for dtype in (np.int16, np.int32):
            info = np.iinfo(dtype)
            if vol.min() >= info.min and vol.max() <= info.max:
                return np.ascontiguousarray(vol.astype(dtype))
    return np.ascontiguousarray(vol.astype(np.float32))


def read_dicom_series(folder: str | os.PathLike[str], series_uid: str | None = None) -> DicomSeries:
    """Read the (chosen) series under ``folder`` with its exact geometry.

    Raises:
        DicomSeriesError: naming the folder or file and what is wrong.
    """
    root = Path(folder)
    return _read_groups(_scan(root), series_uid, root)


def read_dicom_files(
    files: Sequence[str | os.PathLike[str]], where: str | os.PathLike[str]
) -> DicomSeries:
    """Read one series from its files (they may lie anywhere); ``where`` is named in errors.

    Raises:
        DicomSeriesError: the files hold no image, several series, or an irregular stack.
    """
    root = Path(where)
    groups = scan_files(Path(f) for f in files)
    if not groups:
        raise DicomSeriesError(f"{root}: no DICOM image files found")
    return _read_groups(groups, None, root)


def _read_groups(
    groups: dict[str, list[tuple[Path, Dataset]]], series_uid: str | None, root: Path
) -> DicomSeries:
    repaired = _repair(groups)
    uid = _select(groups, series_uid, root)
    items = groups[uid]
    geom = _check_slices(items, str(root))
    positions = np.array([[float(v) for v in d.ImagePositionPatient] for _, d in items])
    try:
        order, step = sort_positions(geom, positions, str(root))
    except SeriesGeometryError as exc:
        raise DicomSeriesError(str(exc)) from exc
    items = [items[int(i)] for i in order]
    if repaired[uid]:  # attribute names only: paths and values may identify the patient
        log.warning(
            "DICOM series with empty %s in its data sets: filled from file_meta or derived; "
            "DICOM outputs will not attach to the original study in a PACS",
            ", ".join(repaired[uid]),
        )
    array = _stack([p for p, _ in items], str(root))
    affine = series_affine(geom, positions[order[0]], step)
    return DicomSeries(
        image=Image(array, affine),
        datasets=tuple(d for _, d in items),
        files=tuple(p for p, _ in items),
        folder=root,
        geometry=geom,
        repaired=repaired[uid],
    )


def load_dicom_image(folder: str | os.PathLike[str], series_uid: str | None = None) -> Image:
    """Only the image of :func:`read_dicom_series`."""
    return read_dicom_series(folder, series_uid).image
