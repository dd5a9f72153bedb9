"""Counterfactual notes for breast_ctv: the same image, the note's N status or side flipped.

Notes are regenerated from the case's clinical.csv row with one field changed (same
generator and seed, so the wording stays as close as possible). Whether the prediction
follows is read from the compartment map: the share of the ipsilateral nodal compartments
(axilla, SCF, IMN) the prediction covers, and which side holds most predicted voxels.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from oncoseg.synth.breast_ctv import REGIONS, BreastClinical
from oncoseg.synth.breast_notes import make_note
from oncoseg.synth.phantom import case_rng

NODAL = ("axilla", "scf", "imn")


def clinical_from_row(row: dict[str, str]) -> BreastClinical:
    return BreastClinical(
        age=int(row["age"]),
        laterality=row["laterality"],
        t_stage=row["t_stage"],
        n_stage=row["n_stage"],
        m_stage=row["m_stage"],
        surgery=row["surgery"],
        chemotherapy=row["chemotherapy"] == "yes",
        pathology=row["pathology"],
        clips=row["clips"] == "yes",
    )


def note_variant(row: dict[str, str], style: str, seed: int = 0, **changes: Any) -> str:
    """The case's note regenerated with ``changes`` (e.g. ``n_stage="N2"``)."""
    c = replace(clinical_from_row(row), **changes)
    return make_note(c, style, case_rng(seed, int(row["anatomy_seed"]) % 2**31))


def nodal_coverage(pred: np.ndarray, regions: np.ndarray, side: str) -> float:
    """Share of the ``side`` nodal compartments inside the predicted mask."""
    comp = np.isin(regions, [REGIONS[f"{r}_{side}"] for r in NODAL])
    return float((pred & comp).sum() / max(1, comp.sum()))


def left_share(pred: np.ndarray, regions: np.ndarray) -> float:
    """Share of predicted voxels that lie in left-sided compartments (of all sided ones)."""
    left = np.isin(regions, [v for k, v in REGIONS.items() if k.endswith("_left")])
    right = np.isin(regions, [v for k, v in REGIONS.items() if k.endswith("_right")])
    n_left, n_right = float((pred & left).sum()), float((pred & right).sum())
    return n_left / max(1.0, n_left + n_right)
