"""Reorient arrays to a fixed voxel order and back, exactly (axis flips and permutations).

Models see every volume in one voxel order (``LPS``: i -> left, j -> posterior,
k -> superior), so "left" in a note means the same array side for every scanner. The
inverse maps predictions back onto the input's own grid, so output geometry equals input
geometry bit for bit.

Example:
    >>> import numpy as np
    >>> a = np.arange(8).reshape(2, 2, 2)
    >>> ras = np.diag([2.0, 2.0, 3.0, 1.0])
    >>> b, t = to_orientation(a, ras, "LPS")
    >>> bool((from_orientation(b, t) == a).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oncoseg.io.nib import nio

MODEL_ORIENTATION = "LPS"


@dataclass(frozen=True)
class OrientTransform:
    """How an array was reoriented; enough to undo it."""

    ornt: np.ndarray  # nibabel orientation transform, (3, 2)
    shape: tuple[int, int, int]  # original shape


def to_orientation(
    array: np.ndarray,
    affine: np.ndarray,
    codes: str = MODEL_ORIENTATION,
) -> tuple[np.ndarray, OrientTransform]:
    """Flip/permute the last three axes of ``array`` to the axis codes (e.g. ``"LPS"``)."""
    src = nio.io_orientation(affine)
    dst = nio.axcodes2ornt(tuple(codes))
    ornt = nio.ornt_transform(src, dst)
    lead = array.ndim - 3
    full = np.concatenate([[[i, 1] for i in range(lead)], ornt + [lead, 0]]) if lead else ornt
    out = nio.apply_orientation(array, full)
    return np.ascontiguousarray(out), OrientTransform(ornt, tuple(array.shape[-3:]))


def from_orientation(array: np.ndarray, t: OrientTransform) -> np.ndarray:
    """Undo :func:`to_orientation` on an array with the same last three axes."""
    inv = _invert(t.ornt)
    lead = array.ndim - 3
    full = np.concatenate([[[i, 1] for i in range(lead)], inv + [lead, 0]]) if lead else inv
    return np.ascontiguousarray(nio.apply_orientation(array, full))


def _invert(ornt: np.ndarray) -> np.ndarray:
    """The orientation transform that undoes ``ornt``."""
    inv = np.zeros_like(ornt)
    for src_axis, (dst_axis, flip) in enumerate(ornt):
        inv[int(dst_axis)] = [src_axis, flip]
    return inv


def spacing_in_orientation(affine: np.ndarray, t: OrientTransform) -> tuple[float, ...]:
    """Voxel sizes (mm) along the reoriented axes."""
    sp = np.linalg.norm(affine[:3, :3], axis=0)
    return tuple(float(sp[int(src)]) for src in _invert(t.ornt)[:, 0])
