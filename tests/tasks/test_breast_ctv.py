from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from oncoseg.data.phantom import case_rng
from oncoseg.tasks.breast_ctv.clinical import (
    CASE_MIX,
    REGIONS,
    BreastClinical,
    ctv_components,
    nodal_irradiation,
    sample_clinical,
)
from oncoseg.tasks.breast_ctv.phantom import render

BASE = BreastClinical(
    age=55,
    laterality="left",
    t_stage="T2",
    n_stage="N0",
    m_stage="M0",
    surgery="BCS",
    chemotherapy=False,
    pathology="IDC",
    clips=False,
)
NODAL = ("axilla", "scf", "imn")


@pytest.mark.parametrize(
    ("n_stage", "t_stage", "expected"),
    [
        ("N0", "T2", False),
        ("N1mi", "T1", False),
        ("N1mi", "T2", False),
        ("N1mi", "T3", True),
        ("N1mi", "T4", True),
        ("N1", "T1", True),
        ("N2", "T2", True),
        ("N3", "T1", True),
    ],
)
def test_rule_table_nodal_irradiation(n_stage: str, t_stage: str, expected: bool) -> None:
    assert nodal_irradiation(replace(BASE, n_stage=n_stage, t_stage=t_stage)) is expected


def _region(regions: np.ndarray, name: str) -> np.ndarray:
    return regions == REGIONS[name]


@pytest.mark.parametrize("seed", range(12))
def test_label_follows_rules_on_generated_cases(seed: int) -> None:
    c = sample_clinical(case_rng(100, seed), "internal")
    _, label, regions, _ = render(1000 + seed, c, "internal", 48)
    parts = ctv_components(c)
    expected = np.isin(regions, [REGIONS[p] for p in parts])
    assert np.array_equal(label.astype(bool), expected)
    for side in ("left", "right"):
        target_side = side in c.sides
        for r in NODAL:
            m = _region(regions, f"{r}_{side}")
            assert m.sum() > 0, f"{r}_{side} compartment is empty"
            overlap = (label.astype(bool) & m).sum()
            if target_side and nodal_irradiation(c):
                assert overlap == m.sum()  # fully included
            else:
                assert overlap == 0
        if not target_side:  # the contralateral breast and chest wall are never in the CTV
            for r in ("breast", "chestwall"):
                assert (label.astype(bool) & _region(regions, f"{r}_{side}")).sum() == 0


def test_ctv_never_crosses_midline_for_unilateral_cases() -> None:
    for side, sign in (("left", -1.0), ("right", 1.0)):
        c = replace(BASE, laterality=side, n_stage="N3")
        _, label, _, affine = render(5, c, "internal", 64)
        idx = np.argwhere(label > 0)
        world_x = affine[0, 0] * idx[:, 0] + affine[0, 3]
        assert np.all(np.sign(world_x) == sign), side


def test_node_status_is_invisible_images_identical_labels_differ() -> None:
    for surgery, clips in (("BCS", True), ("mastectomy", False)):
        n0 = replace(BASE, surgery=surgery, clips=clips, n_stage="N0")
        n2 = replace(n0, n_stage="N2")
        img0, lab0, _, aff0 = render(42, n0, "internal", 64)
        img2, lab2, _, aff2 = render(42, n2, "internal", 64)
        assert np.array_equal(img0, img2)  # bit for bit
        assert np.array_equal(aff0, aff2)
        assert lab2.sum() > lab0.sum() + 100
        assert np.all(lab2[lab0 > 0] == 1)  # N2 adds the nodal regions to the N0 target


def test_laterality_swap_moves_the_target() -> None:
    left = replace(BASE, n_stage="N1")
    right = replace(left, laterality="right")
    img_l, lab_l, reg, _ = render(9, left, "internal", 64)
    img_r, lab_r, _, _ = render(9, right, "internal", 64)
    assert np.array_equal(img_l, img_r)  # BCS without clips: nothing visible changes
    for name, sel in (("breast_left", lab_l), ("breast_right", lab_r)):
        assert (sel.astype(bool) & _region(reg, name)).sum() == _region(reg, name).sum()
    assert (lab_l.astype(bool) & lab_r.astype(bool)).sum() == 0


def test_mastectomy_removes_the_breast_and_targets_chest_wall() -> None:
    bcs = replace(BASE, laterality="right")
    mx = replace(bcs, surgery="mastectomy")
    img_b, lab_b, reg_b, _ = render(11, bcs, "internal", 64)
    img_m, lab_m, reg_m, _ = render(11, mx, "internal", 64)
    assert _region(reg_m, "breast_right").sum() == 0
    assert _region(reg_m, "breast_left").sum() > 0
    # the right breast mound is air after mastectomy
    mound = _region(reg_b, "breast_right")
    assert img_b[mound].mean() > -300 and img_m[mound].mean() < -800
    assert np.array_equal(lab_m.astype(bool), _region(reg_m, "chestwall_right"))


def test_clips_are_visible_only_when_present() -> None:
    with_clips = replace(BASE, clips=True)
    img_c, *_ = render(13, with_clips, "internal", 64)
    img_n, *_ = render(13, BASE, "internal", 64)
    assert (img_c > 1500).sum() >= 3
    assert (img_n > 1500).sum() == 0


def test_sites_differ_like_scanners() -> None:
    img_i, _, _, aff_i = render(21, BASE, "internal", 64)
    img_e, _, _, aff_e = render(21, BASE, "external", 64)
    sp_i = np.abs(np.diag(aff_i)[:3])
    sp_e = np.abs(np.diag(aff_e)[:3])
    assert sp_e[0] > sp_i[0]  # wider field of view
    assert sp_e[2] < sp_i[2]  # different cranio-caudal coverage / slice spacing

    def noise(img: np.ndarray) -> float:  # high-pass residual inside soft tissue
        f = img.astype(float)
        resid = f - ndimage.uniform_filter(f, 3)
        tissue = ndimage.binary_erosion((f > -60) & (f < 160), iterations=2)
        return float(resid[tissue].std())

    assert noise(img_e) > 1.5 * noise(img_i)
    # calibration: the same muscle/soft tissue reads higher on the external scanner
    assert (
        np.median(img_e[(img_e > -60) & (img_e < 160)])
        > np.median(img_i[(img_i > -60) & (img_i < 160)]) + 10
    )


def test_case_mix_external_has_more_n0_and_bcs() -> None:
    def shares(site: str) -> tuple[float, float]:
        cs = [sample_clinical(case_rng(7, i), site) for i in range(600)]
        return (np.mean([c.n_stage == "N0" for c in cs]), np.mean([c.surgery == "BCS" for c in cs]))

    n0_i, bcs_i = shares("internal")
    n0_e, bcs_e = shares("external")
    assert n0_e > n0_i + 0.08 and bcs_e > bcs_i + 0.08
    assert abs(n0_i - CASE_MIX["internal"]["n_stage"]["N0"]) < 0.08


def test_physical_size_is_independent_of_grid_size() -> None:
    c = replace(BASE, n_stage="N2")
    vols = []
    for size in (64, 128):
        _, label, _, affine = render(3, c, "internal", size)
        vols.append(label.sum() * abs(np.linalg.det(affine[:3, :3])) / 1000.0)
    assert abs(vols[0] - vols[1]) / vols[1] < 0.1
    assert 150 < vols[1] < 2500  # ml: a plausible breast + nodal CTV


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="site"):
        render(1, BASE, "elsewhere", 64)
    with pytest.raises(ValueError, match="size"):
        render(1, BASE, "internal", 8)
    with pytest.raises(ValueError, match="n_stage"):
        replace(BASE, n_stage="N5")
