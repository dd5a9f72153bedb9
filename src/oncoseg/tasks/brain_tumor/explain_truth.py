"""brain_tumor: what each note field does to the true target, and which clauses state it.

The label is the lesion the note names as the target. Edit the target's location in the
note and the truth becomes the lesion at the new location, or nothing if none is there:

========== ======================================================= =====================
field      changed to                                              true target becomes
========== ======================================================= =====================
hemisphere the other hemisphere                                    the non-target lesion
                                                                   if it sits there, else
                                                                   nothing
lobe       the first other lobe (in ``LOBES`` order) holding no    nothing
           lesion on that side
grade      the other grade                                         the same lesion (0 ml)
========== ======================================================= =====================

The non-target lesion's voxels (needed only when the edited hemisphere holds it) are found
by rendering the case with and without it: everything else is drawn from the same seeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from oncoseg.tasks.brain_tumor.phantom import LOBES, BrainClinical, make_note, render

FIELDS = ("hemisphere", "lobe", "grade")


def from_row(row: Mapping[str, str]) -> BrainClinical:
    try:
        return BrainClinical(
            int(row["age"]),
            row["hemisphere"],
            row["lobe"],
            row["grade"],
            row["history"],
            row["nontarget"],
            row["nontarget_hemisphere"],
            row["nontarget_lobe"],
        )
    except KeyError as e:
        raise ValueError(f"brain_tumor clinical row lacks the field {e.args[0]!r}") from None


def field_change(c: BrainClinical, name: str) -> dict[str, str]:
    """The edit of field ``name`` the truth's effect is measured with."""
    if name == "hemisphere":
        return {"hemisphere": "right" if c.hemisphere == "left" else "left"}
    if name == "lobe":
        taken = {c.lobe} | ({c.nontarget_lobe} if c.nontarget_hemisphere == c.hemisphere else set())
        return {"lobe": next(lb for lb in LOBES if lb not in taken)}
    if name == "grade":
        return {"grade": "low" if c.grade == "high" else "high"}
    raise ValueError(f"brain_tumor has no deciding field {name!r}; known: {FIELDS}")


def nontarget_mask(row: Mapping[str, str], site: str, size: int) -> np.ndarray:
    """The voxels of the case's non-target lesion (re-rendered with and without it)."""
    c = from_row(row)
    seed = int(row["anatomy_seed"])
    with_it, _, _, _ = render(seed, c, site, size)
    without, _, _, _ = render(seed, replace(c, nontarget=""), site, size)
    return np.any([a != b for a, b in zip(with_it, without, strict=True)], axis=0)


def truth_effects(
    row: Mapping[str, str], label: np.ndarray, voxel_ml: float, *, site: str, size: int
) -> dict[str, float]:
    """Field -> ml of the true target that changes when the field is edited."""
    c = from_row(row)
    target = label > 0
    out = {"grade": 0.0, "lobe": float(target.sum()) * voxel_ml}
    other = field_change(c, "hemisphere")["hemisphere"]
    moved = np.zeros_like(target)
    if c.nontarget and c.nontarget_hemisphere == other and c.nontarget_lobe == c.lobe:
        moved = nontarget_mask(row, site, size)
        if moved.shape != target.shape:
            raise ValueError(f"case {row.get('case', '?')}: re-rendered grid differs from label")
    out["hemisphere"] = float((moved != target).sum()) * voxel_ml
    return out


def regenerate(row: Mapping[str, str], style: str, rng: np.random.Generator, **changes: Any) -> str:
    """The note of ``row`` with ``changes``, written from the random stream ``rng``."""
    return make_note(replace(from_row(row), **changes), style, rng)


def edits(row: Mapping[str, str]) -> dict[str, dict[str, str]]:
    c = from_row(row)
    return {name: field_change(c, name) for name in FIELDS}
