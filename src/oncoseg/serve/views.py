"""Compact volumes for the review page: uint8, in LPS voxel order, at most ``max_side``
voxels per axis.

The page gets ``{"shape", "spacing", "data"}`` with ``data`` the base64 of a C-order uint8
array indexed ``[i, j, k]`` (i -> patient's left, j -> posterior, k -> superior), so an axial
slice drawn with i across and j down is in radiological convention. Image and mask of a case
are reoriented and subsampled the same way, so they overlay voxel for voxel.

Example:
    >>> import numpy as np
    >>> img = Image(np.arange(400 * 8 * 8, dtype=np.float32).reshape(400, 8, 8), np.eye(4))
    >>> view = display_volume(img, max_side=100)
    >>> view["shape"], view["spacing"]
    ([100, 2, 2], [4.0, 4.0, 4.0])
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from oncoseg.io.image import Image
from oncoseg.io.orientation import spacing_in_orientation, to_orientation

MAX_SIDE = 160  # 160³ uint8 = 4 MB: quick on loopback, enough to judge a contour


def _stride(shape: tuple[int, ...], max_side: int) -> int:
    return max(1, math.ceil(max(shape) / max_side))


def _lps(image: Image, max_side: int) -> tuple[np.ndarray, list[float]]:
    arr, t = to_orientation(np.asarray(image.array), image.affine, "LPS")
    s = _stride(arr.shape, max_side)
    spacing = [round(v * s, 4) for v in spacing_in_orientation(image.affine, t)]
    return np.ascontiguousarray(arr[::s, ::s, ::s]), spacing


def _pack(arr: np.ndarray, spacing: list[float], **extra: Any) -> dict[str, Any]:
    data = base64.b64encode(np.ascontiguousarray(arr, dtype=np.uint8).tobytes()).decode("ascii")
    return {"shape": [int(v) for v in arr.shape], "spacing": spacing, "data": data, **extra}


def display_volume(image: Image, max_side: int = MAX_SIDE) -> dict[str, Any]:
    """The image windowed to uint8 (0.5th-99.5th percentile) for display."""
    arr, spacing = _lps(image, max_side)
    arr = arr.astype(np.float32)
    lo, hi = (float(v) for v in np.percentile(arr, [0.5, 99.5])) if arr.size else (0.0, 1.0)
    scaled = np.clip((arr - lo) / max(hi - lo, 1e-6), 0.0, 1.0) * 255.0
    return _pack(np.rint(scaled).astype(np.uint8), spacing, window=[lo, hi])


def display_mask(mask: Image, max_side: int = MAX_SIDE) -> dict[str, Any]:
    """The label map on the same display grid as :func:`display_volume` of its image."""
    arr, spacing = _lps(mask, max_side)
    return _pack(np.clip(arr, 0, 255).astype(np.uint8), spacing)
