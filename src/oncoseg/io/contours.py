"""Planar contours of a 2D mask along voxel boundaries, and their rasterisation back.

:func:`mask_polygons` traces the outline of every foreground region *on the pixel edges*
(not through pixel centres, as marching squares at level 0.5 would), so rasterising the
polygons at pixel centres with the even-odd rule gives back exactly the same pixels.
Every island is its own loop; each hole is joined to the outline around it by a zero-width
"keyhole" cut along a pixel edge (the way DICOM RT suggests), so the result is right whether a
reader unites or XORs the contours of a slice. Pixels that touch only at a corner get separate
loops.

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


def _signed_area(p: np.ndarray) -> float:
    return 0.5 * float(np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1]))


def _ray_hit(poly: np.ndarray, m: np.ndarray) -> tuple[float, int, bool] | None:
    """First boundary point of ``poly`` on the ray from ``m`` towards +i along ``j = m[1]``.

    Returns (distance, index, at_vertex): the vertex index, or the index of the vertical edge
    ``poly[index] -> poly[index + 1]`` crossed in its interior.
    """
    a, b = poly, np.roll(poly, -1, axis=0)
    hits: list[tuple[float, int, bool]] = []
    on = np.nonzero((a[:, 1] == m[1]) & (a[:, 0] > m[0]))[0]
    hits += [(float(a[v, 0] - m[0]), int(v), True) for v in on]
    lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    cross = np.nonzero((a[:, 0] == b[:, 0]) & (a[:, 0] > m[0]) & (lo < m[1]) & (hi > m[1]))[0]
    hits += [(float(a[e, 0] - m[0]), int(e), False) for e in cross]
    return min(hits) if hits else None


def _keyhole(outers: list[np.ndarray], holes: list[np.ndarray]) -> list[np.ndarray]:
    """Join each hole to the outline around it by a zero-width cut along a pixel edge.

    Readers disagree on how several contours of one slice combine (plastimatch: union;
    Eclipse: even-odd). A keyholed polygon rasterises the same under both rules. Holes are
    processed by decreasing maximum ``i`` and joined along ``+i`` to the nearest edge, which
    belongs to the outline around them (or to a hole already joined to it).
    """
    polys = list(outers)
    # max i, min j, max j of each polygon: only those can meet a ray (a joined hole lies
    # inside its outline, so boxes do not change)
    boxes = np.array([[p[:, 0].max(), p[:, 1].min(), p[:, 1].max()] for p in polys]).reshape(-1, 3)
    for hole in sorted(holes, key=lambda h: -float(h[:, 0].max())):
        m = int(np.lexsort((hole[:, 1], -hole[:, 0]))[0])  # max i, then min j
        mx, my = hole[m]
        near = np.nonzero((boxes[:, 0] > mx) & (boxes[:, 1] <= my) & (boxes[:, 2] >= my))[0]
        hits = [(hit, int(n)) for n in near if (hit := _ray_hit(polys[n], hole[m]))]
        if not hits:  # cannot happen for traced masks; keep the hole as its own loop
            polys.append(hole)
            boxes = np.vstack([boxes, [hole[:, 0].max(), hole[:, 1].min(), hole[:, 1].max()]])
            continue
        (_, idx, at_vertex), n = min(hits)
        outer = polys[n]
        if not at_vertex:
            point = np.array([[outer[idx, 0], my]])
            outer = np.concatenate([outer[: idx + 1], point, outer[idx + 1 :]])
            idx += 1
        polys[n] = np.concatenate([outer[: idx + 1], hole[m:], hole[: m + 1], outer[idx:]])
    return polys


def mask_polygons(mask: np.ndarray, *, keyhole: bool = True) -> list[np.ndarray]:
    """Closed polygons ``(n, 2)`` in fractional ``(i, j)`` indices outlining ``mask``'s pixels.

    With ``keyhole`` (default) every hole is cut into the outline around it, so the polygons
    rasterise right under both the union and the even-odd rule; without it, holes are
    separate loops (even-odd rule only).
    """
    loops = [_drop_collinear(loop) - 0.5 for loop in _trace(_boundary_edges(mask))]
    if not keyhole:
        return loops
    outer = [_signed_area(p) > 0 for p in loops]
    return _keyhole(
        [p for p, o in zip(loops, outer, strict=True) if o],
        [p for p, o in zip(loops, outer, strict=True) if not o],
    )


def polygons_to_mask(polygons: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Pixels whose centres lie inside an odd number of ``polygons`` (even-odd rule).

    A scanline fill: every edge crossing of a pixel-centre line ``j`` toggles the inside state
    for the pixels after it along ``i``. Cost grows with the number of crossings, not with the
    polygon's area times its vertex count.

    Args:
        polygons: each ``(n, 2)`` fractional ``(i, j)`` indices, implicitly closed.
        shape: ``(I, J)`` of the output.
    """
    edges = [(p, np.roll(p, -1, axis=0)) for p in polygons if len(p) >= 3]
    toggles = np.zeros((shape[0] + 1, shape[1]), dtype=np.int32)
    if edges:
        a = np.concatenate([e[0] for e in edges])
        b = np.concatenate([e[1] for e in edges])
        lo = np.clip(np.ceil(np.minimum(a[:, 1], b[:, 1])), 0, shape[1]).astype(int)
        hi = np.clip(np.ceil(np.maximum(a[:, 1], b[:, 1])), 0, shape[1]).astype(int)
        count = hi - lo  # centre lines j with min <= j < max (horizontal edges: none)
        edge = np.repeat(np.arange(len(a)), count)
        j = lo[edge] + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        t = (j - a[edge, 1]) / (b[edge, 1] - a[edge, 1])
        x = a[edge, 0] + t * (b[edge, 0] - a[edge, 0])
        first = np.clip(np.floor(x).astype(int) + 1, 0, shape[0])  # pixels i > x
        np.add.at(toggles, (first, j), 1)
    return np.asarray(np.cumsum(toggles, axis=0)[: shape[0]] % 2 == 1)


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
