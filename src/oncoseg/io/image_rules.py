"""The rules every image must pass before a model, a checker or a writer sees it.

One place for them, used by :func:`oncoseg.io.image.load_image` (so ``oncoseg predict``,
``train``, ``dataset check``, the service and the cohort runner all get them) and again by
``infer.Predictor`` on the arrays it is handed. An image must be:

- **3D**: ``(X, Y, Z)``; trailing axes of length 1 are dropped (a NIfTI "4D" file with one
  time point is a volume). A 4th axis is accepted only where the format says it holds
  channels (NIfTI intent ``vector``, an NRRD/MHA vector pixel); anything else is refused
  with its shape, since a time series or a stack of unrelated volumes is not one image.
- **within the size limits** of :class:`ImageLimits` (each axis 2–4096 voxels, at most
  2**29 voxels, about 512 x 512 x 2048);
- **finite**: no NaN or infinite voxel;
- **positive spacing**: the header's voxel sizes (NIfTI ``pixdim``, before nibabel quietly
  turns a 0 into 1 mm and a negative size into its absolute value) and the affine's
  column lengths are finite and above 0;
- **a non-singular direction**: the affine's axes are linearly independent.

Every refusal is an :class:`InvalidImageError` whose message starts with the file (or the
name the caller gave) and says what was expected, on one line.

Example:
    >>> import numpy as np
    >>> check_affine(np.diag([1.0, 1.0, 0.0, 1.0]), "ct.nii.gz")
    Traceback (most recent call last):
    ...
    oncoseg.io.image_rules.InvalidImageError: ct.nii.gz: voxel spacing (1, 1, 0) mm, expected \
every spacing above 0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_ORTHOGONALITY = 1e-3  # |det| of the affine's unit axis vectors below this: singular


class ImageReadError(ValueError):
    """An image file could not be read or is not what was expected."""


class InvalidImageError(ImageReadError):
    """An image that breaks one of the rules above; ``str()`` names the file."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source, self.reason = source, reason


@dataclass(frozen=True)
class ImageLimits:
    """What an image may measure (voxels per axis, voxels in all)."""

    min_side: int = 2  # a 3D volume with one slice is a 2D image
    max_side: int = 4096
    max_voxels: int = 2**29  # 512 x 512 x 2048; 2 GiB as float32


LIMITS = ImageLimits()


def _fmt(values: Sequence[float] | np.ndarray) -> str:
    return "(" + ", ".join(f"{float(v):g}" for v in values) + ")"


def spatial_shape(
    shape: Sequence[int], source: str, *, channel_axis: bool = False
) -> tuple[tuple[int, int, int], int]:
    """The 3D shape and channel count of an array of ``shape`` (its header's dimensions).

    Trailing axes of length 1 are dropped. With ``channel_axis`` (the format declares the
    last axis as channels) that axis gives the channel count; any other axis beyond the
    third refuses the image.

    Raises:
        InvalidImageError: fewer than 3 axes, or more without a declared channel axis.
    """
    dims = tuple(int(s) for s in shape)
    channels = 1
    if channel_axis and len(dims) > 3:
        channels, dims = dims[-1], dims[:-1]
    while len(dims) > 3 and dims[-1] == 1:
        dims = dims[:-1]
    if len(dims) < 3:
        raise InvalidImageError(
            source, f"{len(dims)}D image of shape {tuple(shape)}, expected a 3D volume"
        )
    if len(dims) > 3:
        raise InvalidImageError(
            source,
            f"{len(dims)}D image of shape {tuple(shape)}, expected a 3D volume (a 4th axis is "
            "read only where the format marks it as channels, e.g. a NIfTI vector intent; "
            "otherwise save one file per channel)",
        )
    return (dims[0], dims[1], dims[2]), channels


def check_size(shape: Sequence[int], source: str, limits: ImageLimits = LIMITS) -> None:
    """Refuse a 3D ``shape`` outside ``limits`` (one slice, too long an axis, too many voxels)."""
    if min(shape) < limits.min_side:
        raise InvalidImageError(
            source,
            f"shape {tuple(shape)} has an axis under {limits.min_side} voxels (a single "
            "slice), expected a 3D volume",
        )
    if max(shape) > limits.max_side or int(np.prod(shape)) > limits.max_voxels:
        raise InvalidImageError(
            source,
            f"shape {tuple(shape)} is too large, expected at most {limits.max_side} voxels "
            f"per axis and {limits.max_voxels:,} in all",
        )


def check_spacing(spacing: Sequence[float], source: str, what: str = "voxel spacing") -> None:
    """Refuse a spacing (mm) that is not finite and above 0 along every axis."""
    sp = np.asarray(spacing, dtype=np.float64)
    if not (np.all(np.isfinite(sp)) and np.all(sp > 0)):
        raise InvalidImageError(source, f"{what} {_fmt(sp)} mm, expected every spacing above 0")


def check_affine(affine: np.ndarray, source: str) -> None:
    """Refuse a voxel-to-world affine with non-finite entries, a zero-length axis or a
    singular (degenerate) direction."""
    a = np.asarray(affine, dtype=np.float64)
    if a.shape != (4, 4) or not np.all(np.isfinite(a)):
        raise InvalidImageError(source, "affine is not a finite 4x4 matrix")
    cols = a[:3, :3]
    spacing = np.linalg.norm(cols, axis=0)
    check_spacing(spacing, source)
    if abs(float(np.linalg.det(cols / spacing))) < MIN_ORTHOGONALITY:
        raise InvalidImageError(
            source,
            "direction matrix is singular (two image axes point the same way), expected "
            "three independent axes",
        )


def check_finite(array: np.ndarray, source: str) -> None:
    """Refuse an array with NaN or infinite values, naming how many."""
    arr = np.asarray(array)
    if not np.issubdtype(arr.dtype, np.inexact):
        return  # integer voxels are always finite
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        nan = int(np.count_nonzero(np.isnan(arr)))
        raise InvalidImageError(
            source,
            f"{bad} of {arr.size} voxels are not finite ({nan} NaN, {bad - nan} infinite), "
            "expected finite values",
        )


def check_image(
    array: np.ndarray, affine: np.ndarray, source: str, limits: ImageLimits = LIMITS
) -> None:
    """Every rule at once on an array in memory (3D, size, affine, values)."""
    shape = tuple(int(s) for s in np.shape(array))
    if len(shape) != 3:
        raise InvalidImageError(
            source, f"{len(shape)}D array of shape {shape}, expected a 3D volume"
        )
    check_size(shape, source, limits)
    check_affine(affine, source)
    check_finite(array, source)
