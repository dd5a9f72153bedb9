from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.ndimage import binary_erosion

from oncoseg.data.phantom import case_rng
from oncoseg.tasks.brain_tumor.phantom import BrainClinical, make_note, render, sample_clinical

TARGET = BrainClinical(
    age=60,
    hemisphere="left",
    lobe="frontal",
    grade="high",
    history="biopsy-proven",
    nontarget="",
    nontarget_hemisphere="",
    nontarget_lobe="",
)


def _world(label: np.ndarray, affine: np.ndarray) -> np.ndarray:
    idx = np.argwhere(label > 0).astype(float)
    return idx @ affine[:3, :3].T + affine[:3, 3]


def test_four_channels_and_geometry() -> None:
    images, label, regions, affine = render(1, TARGET, "internal", 48)
    assert len(images) == 4 and all(im.shape == (48, 48, 48) for im in images)
    assert regions is not None and np.array_equal(regions == 1, label == 1)
    assert label.dtype == np.uint8 and set(np.unique(label)) == {0, 1}
    assert np.allclose(np.abs(np.diag(affine)[:3]), np.abs(np.diag(affine)[:3]).round(6))


@pytest.mark.parametrize("kind", ["meningioma", "treated_metastasis", "second_focus"])
def test_label_covers_only_the_target(kind: str) -> None:
    with_nt = replace(
        TARGET, nontarget=kind, nontarget_hemisphere="right", nontarget_lobe="parietal"
    )
    imgs_a, lab_a, _, _ = render(7, TARGET, "internal", 64)
    imgs_b, lab_b, _, _ = render(7, with_nt, "internal", 64)
    # same anatomy: the non-target lesion is exactly where the images differ
    nontarget = np.abs(imgs_b[1] - imgs_a[1]) > 50
    assert nontarget.sum() > 5
    assert np.array_equal(lab_a, lab_b)
    assert (lab_b.astype(bool) & nontarget).sum() == 0


@pytest.mark.parametrize(
    ("hemisphere", "lobe"),
    [("left", "frontal"), ("right", "occipital"), ("right", "frontal"), ("left", "occipital")],
)
def test_target_lies_where_the_note_says(hemisphere: str, lobe: str) -> None:
    c = replace(TARGET, hemisphere=hemisphere, lobe=lobe)
    _, label, _, affine = render(3, c, "internal", 64)
    centre = _world(label, affine).mean(axis=0)
    assert np.sign(centre[0]) == (1.0 if hemisphere == "right" else -1.0)  # RAS: +x is right
    assert (centre[1] > 10) if lobe == "frontal" else (centre[1] < -30)
    note = make_note(c, "narrative", np.random.default_rng(0))
    assert hemisphere in note and lobe in note


def test_high_grade_enhances_low_grade_does_not() -> None:
    hi, lab_hi, _, _ = render(5, TARGET, "internal", 64)
    lo, lab_lo, _, _ = render(5, replace(TARGET, grade="low"), "internal", 64)
    t1ce_hi = np.percentile(hi[1][lab_hi > 0], 95)
    t1ce_lo = np.percentile(lo[1][lab_lo > 0], 95)
    assert t1ce_hi > 1.3 * t1ce_lo
    flair = lo[3]
    normal = flair[(lab_lo == 0) & (flair > 100)]
    assert np.median(flair[lab_lo > 0]) > 1.3 * np.median(normal)


@pytest.mark.parametrize("grade", ["high", "low"])
def test_a_second_focus_looks_like_the_target(grade: str) -> None:
    # only the note tells them apart: the same tissues in every channel, a similar size
    c = replace(
        TARGET,
        grade=grade,
        nontarget="second_focus",
        nontarget_hemisphere="right",
        nontarget_lobe="parietal",
    )
    imgs, label, _, _ = render(11, c, "internal", 64)
    bare, _, _, _ = render(11, replace(c, nontarget=""), "internal", 64)
    focus = np.any([a != b for a, b in zip(imgs, bare, strict=True)], axis=0)
    target = label > 0
    assert not (focus & target).any()
    assert 0.3 < focus.sum() / target.sum() < 3.0
    # inside each lesion (one voxel in from its blurred border) every channel's median within
    # 15% of the target's
    inner_t, inner_f = binary_erosion(target), binary_erosion(focus)
    for ch in range(4):
        t, f = np.median(imgs[ch][inner_t]), np.median(imgs[ch][inner_f])
        assert abs(f - t) < 0.15 * t, (ch, t, f)


def test_nontarget_share_and_determinism() -> None:
    cs = [sample_clinical(case_rng(9, i), "internal") for i in range(300)]
    share = np.mean([bool(c.nontarget) for c in cs])
    assert 0.4 < share < 0.6
    focus = np.mean([c.nontarget == "second_focus" for c in cs if c.nontarget])
    assert 0.4 < focus < 0.6
    assert all(
        c.nontarget_lobe != c.lobe or c.nontarget_hemisphere != c.hemisphere
        for c in cs
        if c.nontarget
    )
    a = render(4, cs[0], "external", 32)
    b = render(4, cs[0], "external", 32)
    assert all(np.array_equal(x, y) for x, y in zip(a[0], b[0], strict=True))
