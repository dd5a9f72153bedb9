"""Planar contours of a 2D mask along voxel boundaries, and their rasterisation back.

:func:`mask_polygons` traces the outline of every foreground region *on the pixel edges*
(not through pixel centres, as marching squares at level 0.5 would), so rasterising the
polygons at pixel centres with the even-odd rule gives back exactly the same pixels.
Holes come out as separate loops (opposite winding) and every island as its own loop;
pixels that touch only at a corner get separate loops, so no loop crosses itself.

Coordinates are fractional pixel indices ``(i, j)`` on the ``[i, j]`` array: pixel ``(i, j)``
covers ``[i - 0.5, i + 0.5] x [j - 0.5, j + 0.5]``.

Example:
    >>> import numpy as np
    >>> m = np.zeros((4, 4), bool); m[1:3, 1:3] = True
    >>> mask_polygons(m)[0].tolist()
    [[0.5, 0.5], [2.5, 0.5], [2.5, 2.5], [0.5, 2.5]]
    >>> bool((polygons_to_mask(mask_polygons(m), m.shape) == m).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydicom.valuerep import format_number_as_ds

# Pixel-corner walk around pixel (i, j): corner offsets and the neighbour across each edge.
_EDGES = (
    ((0, 0), (1, 0), (0, -1)),
    ((1, 0), (1, 1), (1, 0)),
    ((1, 1), (0, 1), (0, 1)),
    ((0, 1), (0, 0), (-1, 0)),
)


def _boundary_edges(mask: np.ndarray) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """Directed boundary edges keyed by start corner (corner (a, b) sits at (a-0.5, b-0.5))."""
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    out: dict[tuple[int, int], list[tuple[int, int]]] = {}
    inner = m[1:-1, 1:-1]
    for (s0, s1), (e0, e1), (di, dj) in _EDGES:
        neighbour = m[1 + di : m.shape[0] - 1 + di, 1 + dj : m.shape[1] - 1 + dj]
        ii, jj = np.nonzero(inner & ~neighbour)
        for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
            out.setdefault((i + s0, j + s1), []).append((i + e0, j + e1))
    return out


def _pick(options: list[tuple[int, int]], here: tuple[int, int], d: tuple[int, int]) -> int:
    """At a corner with two ways out, take the turn that hugs the current pixel."""
    right = (-d[1], d[0])
    for n, (a, b) in enumerate(options):
        if (a - here[0], b - here[1]) == right:
            return n
    return 0


def _trace(edges: dict[tuple[int, int], list[tuple[int, int]]]) -> list[list[tuple[int, int]]]:
    loops = []
    while edges:
        start = next(iter(edges))
        loop, here, d = [start], start, (0, 0)
        while True:
            options = edges[here]
            nxt = options.pop(_pick(options, here, d) if len(options) > 1 else 0)
            if not options:
                del edges[here]
            d = (nxt[0] - here[0], nxt[1] - here[1])
            here = nxt
            if here == start:
                break
            loop.append(here)
        loops.append(loop)
    return loops


def _drop_collinear(loop: list[tuple[int, int]]) -> np.ndarray:
    pts = np.asarray(loop, dtype=np.float64)
    prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
    cross = (pts[:, 0] - prev[:, 0]) * (nxt[:, 1] - pts[:, 1]) - (pts[:, 1] - prev[:, 1]) * (
        nxt[:, 0] - pts[:, 0]
    )
    return pts[cross != 0]


def mask_polygons(mask: np.ndarray) -> list[np.ndarray]:
    """Closed polygons ``(n, 2)`` in fractional ``(i, j)`` indices outlining ``mask``'s pixels.

    Outer outlines and hole outlines are both returned; rasterise with the even-odd rule.
    """
    loops = _trace(_boundary_edges(mask))
    return [_drop_collinear(loop) - 0.5 for loop in loops]


def polygons_to_mask(polygons: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres lie inside an odd number of ``polygons`` (even-odd rule).

    Args:
        polygons: each ``(n, 2)`` fractional ``(i, j)`` indices.
        shape: ``(I, J)`` of the output.
    """
    from skimage.draw import polygon as fill

    out = np.zeros(shape, dtype=bool)
    for poly in polygons:
        if len(poly) < 3:
            continue
        rr, cc = fill(poly[:, 0], poly[:, 1], shape=shape)
        layer = np.zeros(shape, dtype=bool)
        layer[rr, cc] = True
        out ^= layer
    return out


def format_ds(values: np.ndarray) -> list[str]:
    """Decimal strings of at most 16 characters (the DS rule), micrometre precision."""
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel().tolist():
        s = f"{v:.6f}".rstrip("0").rstrip(".")
        if s in ("-0", ""):
            s = "0"
        if len(s) > 16:  # beyond +-1e8 mm: not a patient coordinate, but stay valid
            s = format_number_as_ds(v)
        out.append(s)
    return out
