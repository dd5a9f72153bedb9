"""Clinical accuracy score for breast_ctv (seed 2, Table 2), read from region coverage.

A compartment of the case's region map (breast, chest wall, axilla, SCF, IMN, per side)
counts as *included* when the prediction covers at least ``threshold`` (default 50%) of
its voxels. The required compartments are the rule table's (``tasks.breast_ctv.clinical``). Then:

- **side** is correct when every required side has a primary target (breast or chest
  wall) included and no compartment of a non-required side is included;
- **breast vs chest wall** is correct when, on every required side, the primary the
  surgery calls for is included (breast after BCS, chest wall after mastectomy) and the
  other one is not;
- **nodal regions**: per required side, the number of nodal compartments (axilla, SCF,
  IMN) whose inclusion differs from what the note requires. One differing region is a
  minor mistake; two or more mean the nodal decision itself is wrong.

Score: 0 (incorrect) for a side error, a breast/chest-wall error or a wrong nodal
decision; 1 (minor mistake) for exactly one differing nodal region on a side; 2
(correct) otherwise. *Clinical accuracy* is the share of cases scored 2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from oncoseg.tasks.breast_ctv.clinical import (
    NODAL_REGIONS,
    REGIONS,
    BreastClinical,
    ctv_components,
)

SIDES = ("left", "right")
PRIMARY = ("breast", "chestwall")


def region_coverage(pred: np.ndarray, regions: np.ndarray) -> dict[str, float]:
    """Share of each compartment's voxels inside ``pred`` (0 for an absent compartment)."""
    if pred.shape != regions.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from region map {regions.shape}")
    p = pred.astype(bool)
    out = {}
    for name, value in REGIONS.items():
        comp = regions == value
        n = int(comp.sum())
        out[name] = float((p & comp).sum() / n) if n else 0.0
    return out


def clinical_score(
    pred: np.ndarray, regions: np.ndarray, clinical: BreastClinical, threshold: float = 0.5
) -> dict[str, Any]:
    """Score one case: ``{"score", "side_ok", "primary_ok", "nodal_mismatches", ...}``."""
    cover = region_coverage(pred, regions)
    included = {name: c >= threshold for name, c in cover.items()}
    required = ctv_components(clinical)
    sides = clinical.sides
    primary = "breast" if clinical.surgery == "BCS" else "chestwall"
    other = "chestwall" if primary == "breast" else "breast"

    side_ok = all(included[f"breast_{s}"] or included[f"chestwall_{s}"] for s in sides) and not any(
        included[name] for name in REGIONS if name.rsplit("_", 1)[1] not in sides
    )
    primary_ok = all(included[f"{primary}_{s}"] and not included[f"{other}_{s}"] for s in sides)
    mismatches = [
        sum(included[f"{r}_{s}"] != (f"{r}_{s}" in required) for r in NODAL_REGIONS) for s in sides
    ]
    nodal_ok = all(m <= 1 for m in mismatches)
    if not (side_ok and primary_ok and nodal_ok):
        score = 0
    elif any(m == 1 for m in mismatches):
        score = 1
    else:
        score = 2
    return {
        "score": score,
        "side_ok": side_ok,
        "primary_ok": primary_ok,
        "nodal_mismatches": max(mismatches),
        "coverage": cover,
    }
