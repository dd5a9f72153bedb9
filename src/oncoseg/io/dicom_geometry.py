"""Geometry of a stack of DICOM slices: slice order, spacing checks and the voxel affine.

DICOM places pixel (row ``r``, column ``c``) of a slice at
``ImagePositionPatient + c * PixelSpacing[1] * X + r * PixelSpacing[0] * Y`` (LPS, mm), where
``X`` and ``Y`` are the two direction-cosine triplets of ``ImageOrientationPatient``. Note the
order: ``PixelSpacing`` is *(row spacing, column spacing)*, i.e. the first value goes with
``Y`` — swapping them is the bug that turns contours on non-square series (see DESIGN §8).

Our :class:`~oncoseg.io.image.Image` indexes ``[i, j, k]`` = (column, row, slice), like
SimpleITK after transposing, so the LPS voxel matrix has columns ``X * PixelSpacing[1]``,
``Y * PixelSpacing[0]`` and ``N * slice spacing`` with ``N = X x Y``; slices are sorted by
their position projected on ``N``. The RAS affine is ``diag(-1, -1, 1) @ LPS``.

Example:
    >>> import numpy as np
    >>> g = SliceGeometry.from_values((1, 0, 0, 0, 1, 0), (0.5, 0.8))
    >>> order, step = sort_positions(g, np.array([[0, 0, 6.0], [0, 0, 0.0], [0, 0, 3.0]]), "s")
    >>> order.tolist(), step
    ([1, 2, 0], 3.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])
ORIENTATION_TOL = 1e-4  # direction cosines equal within this
POSITION_TOL_MM = 0.01  # two slices closer than this along the normal are duplicates
TILT_TOL_MM = 0.05  # sideways drift of slice origins tolerated (rounding in headers)
SPACING_REL_TOL = 0.01  # slice gaps may differ by 1 % of the median gap


class SeriesGeometryError(ValueError):
    """The slices of a series do not form one regular 3D grid."""


@dataclass(frozen=True)
class SliceGeometry:
    """In-plane geometry shared by every slice of a series."""

    row_cosines: np.ndarray  # X: direction of increasing column index, LPS
    col_cosines: np.ndarray  # Y: direction of increasing row index, LPS
    row_spacing: float  # PixelSpacing[0]: distance between rows (along Y), mm
    col_spacing: float  # PixelSpacing[1]: distance between columns (along X), mm

    @classmethod
    def from_values(
        cls, orientation: Sequence[float], pixel_spacing: Sequence[float]
    ) -> SliceGeometry:
        o = np.asarray([float(v) for v in orientation], dtype=np.float64)
        if o.shape != (6,):
            raise SeriesGeometryError(f"ImageOrientationPatient has {o.size} values, expected 6")
        x, y = o[:3], o[3:]
        if abs(np.linalg.norm(x) - 1) > 1e-3 or abs(np.linalg.norm(y) - 1) > 1e-3:
            raise SeriesGeometryError("ImageOrientationPatient cosines are not unit vectors")
        if abs(float(x @ y)) > 1e-3:
            raise SeriesGeometryError("ImageOrientationPatient row and column are not orthogonal")
        sp = [float(v) for v in pixel_spacing]
        if len(sp) != 2 or min(sp) <= 0:
            raise SeriesGeometryError(f"PixelSpacing {sp} is not two positive numbers")
        return cls(x / np.linalg.norm(x), y / np.linalg.norm(y), sp[0], sp[1])

    @property
    def normal(self) -> np.ndarray:
        """Slice normal ``X x Y`` (LPS)."""
        n = np.cross(self.row_cosines, self.col_cosines)
        return np.asarray(n / np.linalg.norm(n), dtype=np.float64)

    def same_orientation(self, other: SliceGeometry) -> bool:
        return bool(
            np.allclose(self.row_cosines, other.row_cosines, atol=ORIENTATION_TOL)
            and np.allclose(self.col_cosines, other.col_cosines, atol=ORIENTATION_TOL)
        )

    def pixel_to_lps(self, origin: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Patient (LPS, mm) points of fractional (column, row) indices on a slice at ``origin``.

        Returns ``(n, 3)``.
        """
        c = np.asarray(cols, dtype=np.float64)[:, None]
        r = np.asarray(rows, dtype=np.float64)[:, None]
        return np.asarray(
            origin[None, :]
            + c * self.col_spacing * self.row_cosines[None, :]
            + r * self.row_spacing * self.col_cosines[None, :]
        )


def sort_positions(
    geom: SliceGeometry, positions: np.ndarray, where: str
) -> tuple[np.ndarray, float]:
    """Order slices along the normal and check the stack is regular.

    Args:
        geom: the series' in-plane geometry.
        positions: ``(n, 3)`` ImagePositionPatient of each slice, in file order.
        where: the folder (or series) named in errors.

    Returns:
        The permutation that sorts the slices (ascending along the normal) and the slice step
        in mm (0.0 for a single slice).
    """
    pos = np.asarray(positions, dtype=np.float64)
    along = pos @ geom.normal
    order = np.argsort(along, kind="stable")
    along, pos = along[order], pos[order]
    if len(order) < 2:
        return order, 0.0
    gaps = np.diff(along)
    if np.any(gaps < POSITION_TOL_MM):
        k = int(np.argmin(gaps))
        raise SeriesGeometryError(
            f"{where}: two slices at the same position ({along[k]:.3f} mm along the normal); "
            "the folder holds duplicates or several acquisitions of one series"
        )
    _check_tilt(geom, pos, along, where)
    _check_gaps(gaps, along, where)
    return order, float((along[-1] - along[0]) / (len(along) - 1))


def _check_tilt(geom: SliceGeometry, pos: np.ndarray, along: np.ndarray, where: str) -> None:
    """Successive origins must move along the normal only (else: gantry tilt or shear)."""
    in_plane = (pos - pos[0]) - np.outer(along - along[0], geom.normal)
    drift = float(np.abs(in_plane).max())
    if drift > TILT_TOL_MM:
        raise SeriesGeometryError(
            f"{where}: slice origins drift {drift:.2f} mm sideways across the stack "
            "(gantry tilt or sheared acquisition); resample the series without tilt first"
        )


def _check_gaps(gaps: np.ndarray, along: np.ndarray, where: str) -> None:
    median = float(np.median(gaps))
    bad = np.abs(gaps - median) > SPACING_REL_TOL * median + 1e-3
    if not bad.any():
        return
    k = int(np.argmax(bad))
    ratio = gaps[k] / median
    if abs(ratio - round(ratio)) < 0.05 and round(ratio) >= 2:
        raise SeriesGeometryError(
            f"{where}: {int(round(ratio)) - 1} slice(s) missing between "
            f"{along[k]:.2f} and {along[k + 1]:.2f} mm along the normal "
            f"(gap {gaps[k]:.2f} mm, usual {median:.2f} mm)"
        )
    raise SeriesGeometryError(
        f"{where}: uneven slice spacing: gap {gaps[k]:.3f} mm at {along[k]:.2f} mm along the "
        f"normal, usual {median:.3f} mm"
    )


def series_affine(geom: SliceGeometry, first_position: np.ndarray, step: float) -> np.ndarray:
    """RAS+ 4x4 affine of the ``[i=column, j=row, k=slice]`` array (slices sorted ascending).

    A single slice gets its normal scaled by 1 mm (the thickness is not a spacing).
    """
    lps = np.eye(4)
    lps[:3, 0] = geom.row_cosines * geom.col_spacing
    lps[:3, 1] = geom.col_cosines * geom.row_spacing
    lps[:3, 2] = geom.normal * (step if step > 0 else 1.0)
    lps[:3, 3] = np.asarray(first_position, dtype=np.float64)
    ras = np.eye(4)
    ras[:3, :] = LPS_TO_RAS @ lps[:3, :]
    return ras
