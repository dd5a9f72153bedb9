from __future__ import annotations

from oncoseg.tasks.breast_ctv.counterfactual import figure_cases


def _row(laterality: str, surgery: str) -> dict[str, str]:
    return {"laterality": laterality, "surgery": surgery}


def test_figure_cases_come_from_the_clinical_fields() -> None:
    rows = {
        "a": _row("right", "mastectomy"),
        "b": _row("both", "BCS"),
        "c": _row("left", "BCS"),
        "d": _row("left", "mastectomy"),
    }
    assert figure_cases(rows, ["a", "b", "c", "d"]) == {"conserving": "c", "mastectomy": "a"}
    assert figure_cases(rows, ["d", "c"]) == {"conserving": "c", "mastectomy": "d"}
    # no unilateral breast-conserving case: the first case stands in; no mastectomy: none
    assert figure_cases(rows, ["b"]) == {"conserving": "b"}
    assert figure_cases(rows, ["a", "b"]) == {"conserving": "a", "mastectomy": "a"}
    assert figure_cases(rows, []) == {}
