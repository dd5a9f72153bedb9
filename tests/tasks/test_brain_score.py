"""brain_tumor's lesion score: ml drawn on the non-target lesion and off the target."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oncoseg.data.dataset import list_cases, read_case, read_clinical_csv
from oncoseg.tasks.brain_tumor.explain_truth import nontarget_mask
from oncoseg.tasks.brain_tumor.score import lesion_breakdown, lesion_score
from oncoseg.tasks.registry import get_task


def test_lesion_score_counts_the_other_lesion(brain_dataset: Path) -> None:
    rows = read_clinical_csv(brain_dataset)
    ids = [c for c in list_cases(brain_dataset, "Tr") if rows[c]["nontarget"]]
    assert ids, "the fixture cohort has no case with a non-target lesion"
    score = lesion_score(brain_dataset)
    case = read_case(brain_dataset, ids[0], "Tr")
    target = np.asarray(case.label.array) > 0
    other = nontarget_mask(rows[ids[0]], "internal", target.shape[0]) & ~target
    ml = abs(float(np.linalg.det(case.label.affine[:3, :3]))) / 1000.0
    perfect = score(case, target.astype(np.uint8))
    assert perfect == {
        "nontarget": rows[ids[0]]["nontarget"],
        "nontarget_ml": 0.0,
        "outside_ml": 0.0,
    }
    wrong = score(case, (target | other).astype(np.uint8))
    assert wrong["nontarget_ml"] == wrong["outside_ml"] == other.sum() * ml > 0
    rows_by = {
        "m": {
            "internal": [
                {**perfect},
                {**wrong},
                {"nontarget": "", "nontarget_ml": 0.0, "outside_ml": 2.0},
            ]
        }
    }
    b = lesion_breakdown(rows_by, brain_dataset)["m internal"]
    assert (b["cases"], b["with_nontarget"], b["nontarget_drawn"]) == (
        3,
        2,
        int(wrong["nontarget_ml"] >= 1),
    )
    assert b["nontarget_ml_mean"] == wrong["nontarget_ml"] / 2
    assert get_task("brain_tumor").breakdown_key == "by_lesion"
