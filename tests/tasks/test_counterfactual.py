from __future__ import annotations

import numpy as np

from oncoseg.tasks.breast_ctv.clinical import REGIONS
from oncoseg.tasks.breast_ctv.counterfactual import _surgery_follows, figure_cases


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


def _probs(mask: np.ndarray) -> np.ndarray:
    """Two-class probabilities (K x ...) whose argmax is ``mask``."""
    return np.stack([~mask, mask]).astype(np.float32)


def _surgery_case(with_breast: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 1 x 4 x 4 region map: the left chest wall in row 0, the left breast in row 1 (none
    after a mastectomy); the masks of the two regions."""
    reg = np.zeros((1, 4, 4), np.uint8)
    reg[0, 0] = REGIONS["chestwall_left"]
    if with_breast:
        reg[0, 1] = REGIONS["breast_left"]
    return reg, reg == REGIONS["breast_left"], reg == REGIONS["chestwall_left"]


def test_surgery_edit_follows_the_rule_table() -> None:
    reg, breast, wall = _surgery_case(with_breast=True)
    r: dict = {}
    _surgery_follows(r, {"BCS": _probs(breast), "mastectomy": _probs(wall)}, reg, ("left",), None)
    assert r["surgery_follows"] and r["breast_cover_bcs"] == 1.0 and r["wall_cover_bcs"] == 0.0
    # the image's surgery kept whatever the note says: not followed
    _surgery_follows(r, {"BCS": _probs(breast), "mastectomy": _probs(breast)}, reg, ("left",), None)
    assert not r["surgery_follows"] and r["wall_cover_mastectomy"] == 0.0
    # both drawn under both notes: not followed either
    both = _probs(breast | wall)
    _surgery_follows(r, {"BCS": both, "mastectomy": both}, reg, ("left",), None)
    assert not r["surgery_follows"]


def test_surgery_edit_after_a_mastectomy_has_no_breast_to_draw() -> None:
    """After a mastectomy the region map holds no breast: the breast-conserving note's rule
    table CTV has neither breast nor chest wall, so following means dropping the wall."""
    reg, breast, wall = _surgery_case(with_breast=False)
    assert not breast.any()
    r: dict = {}
    empty = _probs(np.zeros_like(wall))
    _surgery_follows(r, {"BCS": empty, "mastectomy": _probs(wall)}, reg, ("left",), None)
    assert r["surgery_follows"] and r["breast_cover_bcs"] == 0.0
    _surgery_follows(r, {"BCS": _probs(wall), "mastectomy": _probs(wall)}, reg, ("left",), None)
    assert not r["surgery_follows"] and r["wall_cover_bcs"] == 1.0
