"""OpenKBP counterfactual prescriptions: the same CT with a target added to or removed from
its prescription.

The prescription is this cohort's clinical text: whether the elective dose levels (PTV63,
PTV56) are prescribed is written in the note and decides whether those targets exist.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from oncoseg.data.dataset import list_cases, read_case
from oncoseg.infer import Predictor
from oncoseg.tasks.openkbp.convert import TARGETS, prescription

EDITED = ("PTV63", "PTV56")  # the targets a prescription adds or leaves out


def prescription_counterfactual(
    predictor: Predictor,
    ds: str | os.PathLike[str],
    split: str = "Ts",
    min_cc: float = 1.0,
) -> dict[str, Any]:
    """OpenKBP: the same CT with the PTV63 / PTV56 prescription added, then removed.

    A case follows for target T when, with T prescribed, at least ``min_cc`` cm^3 is
    predicted as T, and without it less than a tenth of that volume is.
    """
    labels = predictor.plan.labels
    per_case = []
    for case_id in list_cases(ds, split):
        case = read_case(ds, case_id, split)
        assert case.label is not None
        present = [t for t in TARGETS if (np.asarray(case.label.array) == labels[t]).any()]
        voxel_cc = float(np.prod(case.images[0].spacing)) / 1000.0
        row: dict[str, Any] = {"case": case_id}
        predicted: dict[tuple[str, ...], np.ndarray] = {}  # prescription -> labels
        for t in EDITED:
            vols = {}
            for state, targets in (
                ("with", sorted({*present, t}, key=TARGETS.index)),
                ("without", [x for x in present if x != t]),
            ):
                # the own prescription comes up once per edited target; a model that does not
                # read the note draws the same whatever it says
                key = tuple(targets) if predictor.uses_text else ()
                if key not in predicted:
                    note = prescription(targets)
                    predicted[key] = np.asarray(predictor.predict(case.images, note).array)
                pred = predicted[key]
                vols[state] = float((pred == labels[t]).sum()) * voxel_cc
            row[f"{t}_cc_with"], row[f"{t}_cc_without"] = vols["with"], vols["without"]
            row[f"{t}_own"] = t in present  # with: the patient's own note; without: removed
            row[f"{t}_follows"] = bool(
                vols["with"] >= min_cc and vols["without"] < 0.1 * vols["with"]
            )
        per_case.append(row)
    n = len(per_case)
    shares = {}
    for t in EDITED:
        shares[f"{t} appears/disappears with its prescription (n={n})"] = _share(per_case, t)
        for edit, own in (("added", False), ("removed", True)):
            rows = [r for r in per_case if r[f"{t}_own"] == own]
            shares[f"{t} {edit} (n={len(rows)})"] = _share(rows, t)
    return {"n": n, "shares": shares, "cases": per_case}


def _share(rows: list[dict[str, Any]], target: str) -> float:
    return sum(r[f"{target}_follows"] for r in rows) / max(1, len(rows))
