"""Case pictures: axial and coronal slices with contours outlined and the note beside them.

Slices are shown the radiological way (patient's right on the viewer's left, anterior or
superior at the top) whatever the file's voxel order, with the true aspect ratio from the
spacing.

Example:
    >>> from oncoseg.eval.figures import render_case_png   # doctest: +SKIP
    >>> render_case_png("ds", "bctv_0000", "case.png")      # doctest: +SKIP
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from oncoseg.data.dataset import read_case, read_info  # noqa: E402
from oncoseg.io.atomic import atomic_path  # noqa: E402
from oncoseg.io.image import Image  # noqa: E402
from oncoseg.io.nib import nib  # noqa: E402

CT_WINDOW = (-160.0, 240.0)  # soft-tissue window, HU
CONTOUR_COLOURS = ("#ff3b30", "#34c759", "#0a84ff", "#ffcc00")


def to_ras(img: Image) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Array reoriented to RAS+ voxel order, and its spacing."""
    nii = nib.Nifti1Image(np.asarray(img.array), img.affine)
    can = nib.as_closest_canonical(nii)
    zooms = can.header.get_zooms()[:3]
    return np.asarray(can.dataobj), (float(zooms[0]), float(zooms[1]), float(zooms[2]))


def axial(vol: np.ndarray, k: int) -> np.ndarray:
    """Axial slice of a RAS array: anterior at top, patient's right on the left."""
    return vol[::-1, ::-1, k].T


def coronal(vol: np.ndarray, j: int) -> np.ndarray:
    """Coronal slice of a RAS array: superior at top, patient's right on the left."""
    return vol[::-1, j, ::-1].T


def _centre(mask: np.ndarray) -> tuple[int, int, int]:
    c = np.argwhere(mask).mean(axis=0) if mask.any() else np.array(mask.shape) / 2
    return int(round(c[0])), int(round(c[1])), int(round(c[2]))


def _window(vol: np.ndarray, modality: str) -> tuple[float, float]:
    if modality.upper() == "CT":
        return CT_WINDOW
    lo, hi = np.percentile(vol[vol > 0], [1, 99.5]) if (vol > 0).any() else (0.0, 1.0)
    return float(lo), float(hi)


def save_png(fig: Any, out: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Lay out ``fig``, write it atomically as a PNG to ``out`` and close it; the path written."""
    fig.tight_layout()
    out_path = Path(out)
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return out_path


def slice_panels(
    image: Image,
    masks: Sequence[Image],
    modality: str = "CT",
) -> list[tuple[str, np.ndarray, list[np.ndarray], float, tuple[float, float]]]:
    """Three panels (two axial levels through the first mask and a coronal view).

    Returns:
        ``(title, slice, mask slices, aspect, window)`` per panel.
    """
    vol, sp = to_ras(image)
    ms = [to_ras(m)[0] > 0 for m in masks]
    ref = np.any(ms, axis=0) if ms else np.zeros(vol.shape, bool)  # slices through all
    ci, cj, ck = _centre(ref)
    area = ref.sum(axis=(0, 1))
    ks = np.nonzero(area)[0]
    if len(ks):  # the fullest slice, and the fullest one in the upper third of the mask
        ck = int(np.argmax(area))
        upper = ks[ks >= ks.min() + 0.66 * (ks.max() - ks.min())]
        k_hi = int(upper[np.argmax(area[upper])])
    else:
        k_hi = ck
    win = _window(vol, modality)
    panels = []
    for title, k in (("axial (centre)", ck), ("axial (upper)", k_hi)):
        panels.append((title, axial(vol, k), [axial(m, k) for m in ms], sp[1] / sp[0], win))
    if ref.any():  # the deeper (posterior) part of the mask shows its anatomical context
        cj = int(np.percentile(np.nonzero(ref)[1], 25))
    panels.append(("coronal", coronal(vol, cj), [coronal(m, cj) for m in ms], sp[2] / sp[0], win))
    return panels


def render_png(
    image: Image,
    masks: Sequence[Image],
    note: str,
    out: str | os.PathLike[str],
    *,
    title: str = "",
    modality: str = "CT",
    mask_names: Sequence[str] = ("label",),
) -> Path:
    """Write a PNG of slices with each mask outlined in its colour and the note on the right."""
    panels = slice_panels(image, masks, modality)
    fig, axes = plt.subplots(
        1,
        len(panels) + 1,
        figsize=(4.0 * (len(panels) + 1), 4.4),
        gridspec_kw={"width_ratios": [1] * len(panels) + [1.1]},
    )
    for ax, (ptitle, sl, msl, aspect, win) in zip(axes, panels, strict=False):
        ax.imshow(sl, cmap="gray", vmin=win[0], vmax=win[1], aspect=aspect, interpolation="nearest")
        for m, colour in zip(msl, CONTOUR_COLOURS, strict=False):
            if m.any():
                ax.contour(m.astype(float), levels=[0.5], colors=[colour], linewidths=1.2)
        ax.set_title(ptitle, fontsize=9)
        ax.text(0.02, 0.5, "R", color="yellow", transform=ax.transAxes, fontsize=9)
        ax.text(0.94, 0.5, "L", color="yellow", transform=ax.transAxes, fontsize=9)
        ax.axis("off")
    text_ax = axes[-1]
    text_ax.axis("off")
    legend = "  ".join(
        f"{n}: {c}" for n, c in zip(mask_names, ("red", "green", "blue"), strict=False)
    )
    wrapped = "\n".join(textwrap.fill(p, 44) for p in note.strip().splitlines() if p.strip())
    text_ax.text(
        0.0,
        1.0,
        f"{title}\n\nNote:\n{wrapped}\n\nContours — {legend}",
        va="top",
        ha="left",
        fontsize=8.5,
        family="monospace",
        wrap=True,
    )
    return save_png(fig, out)


def render_case_png(
    root: str | os.PathLike[str],
    case_id: str,
    out: str | os.PathLike[str],
    split: str = "Tr",
    channel: int | None = None,
) -> Path:
    """Picture of one dataset case: its image (a chosen channel), label and note."""
    info = read_info(root)
    case = read_case(root, case_id, split)
    modality = info.channel_names["0"]
    if channel is None:  # for multi-channel MRI, FLAIR shows lesions best
        names = [v.upper() for v in info.channel_names.values()]
        channel = names.index("FLAIR") if "FLAIR" in names else 0
    masks = [case.label] if case.label is not None else []
    return render_png(
        case.images[channel],
        masks,
        case.note,
        out,
        title=f"{case_id} ({info.task}, {info.site})",
        modality=info.channel_names[str(channel)] if modality != "CT" else "CT",
    )
