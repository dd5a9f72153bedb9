"""The picture of a clause attribution: the note's words shaded by effect, the regions moved.

Left: the de-identified note, each clause in its own colour, shaded by the ml it changed
(the strongest clause fully shaded, a clause that changed nothing not at all). Right:
axial and coronal slices through the changed voxels, the contour in white and each
clause's changed region outlined in that clause's colour.

Example:
    >>> from oncoseg.eval.explain_figure import explain_png            # doctest: +SKIP
    >>> explain_png(ct, mask, explanation, "explain.png", modality="CT")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from oncoseg.eval.figures import save_png, slice_panels  # noqa: E402
from oncoseg.infer.explain import Explanation  # noqa: E402
from oncoseg.io.image import Image  # noqa: E402

CLAUSE_COLOURS = ("#ff3b30", "#34c759", "#0a84ff", "#ffcc00", "#af52de", "#ff9500", "#5ac8fa")
WRAP = 56  # characters per line of the note panel
FONT = 8.5  # points; a monospace character is about 0.6 of this wide


def clause_colour(index: int) -> str:
    return CLAUSE_COLOURS[index % len(CLAUSE_COLOURS)]


def _lines(ex: Explanation) -> list[list[tuple[str, int | None]]]:
    """The note as wrapped lines of ``(word, clause index or None)``."""
    owner = np.full(len(ex.note), -1)
    for e in ex.effects:
        owner[e.start : e.end] = e.index
    lines: list[list[tuple[str, int | None]]] = [[]]
    col, pos = 0, 0
    for word in ex.note.split():
        start = ex.note.index(word, pos)
        pos = start + len(word)
        if col and col + 1 + len(word) > WRAP:
            lines.append([])
            col = 0
        c = int(owner[start]) if owner[start] >= 0 else None
        lines[-1].append((word, c))
        col += len(word) + 1
    return lines


def _note_panel(ax: plt.Axes, ex: Explanation, fig_width_in: float) -> None:
    ax.axis("off")
    top = max((e.changed_ml for e in ex.effects), default=0.0)
    width_in = ax.get_position().width * fig_width_in
    char_w, line_h = 0.6 * FONT / 72 / width_in, 0.055
    ax.text(0, 1.0, "Note (shading: ml each clause moved)", fontsize=9, weight="bold", va="top")
    y = 0.92
    for line in _lines(ex):
        col = 0
        for word, c in line:
            box = None
            if c is not None:
                share = ex.effects[c].changed_ml / top if top > 0 else 0.0
                box = {
                    "facecolor": to_rgba(clause_colour(c), 0.1 + 0.8 * share),
                    "edgecolor": clause_colour(c),
                    "pad": 1.5,
                    "linewidth": 0.6,
                }
            ax.text(col * char_w, y, word, family="monospace", fontsize=FONT, va="top", bbox=box)
            col += len(word) + 1
        y -= line_h
    y -= line_h
    for e in ex.effects:
        words = e.text if len(e.text) <= 28 else e.text[:27] + "…"
        ax.text(
            0,
            y,
            f"{words}: +{e.added_ml:.1f} / -{e.removed_ml:.1f} ml",
            color=clause_colour(e.index),
            fontsize=8,
            va="top",
            family="monospace",
        )
        y -= line_h * 0.8


def explain_png(
    image: Image,
    mask: Image,
    ex: Explanation,
    out: str | os.PathLike[str],
    *,
    modality: str = "CT",
    title: str = "Why this contour",
) -> Path:
    """Write the attribution figure of ``ex`` (``ex.changed`` on the grid of ``image``)."""
    changed = [Image(m.astype(np.uint8), image.affine) for m in ex.changed]
    shown = changed if any(m.any() for m in ex.changed) else []
    panels = slice_panels(image, [mask, *shown], modality)
    fig, axes = plt.subplots(
        1,
        len(panels) + 1,
        figsize=(4.0 * (len(panels) + 1), 4.6),
        gridspec_kw={"width_ratios": [1.3] + [1] * len(panels)},
    )
    _note_panel(axes[0], ex, fig.get_figwidth())
    for ax, (ptitle, sl, msl, aspect, win) in zip(axes[1:], panels, strict=True):
        ax.imshow(sl, cmap="gray", vmin=win[0], vmax=win[1], aspect=aspect, interpolation="nearest")
        if msl and msl[0].any():
            ax.contour(msl[0].astype(float), levels=[0.5], colors=["white"], linewidths=1.0)
        for i, m in enumerate(msl[1:]):
            if m.any():
                ax.contour(m.astype(float), levels=[0.5], colors=[clause_colour(i)], linewidths=1.4)
        ax.set_title(ptitle, fontsize=9)
        ax.text(0.02, 0.5, "R", color="yellow", transform=ax.transAxes, fontsize=9)
        ax.text(0.94, 0.5, "L", color="yellow", transform=ax.transAxes, fontsize=9)
        ax.axis("off")
    how = {"filler": "replaced by filler words", "remove": "removed"}.get(ex.mode, ex.mode)
    fig.suptitle(f"{title} (each clause {how} in turn)", fontsize=10)
    return save_png(fig, out)
