"""brain_tumor: does a model draw the lesion the note names, or the other one?

A brain case may hold a second lesion that is not the target (a stable meningioma, a treated
metastasis); the note says which lesion is treated. :func:`lesion_score` adds to each
evaluated case the millilitres a prediction draws on that non-target lesion and outside the
target altogether; :func:`lesion_breakdown` sums them per model and site (``compare``'s
``by_lesion`` in results.json): how often a model draws the wrong lesion, which is where the
note can help and an image-only model cannot be told.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import read_clinical_csv, read_info
from oncoseg.tasks.brain_tumor.explain_truth import nontarget_mask

MIN_ML = 1.0  # a lesion counts as drawn from 1 cm^3 on it


@lru_cache(maxsize=64)
def _other_lesion(row: tuple[tuple[str, str], ...], site: str, size: int) -> np.ndarray:
    """The non-target lesion's voxels of a clinical row, rendered once per case (``compare``
    scores every model on the same cases)."""
    return nontarget_mask(dict(row), site, size)


def lesion_score(dataset: Path) -> Callable[[Any, np.ndarray], dict[str, Any]]:
    """(case, predicted labels) -> ``nontarget`` (its kind, "" for none), ``nontarget_ml``
    (predicted ml on that lesion's voxels) and ``outside_ml`` (predicted ml off the target)."""
    rows = read_clinical_csv(dataset)
    info = read_info(dataset)
    site, size = info.site or "internal", int(info.extra.get("size", 64))

    def extra(case: Any, pred: np.ndarray) -> dict[str, Any]:
        row = rows[case.case_id]
        drawn = np.asarray(pred) > 0
        target = np.asarray(case.label.array) > 0
        voxel_ml = abs(float(np.linalg.det(case.label.affine[:3, :3]))) / 1000.0
        on_other = 0.0
        if row.get("nontarget"):
            other = _other_lesion(tuple(sorted(row.items())), site, size)
            if other.shape != drawn.shape:
                raise ValueError(
                    f"{dataset}: case {case.case_id}'s re-rendered grid {other.shape} differs "
                    f"from its label's {drawn.shape}"
                )
            on_other = float(np.count_nonzero(drawn & other & ~target)) * voxel_ml
        return {
            "nontarget": row.get("nontarget", ""),
            "nontarget_ml": on_other,
            "outside_ml": float(np.count_nonzero(drawn & ~target)) * voxel_ml,
        }

    return extra


def lesion_breakdown(rows: dict[str, dict[str, list[dict[str, Any]]]], _: Path) -> dict[str, Any]:
    """Per model and site: cases with a non-target lesion, those where >= ``MIN_ML`` of it was
    drawn, and the mean ml drawn on it and off the target."""
    out: dict[str, Any] = {}
    for model, sites in rows.items():
        for site, case_rows in sites.items():
            with_other = [r for r in case_rows if r.get("nontarget")]
            out[f"{model} {site}"] = {
                "cases": len(case_rows),
                "with_nontarget": len(with_other),
                "nontarget_drawn": sum(r["nontarget_ml"] >= MIN_ML for r in with_other),
                "nontarget_ml_mean": float(np.mean([r["nontarget_ml"] for r in with_other]))
                if with_other
                else 0.0,
                "outside_ml_mean": float(np.mean([r["outside_ml"] for r in case_rows]))
                if case_rows
                else 0.0,
            }
    return out
