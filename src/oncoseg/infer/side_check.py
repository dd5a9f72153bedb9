"""Does the contour lie on the side the note names? A cheap check of every prediction
(step 3 of :func:`oncoseg.infer.pipeline.run_prediction`).

When a note contradicts the image (a note naming the left side for a CT whose right breast
was removed), a note-guided model may follow the image, the note, or split between them.
Following such a note is not the goal, but the user must hear about the disagreement::

    >>> import numpy as np
    >>> mask = np.zeros((8, 4, 4), bool); mask[:3] = True  # low x = the patient's left (RAS)
    >>> check_side("N2, mastectomy, right side", mask, np.eye(4)).warning is not None
    True

Sides are read in RAS+ world coordinates (x grows toward the patient's right), the midline
is the centre of the image's bright half (the body), so the check works for any
orientation of the input grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_BOTH = re.compile(r"\b(?:bilateral|both\s+(?:sides|breasts|axillae|hemispheres))\b", re.I)
_SIDE = re.compile(r"\b(left|right)(?:[\s\-]+sided)?\b", re.I)
UNILATERAL = 0.8  # share of the contour on one side above which it counts as that side's


@dataclass(frozen=True)
class SideCheck:
    """The note's side, the contour's side and the share of the contour on the left."""

    note_side: str | None  # left | right | both | None (the note names no single side)
    contour_side: str | None  # left | right | both | None (empty contour)
    midline_left_share: float  # share of contour voxels on the patient's left (NaN when empty)

    @property
    def warning(self) -> str | None:
        """A one-line warning when note and contour name opposite sides, else None."""
        if self.note_side not in ("left", "right") or self.contour_side not in ("left", "right"):
            return None
        if self.note_side == self.contour_side:
            return None
        share = (
            self.midline_left_share if self.contour_side == "left" else 1 - self.midline_left_share
        )
        return (
            f"the note names the {self.note_side} side but {share:.0%} of the contour lies on "
            f"the patient's {self.contour_side}: check that note and image belong together"
        )


def note_side(note: str) -> str | None:
    """``left``/``right`` when the note names only that side, ``both`` for bilateral."""
    if _BOTH.search(note):
        return "both"
    sides = {m.group(1).lower() for m in _SIDE.finditer(note)}
    return sides.pop() if len(sides) == 1 else None


def _mean_index(mask: np.ndarray) -> np.ndarray:
    """Mean voxel index (3,) of the True voxels of ``mask``, from its three marginal counts
    (no index list of a CT-size mask)."""
    total = mask.sum(dtype=np.int64)
    return np.array(
        [
            float(
                np.arange(n, dtype=float) @ mask.sum(axis=tuple(a for a in range(3) if a != axis))
            )
            / total
            for axis, n in enumerate(mask.shape)
        ]
    )


def midline_left_share(
    mask: np.ndarray, affine: np.ndarray, image: np.ndarray | None = None
) -> float:
    """Share of the ``mask`` voxels left of the body's midline (NaN for an empty mask).

    The midline is the mean RAS x of the image voxels brighter than the image's mean (the
    body, for CT and MRI alike), or the grid's centre without an image. RAS x is linear in
    the voxel index, so the body's mean x is that of its mean index."""
    idx = np.nonzero(mask)
    if not len(idx[0]):
        return float("nan")
    body = None
    if image is not None and np.isfinite(image).all():
        body = image > image.mean()
    if body is None or not body.any():  # no image, or a uniform one: the grid's centre
        centre = (np.array(mask.shape, dtype=float) - 1.0) / 2.0
    else:
        centre = _mean_index(body)
    row = affine[0, :3]
    midline = float(centre @ row + affine[0, 3])
    x = np.full(len(idx[0]), affine[0, 3], dtype=np.float32)
    for a in range(3):
        x += np.float32(row[a]) * idx[a].astype(np.float32)
    return float(np.mean(x < midline))


def check_side(
    note: str, mask: np.ndarray, affine: np.ndarray, image: np.ndarray | None = None
) -> SideCheck:
    """Compare the side ``note`` names with where ``mask`` (on ``image``'s grid) lies."""
    share = midline_left_share(np.asarray(mask) > 0, affine, image)
    if np.isnan(share):
        contour = None
    elif share >= UNILATERAL:
        contour = "left"
    elif share <= 1 - UNILATERAL:
        contour = "right"
    else:
        contour = "both"
    return SideCheck(note_side(note), contour, share)
