"""breast_ctv's report sections: the margin (mean N2 / N0 nodal coverage) beside every
follow-rate, and every failed edit per case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oncoseg.tasks import task_report
from oncoseg.tasks.breast_ctv.counterfactual import _summary, _sweep_summary
from oncoseg.tasks.breast_ctv.report import breast_report, mean_coverage


def _case(
    name: str, n2: float, n0: float, left: float | None = None, right: float = 0.0, bcs: bool = True
) -> dict[str, Any]:
    c: dict[str, Any] = {
        "case": name,
        "nodal_cover_n2": n2,
        "nodal_cover_n0": n0,
        "nodal_follows": n2 > 0.5 > n0,
    }
    if left is not None:
        c.update(
            left_share_left_note=left,
            left_share_right_note=right,
            side_follows=left > 0.5 > right,
            image_consistent=bcs,
            side_warning_own_note=False,
            side_warning_flipped_note=False,
        )
    return c


def _surgery(c: dict[str, Any], bcs: tuple[float, float], mast: tuple[float, float]) -> dict:
    """``c`` with breast / chest wall coverage under the conserving and mastectomy notes."""
    return c | {
        "breast_cover_bcs": bcs[0],
        "wall_cover_bcs": bcs[1],
        "breast_cover_mastectomy": mast[0],
        "wall_cover_mastectomy": mast[1],
        "surgery_follows": bcs[0] > 0.5 > mast[0] and mast[1] > 0.5 > bcs[1],
    }


CASES = [
    _surgery(_case("a", 0.9, 0.0, 0.95, 0.02), (0.9, 0.0), (0.1, 0.9)),  # follows all three
    _case("b", 0.45, 0.26, 0.3, 0.1),  # fails both (breast-conserving)
    _case("c", 0.8, 0.6),  # bilateral: N edit fails on the N0 side
    # mastectomy side flip: not a failure; the surgery flip fails (breast 0.4 under BCS)
    _surgery(_case("d", 0.7, 0.1, 0.2, 0.8, bcs=False), (0.4, 0.1), (0.0, 0.9)),
]
BLIND = [_case("a", 0.3, 0.3, 0.4, 0.4), _case("c", 0.2, 0.2)]


def test_summary_stores_the_mean_coverage_under_each_note() -> None:
    s = _summary(CASES)
    assert s["nodal_cover_n2_mean"] == pytest.approx((0.9 + 0.45 + 0.8 + 0.7) / 4)
    assert s["nodal_cover_n0_mean"] == pytest.approx((0.0 + 0.26 + 0.6 + 0.1) / 4)
    assert s["nodal_follows_note"] == 0.5
    assert s["surgery_follows_note"] == 0.5  # over a and d, the cases that measured it
    sweep = _sweep_summary([c | {"dice": 0.5} for c in CASES[:2]])
    assert sweep["nodal_cover_n2_mean"] == pytest.approx(0.675)
    assert _summary([])["nodal_cover_n2_mean"] is None
    older = _summary(BLIND)  # rows written before the surgery edit was measured
    assert older["surgery_follows_note"] is None
    assert not any("surgery" in label for label in older["shares"])


def test_sections_show_the_margin_and_each_failed_edit() -> None:
    cf = {
        "vision": {**_summary(BLIND), "cases": BLIND},
        "multimodal": {**_summary(CASES), "cases": CASES},
    }
    doc = {"dataset": "breast_ctv", "counterfactual": cf}
    rep = task_report(doc, Path("figs"))
    shares, failed = rep.sections
    assert shares.header[:3] == (
        "model",
        "nodal regions follow N0/N2 (n=2)",
        "mean nodal coverage, N2 / N0 note",
    )
    assert shares.rows[1][:3] == ("multimodal", "50%", "0.71 / 0.24")
    assert shares.rows[0][:3] == ("vision", "0%", "0.25 / 0.25")
    assert failed.rows == (
        ("vision", "all 2", "every edit: the same contour with every note", "–", "–"),
        ("multimodal", "b", "N0 ↔ N2: nodal coverage", "0.45", "0.26"),
        ("multimodal", "b", "left ↔ right: left share", "0.30", "0.10"),
        ("multimodal", "c", "N0 ↔ N2: nodal coverage", "0.80", "0.60"),
        (
            "multimodal",
            "d",
            "conserving ↔ mastectomy: coverage",
            "breast 0.40, chest wall 0.10",
            "breast 0.00, chest wall 0.90",
        ),
    )
    assert [p.name for _, p in rep.figures] == [
        "counterfactual_vision.png",
        "counterfactual_vision_mastectomy.png",
        "counterfactual_multimodal.png",
        "counterfactual_multimodal_mastectomy.png",
    ]
    assert rep.figures[3][0] == "Counterfactual notes (multimodal, a unilateral mastectomy)"


def test_validation_sweep_and_an_older_results_json() -> None:
    ok = [_case("a", 0.9, 0.0, 0.95, 0.02)]
    old = {"shares": {"nodal (n=1)": 1.0}, "cases": ok}  # written before the means existed
    assert mean_coverage(old, "n2") == 0.9
    sweep = {"0.5": {"nodal_follows_note": 1.0, "side_follows_consistent": None, "dice": 0.8}}
    doc = {
        "counterfactual": {"m": old},
        "counterfactual_validation": {"m": {**old, "sweep": sweep}},
    }
    titles = [s.title for s in breast_report(doc, Path("f")).sections]
    assert titles == [
        "Counterfactual notes: share of test cases whose contour follows the edited note",
        "Counterfactual edits that failed (test cases)",
        "Counterfactual notes: share of validation cases whose contour follows the edited note",
        "Foreground threshold on the validation cases (choose `infer.threshold` here)",
        "Counterfactual edits that failed (validation cases)",
    ]
    sections = breast_report(doc, Path("f")).sections
    assert sections[3].rows == (("m", "0.5", "100%", "–", "–", "0.800"),)
    assert sections[1].rows == (("m", "–", "none failed", "–", "–"),)


def test_tasks_without_a_hook_add_nothing() -> None:
    rep = task_report({"dataset": "brain_tumor", "counterfactual": {}}, Path("f"))
    assert rep.sections == [] and rep.figures == []
