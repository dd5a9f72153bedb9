"""OpenKBP results as a planner reads them: each target where it is prescribed (Dice, HD95,
volume error) and where it is not (was anything drawn?), and each patient's mean Dice over
the targets their prescription names, compared paired against the vision-only model.

Example:
    >>> drawn_share([{"volume_ml": 0.2}, {"volume_ml": 3.0}])
    0.5
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from oncoseg.data.dataset import read_clinical_csv
from oncoseg.eval.stats import paired_tests, summarize
from oncoseg.tasks.openkbp.convert import TARGETS

MIN_DRAWN_ML = 1.0  # a target "drawn" in a patient without it: at least 1 cm^3
PRESCRIBED_METRICS = ("dice", "hd95", "volume_error_ml")
BASELINE = "vision"


def drawn_share(rows: Sequence[Mapping[str, Any]], min_ml: float = MIN_DRAWN_ML) -> float | None:
    """Share of ``rows`` (one target in patients without it) drawn with less than ``min_ml``
    ml; None without rows or where they carry no volume (results of before volumes)."""
    vols = [r.get("volume_ml") for r in rows]
    if not vols or any(v is None for v in vols):
        return None
    return sum(float(v) < min_ml for v in vols if v is not None) / len(vols)


def prescription_breakdown(
    rows: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    dataset: str | os.PathLike[str],
) -> dict[str, Any]:
    """Per model (internal test patients): ``targets`` -> target -> ``prescribed`` (n and a
    summary of each of :data:`PRESCRIBED_METRICS`) and ``not_prescribed`` (n, the share
    drawn under :data:`MIN_DRAWN_ML`), ``mean_prescribed_dice`` (summary over patients);
    ``paired_vs_vision``: each other model against vision-only, paired over the same patients
    (the mean and each target where prescribed)."""
    clinical = read_clinical_csv(dataset)

    def prescribed(r: Mapping[str, Any]) -> bool:
        return clinical.get(r["case"], {}).get(r["class"]) == "yes"

    models: dict[str, Any] = {}
    dice: dict[str, dict[tuple[str, str], float]] = {}  # model -> (case, target) -> Dice
    for name, sites in rows.items():
        internal = [r for r in sites.get("internal", []) if r["class"] in TARGETS]
        dice[name] = {(r["case"], r["class"]): float(r["dice"]) for r in internal if prescribed(r)}
        targets = {}
        for t in TARGETS:
            yes = [r for r in internal if r["class"] == t and prescribed(r)]
            no = [r for r in internal if r["class"] == t and not prescribed(r)]
            targets[t] = {
                "prescribed": {
                    "n": len(yes),
                    **{m: summarize([r.get(m, math.nan) for r in yes]) for m in PRESCRIBED_METRICS},
                },
                "not_prescribed": {"n": len(no), "drawn_under_1cc": drawn_share(no)},
            }
        models[name] = {
            "targets": targets,
            "mean_prescribed_dice": summarize(list(_patient_means(dice[name]).values())),
        }
    return {"models": models, "paired_vs_vision": _paired(dice)}


def _patient_means(dice: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """Each patient's mean Dice over their prescribed targets."""
    cases = sorted({c for c, _ in dice})
    return {c: float(np.mean([v for (k, _), v in dice.items() if k == c])) for c in cases}


def _paired(dice: Mapping[str, Mapping[tuple[str, str], float]]) -> dict[str, Any]:
    """Each model other than the baseline against it, over the patients both have."""
    if BASELINE not in dice:
        return {}
    base, base_means = dice[BASELINE], _patient_means(dice[BASELINE])
    out: dict[str, Any] = {}
    for name, own in dice.items():
        if name == BASELINE:
            continue
        means = _patient_means(own)
        cases = sorted(set(means) & set(base_means))
        out[name] = {
            "mean_prescribed_dice": paired_tests(
                [means[c] for c in cases], [base_means[c] for c in cases]
            )
        }
        for t in TARGETS:
            keys = sorted(k for k in own if k[1] == t and k in base)
            out[name][t] = paired_tests([own[k] for k in keys], [base[k] for k in keys])
    return out
