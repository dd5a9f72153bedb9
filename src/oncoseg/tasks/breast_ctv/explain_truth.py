"""breast_ctv: what each note field does to the true CTV, and which clauses state it.

The truth's effect of a field is the rule table's label with that field changed, against
the case's own label, in ml (read from the region map, so no image is re-rendered):

========== ===================================================== ========================
field      changed to                                            moves
========== ===================================================== ========================
n_stage    N0 when the nodes are treated, else N2                nodal compartments
t_stage    T1 from T3/T4, else T3 (matters only for N1mi)        nodal compartments
laterality the other side (``both`` -> ``left``)                 everything
surgery    BCS <-> mastectomy                                    breast vs chest wall
========== ===================================================== ========================

Other fields (age, pathology, chemotherapy) decide nothing: their effect is 0.

A clause *states* a field when regenerating the note with that field changed (the same
generator and random stream that wrote it) changes the clause's characters. The N stage is
changed for that purpose within its draw pattern (:data:`MAPPING_N`): the generator draws
no positive-node count for N0 and N1mi, so an N0 <-> N2 edit shifts the random stream and
rewrites unrelated sentences (chemotherapy, closing). Distractor sentences that name the
other side of the body ("right knee replacement") change with the side too but state
nothing about the breast: they are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from oncoseg.tasks.breast_ctv.clinical import (
    REGIONS,
    BreastClinical,
    ctv_components,
    nodal_irradiation,
)
from oncoseg.tasks.breast_ctv.notes import DISTRACTORS, make_note

FIELDS = ("n_stage", "t_stage", "laterality", "surgery")
# N-stage edits that keep the note generator's random draws aligned (clause mapping only)
MAPPING_N = {"N0": "N1mi", "N1mi": "N0", "N1": "N2", "N2": "N1", "N3": "N2"}


def field_change(c: BreastClinical, name: str) -> dict[str, Any]:
    """The edit of field ``name`` the truth's effect is measured with."""
    if name == "n_stage":
        return {"n_stage": "N0" if nodal_irradiation(c) else "N2"}
    if name == "t_stage":
        return {"t_stage": "T1" if c.t_stage in ("T3", "T4") else "T3"}
    if name == "laterality":
        return {"laterality": {"left": "right", "right": "left"}.get(c.laterality, "left")}
    if name == "surgery":
        return {"surgery": "mastectomy" if c.surgery == "BCS" else "BCS"}
    raise ValueError(f"breast_ctv has no deciding field {name!r}; known: {FIELDS}")


def _label(c: BreastClinical, regions: np.ndarray) -> np.ndarray:
    return np.isin(regions, [REGIONS[n] for n in ctv_components(c)])


def truth_effects(row: Mapping[str, str], regions: np.ndarray, voxel_ml: float) -> dict[str, float]:
    """Field -> ml of the true CTV that changes when the field is edited (:func:`field_change`)."""
    c = BreastClinical.from_row(dict(row))
    own = _label(c, regions)
    return {
        name: float((_label(replace(c, **field_change(c, name)), regions) != own).sum()) * voxel_ml
        for name in FIELDS
    }


def regenerate(row: Mapping[str, str], style: str, rng: np.random.Generator, **changes: Any) -> str:
    """The note of ``row`` with ``changes``, written from the random stream ``rng``."""
    return make_note(replace(BreastClinical.from_row(dict(row)), **changes), style, rng)


def distractor(text: str) -> bool:
    """Whether ``text`` (a clause) belongs to one of the generator's distractor sentences."""
    filled = {d.format(other=s) for d in DISTRACTORS for s in ("left", "right")}
    return any(text in f for f in filled)


def edits(row: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Field -> the edit :func:`field_change` makes on this row (the truth's edits)."""
    c = BreastClinical.from_row(dict(row))
    return {name: field_change(c, name) for name in FIELDS}


def mapping_edits(row: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Field -> an edit that rewrites exactly the clauses stating the field."""
    c = BreastClinical.from_row(dict(row))
    return {**edits(row), "n_stage": {"n_stage": MAPPING_N[c.n_stage]}}
