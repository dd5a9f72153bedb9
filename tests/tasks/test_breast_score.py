import numpy as np
import pytest

from oncoseg.eval.summary import clinical_accuracy
from oncoseg.tasks.breast_ctv.clinical import REGIONS, BreastClinical
from oncoseg.tasks.breast_ctv.score import clinical_score, region_coverage


def _regions() -> np.ndarray:
    """A 10 x 4 x 4 map: one slab of 16 voxels per compartment."""
    reg = np.zeros((10, 4, 4), np.uint8)
    for i, value in enumerate(REGIONS.values()):
        reg[i] = value
    return reg


def _mask(reg: np.ndarray, names: list[str], partial: dict[str, int] | None = None) -> np.ndarray:
    m = np.isin(reg, [REGIONS[n] for n in names])
    for name, k in (partial or {}).items():  # k voxels of that compartment
        idx = np.argwhere(reg == REGIONS[name])[:k]
        m[tuple(idx.T)] = True
    return m


def _case(**kw: object) -> BreastClinical:
    base: dict[str, object] = dict(
        age=50,
        laterality="left",
        t_stage="T2",
        n_stage="N2",
        m_stage="M0",
        surgery="BCS",
        chemotherapy=False,
        pathology="IDC",
        clips=True,
    )
    base.update(kw)
    return BreastClinical(**base)  # type: ignore[arg-type]


NODES_L = ["axilla_left", "scf_left", "imn_left"]


def test_coverage_counts_voxels() -> None:
    reg = _regions()
    cov = region_coverage(_mask(reg, [], {"axilla_left": 4, "breast_right": 16}), reg)
    assert cov["axilla_left"] == pytest.approx(0.25)
    assert cov["breast_right"] == 1.0
    assert cov["imn_left"] == 0.0


def test_correct_case_scores_2() -> None:
    reg = _regions()
    s = clinical_score(_mask(reg, ["breast_left", *NODES_L]), reg, _case())
    assert (s["score"], s["side_ok"], s["primary_ok"], s["nodal_mismatches"]) == (2, True, True, 0)


def test_one_missing_nodal_region_is_minor() -> None:
    reg = _regions()
    s = clinical_score(_mask(reg, ["breast_left", "axilla_left", "scf_left"]), reg, _case())
    assert (s["score"], s["nodal_mismatches"]) == (1, 1)
    # 7 of 16 voxels (< 50%) of the IMN is still "not included"
    s = clinical_score(
        _mask(reg, ["breast_left", "axilla_left", "scf_left"], {"imn_left": 7}), reg, _case()
    )
    assert s["score"] == 1
    s = clinical_score(
        _mask(reg, ["breast_left", "axilla_left", "scf_left"], {"imn_left": 8}), reg, _case()
    )
    assert s["score"] == 2


def test_wrong_nodal_decision_is_incorrect() -> None:
    reg = _regions()
    assert clinical_score(_mask(reg, ["breast_left"]), reg, _case())["score"] == 0
    n0 = _case(n_stage="N0")
    assert clinical_score(_mask(reg, ["breast_left"]), reg, n0)["score"] == 2
    assert clinical_score(_mask(reg, ["breast_left", *NODES_L]), reg, n0)["score"] == 0
    # N1mi: nodes only with T3/T4
    assert clinical_score(_mask(reg, ["breast_left"]), reg, _case(n_stage="N1mi"))["score"] == 2
    t3 = _case(n_stage="N1mi", t_stage="T3")
    assert clinical_score(_mask(reg, ["breast_left", *NODES_L]), reg, t3)["score"] == 2


def test_wrong_side_and_wrong_primary() -> None:
    reg = _regions()
    right = ["breast_right", "axilla_right", "scf_right", "imn_right"]
    s = clinical_score(_mask(reg, right), reg, _case())
    assert (s["score"], s["side_ok"]) == (0, False)
    s = clinical_score(_mask(reg, ["breast_left", *NODES_L, "breast_right"]), reg, _case())
    assert (s["score"], s["side_ok"]) == (0, False)
    s = clinical_score(_mask(reg, ["chestwall_left", *NODES_L]), reg, _case())
    assert (s["score"], s["side_ok"], s["primary_ok"]) == (0, True, False)
    mast = _case(surgery="mastectomy", clips=False)
    assert clinical_score(_mask(reg, ["chestwall_left", *NODES_L]), reg, mast)["score"] == 2


def test_bilateral_case_needs_both_sides() -> None:
    reg = _regions()
    both = _case(laterality="both", n_stage="N0")
    assert clinical_score(_mask(reg, ["breast_left", "breast_right"]), reg, both)["score"] == 2
    assert clinical_score(_mask(reg, ["breast_left"]), reg, both)["score"] == 0


def test_accuracy_counts() -> None:
    acc = clinical_accuracy([2, 2, 1, 0, 2])
    assert acc == {"n": 5, "correct": 3, "minor": 1, "incorrect": 1, "accuracy": 0.6}
    with pytest.raises(ValueError, match="region map"):
        region_coverage(np.zeros((2, 2, 2), bool), np.zeros((3, 2, 2), np.uint8))
