"""Building blocks shared by the phantom cohorts: world grids, shapes, scanner effects.

Phantoms are drawn in world coordinates (RAS+, mm; +x = patient's right, +y = anterior,
+z = superior) and sampled on a voxel grid whose spacing and field of view come from the
site's scanner profile, so anatomy keeps its physical size at any ``size``. Arrays are
stored in LPS voxel order (i -> patient's left, j -> posterior, k -> superior), as DICOM
converters write CT, with the matching affine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

RIGHT, LEFT = 1.0, -1.0  # sign of world x on each side of the patient


def side_sign(side: str) -> float:
    """World-x sign of a side: ``right`` -> +1, ``left`` -> -1 (RAS+)."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    return RIGHT if side == "right" else LEFT


@dataclass(frozen=True)
class Grid:
    """A voxel grid: world coordinates (mm) of every voxel centre, shape (S, S, S) each."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    affine: np.ndarray

    @property
    def spacing(self) -> tuple[float, float, float]:
        s = np.linalg.norm(self.affine[:3, :3], axis=0)
        return float(s[0]), float(s[1]), float(s[2])


def make_grid(
    size: int, fov_mm: tuple[float, float, float], center_mm: tuple[float, float, float]
) -> Grid:
    """A ``size``³ grid covering ``fov_mm`` (LR, AP, SI) centred on ``center_mm``, LPS order."""
    if size < 16:
        raise ValueError(f"size must be at least 16 voxels, got {size}")
    spacing = np.array(fov_mm, dtype=np.float64) / size
    affine = np.diag([-spacing[0], -spacing[1], spacing[2], 1.0])
    half = (size - 1) / 2.0
    affine[:3, 3] = np.array(center_mm) - affine[:3, :3] @ np.full(3, half)
    idx = np.arange(size, dtype=np.float32)
    xs = affine[0, 3] + affine[0, 0] * idx
    ys = affine[1, 3] + affine[1, 1] * idx
    zs = affine[2, 3] + affine[2, 2] * idx
    x, y, z = np.meshgrid(
        xs.astype(np.float32), ys.astype(np.float32), zs.astype(np.float32), indexing="ij"
    )
    return Grid(x=x, y=y, z=z, affine=affine)


def ellipsoid(
    g: Grid, center: tuple[float, float, float], radii: tuple[float, float, float]
) -> np.ndarray:
    """Boolean mask of an axis-aligned ellipsoid (mm)."""
    cx, cy, cz = center
    rx, ry, rz = radii
    return ((g.x - cx) / rx) ** 2 + ((g.y - cy) / ry) ** 2 + ((g.z - cz) / rz) ** 2 <= 1.0


def elliptic_cylinder(
    g: Grid,
    center_xy: tuple[float, float],
    radii_xy: tuple[float, float],
    z_range: tuple[float, float] = (-np.inf, np.inf),
) -> np.ndarray:
    """Boolean mask of an elliptic cylinder along z between ``z_range`` (mm)."""
    inside = ((g.x - center_xy[0]) / radii_xy[0]) ** 2 + ((g.y - center_xy[1]) / radii_xy[1]) ** 2
    return (inside <= 1.0) & (g.z >= z_range[0]) & (g.z <= z_range[1])


def rod(
    g: Grid, start: tuple[float, float, float], end: tuple[float, float, float], radius: float
) -> np.ndarray:
    """Boolean mask of a capsule (a rod with round ends) from ``start`` to ``end`` (mm)."""
    p0, p1 = np.array(start, np.float32), np.array(end, np.float32)
    d = p1 - p0
    t = ((g.x - p0[0]) * d[0] + (g.y - p0[1]) * d[1] + (g.z - p0[2]) * d[2]) / float(d @ d)
    t = np.clip(t, 0.0, 1.0)
    dist2 = (
        (g.x - p0[0] - t * d[0]) ** 2
        + (g.y - p0[1] - t * d[1]) ** 2
        + (g.z - p0[2] - t * d[2]) ** 2
    )
    return dist2 <= radius**2


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma_vox: float) -> np.ndarray:
    """Gaussian noise smoothed to blobs of ``sigma_vox`` voxels, rescaled to unit SD."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma_vox)
    return field / (field.std() + 1e-6)


@dataclass(frozen=True)
class ScannerProfile:
    """How one site's scanner turns true tissue values into the stored image.

    Attributes:
        noise_sd: additive Gaussian noise, in image units (HU for CT).
        offset: additive intensity offset (HU calibration drift).
        scale: multiplicative intensity scale.
        blur_mm: in-plane point-spread (Gaussian sigma, mm).
        thickness_mm: slice thickness (Gaussian sigma along z, mm).
        fov_xy_mm: range the in-plane field of view is drawn from, per case.
        fov_z_mm: range the cranio-caudal extent is drawn from, per case.
        bias: amplitude of a smooth multiplicative bias field (MRI), 0 for CT.
    """

    noise_sd: float
    offset: float
    scale: float
    blur_mm: float
    thickness_mm: float
    fov_xy_mm: tuple[float, float]
    fov_z_mm: tuple[float, float]
    bias: float = 0.0


def apply_scanner(
    true_img: np.ndarray,
    spacing: tuple[float, float, float],
    profile: ScannerProfile,
    rng: np.random.Generator,
) -> np.ndarray:
    """Blur (PSF and slice thickness), bias, scale/offset and noise; returns float32."""
    sigma = (
        profile.blur_mm / spacing[0],
        profile.blur_mm / spacing[1],
        profile.thickness_mm / spacing[2],
    )
    img = ndimage.gaussian_filter(true_img.astype(np.float32), sigma)
    if profile.bias > 0:
        img = img * (1.0 + profile.bias * smooth_noise(rng, img.shape, img.shape[0] / 4))
    img = img * profile.scale + profile.offset
    img = img + rng.normal(0.0, profile.noise_sd, img.shape).astype(np.float32)
    return img.astype(np.float32)


def draw(rng: np.random.Generator, table: dict[str, float]) -> str:
    """Draw one key of ``table`` with probability proportional to its value."""
    keys = list(table)
    p = np.array([table[k] for k in keys], dtype=np.float64)
    return str(keys[int(rng.choice(len(keys), p=p / p.sum()))])


def case_rng(seed: int, *keys: int) -> np.random.Generator:
    """An independent generator for (seed, keys...), stable across numpy versions."""
    return np.random.default_rng(np.random.SeedSequence([seed, *keys]))
