"""OpenKBP counterfactual prescriptions and the Dice breakdown by prescription.

The prescription is this cohort's clinical text: whether the elective dose levels (PTV63,
PTV56) are prescribed is written in the note and decides whether those targets exist.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from oncoseg.data.dataset import list_cases, read_case, read_clinical_csv
from oncoseg.eval.stats import summarize
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
        for t in EDITED:
            vols = {}
            for state, targets in (
                ("with", sorted({*present, t}, key=TARGETS.index)),
                ("without", [x for x in present if x != t]),
            ):
                pred = np.asarray(predictor.predict(case.images, prescription(targets)).array)
                vols[state] = float((pred == labels[t]).sum()) * voxel_cc
            row[f"{t}_cc_with"], row[f"{t}_cc_without"] = vols["with"], vols["without"]
            row[f"{t}_follows"] = bool(
                vols["with"] >= min_cc and vols["without"] < 0.1 * vols["with"]
            )
        per_case.append(row)
    n = len(per_case)
    shares = {
        f"{t} appears/disappears with its prescription (n={n})": sum(
            r[f"{t}_follows"] for r in per_case
        )
        / max(1, n)
        for t in EDITED
    }
    return {"n": n, "shares": shares, "cases": per_case}


def prescription_breakdown(
    rows: dict[str, dict[str, list[dict[str, Any]]]], dataset: str | os.PathLike[str]
) -> dict[str, Any]:
    """Per-class Dice of each model in patients with vs without that target prescribed
    (internal site)."""
    clinical = read_clinical_csv(dataset)
    out: dict[str, Any] = {}
    for name, sites in rows.items():
        out[name] = {}
        for cls in EDITED:
            for state in ("yes", "no"):
                values = [
                    r["dice"]
                    for r in sites.get("internal", [])
                    if r["class"] == cls and clinical.get(r["case"], {}).get(cls) == state
                ]
                key = f"{cls} {'prescribed' if state == 'yes' else 'not prescribed'}"
                out[name][key] = summarize(values)
    return out
