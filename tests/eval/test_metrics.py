import math

import numpy as np
import pytest
from scipy import ndimage

from oncoseg.eval.metrics import case_metrics, hd95
from oncoseg.eval.stats import bootstrap_ci, paired_tests, summarize


def _surface(m: np.ndarray) -> np.ndarray:
    return m & ~ndimage.binary_erosion(m)


def _hd95_scipy(a: np.ndarray, b: np.ndarray, spacing: tuple[float, ...]) -> float:
    """Independent HD95: surface-to-surface distances from scipy's EDT, both directions."""
    sa, sb = _surface(a), _surface(b)
    d_ab = ndimage.distance_transform_edt(~sb, sampling=spacing)[sa]
    d_ba = ndimage.distance_transform_edt(~sa, sampling=spacing)[sb]
    return float(max(np.percentile(d_ab, 95), np.percentile(d_ba, 95)))


def _blob(rng: np.random.Generator, shape: tuple[int, int, int]) -> np.ndarray:
    noise = ndimage.gaussian_filter(rng.normal(size=shape), 2.5)
    return noise > np.quantile(noise, 0.8)


def test_hand_computed_counts() -> None:
    gt = np.zeros((4, 5, 5), bool)
    gt[0, :2, :5] = True  # 10 voxels
    pred = np.zeros_like(gt)
    pred[0, 1:3, :5] = True  # 10 voxels, 5 shared
    m = case_metrics(pred, gt, (1.0, 1.0, 1.0))
    tp, fp, fn, tn = 5, 5, 5, 100 - 15
    assert m["dice"] == pytest.approx(2 * tp / (2 * tp + fp + fn)) == pytest.approx(0.5)
    assert m["iou"] == pytest.approx(tp / (tp + fp + fn))
    assert m["sensitivity"] == pytest.approx(0.5)
    assert m["precision"] == pytest.approx(0.5)
    assert m["specificity"] == pytest.approx(tn / (tn + fp))
    assert m["accuracy"] == pytest.approx((tp + tn) / 100)
    assert m["f1"] == m["dice"]
    # the two slabs are one voxel apart along axis 1: every surface distance is 0 or 1
    assert m["hd95"] == pytest.approx(1.0)
    # volumes in ml from the spacing: 10 voxels of 2 x 2 x 2.5 mm = 0.1 ml each side
    m = case_metrics(pred, gt, (2.0, 2.0, 2.5))
    assert (m["volume_ml"], m["volume_true_ml"]) == (pytest.approx(0.1), pytest.approx(0.1))
    assert m["volume_error_ml"] == pytest.approx(0.0)
    m = case_metrics(pred, np.zeros_like(gt), (2.0, 2.0, 2.5))
    assert (m["volume_ml"], m["volume_error_ml"]) == (pytest.approx(0.1), pytest.approx(0.1))


def test_hd95_uses_spacing_along_the_right_axis() -> None:
    a = np.zeros((20, 20, 20), bool)
    a[5:10, 5:10, 5:10] = True
    b = np.roll(a, 3, axis=0)  # shifted 3 voxels along axis 0
    assert hd95(a, b, (2.0, 1.0, 1.0)) == pytest.approx(6.0)
    assert hd95(a, b, (1.0, 1.0, 0.5)) == pytest.approx(3.0)


@pytest.mark.parametrize("seed", range(4))
def test_hd95_matches_scipy_on_random_masks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (24, 28, 20)
    spacing = (2.5, 0.8, 1.3)
    a, b = _blob(rng, shape), _blob(rng, shape)
    assert a.any() and b.any()
    assert hd95(a, b, spacing) == pytest.approx(_hd95_scipy(a, b, spacing), rel=1e-4)


def test_empty_masks_are_defined() -> None:
    e = np.zeros((5, 5, 5), bool)
    full = e.copy()
    full[2, 2, 2] = True
    both = case_metrics(e, e, (1, 1, 1))
    assert (both["dice"], both["iou"], both["hd95"], both["hd95_undefined"]) == (1.0, 1.0, 0.0, 0.0)
    for pred, gt in ((e, full), (full, e)):
        one = case_metrics(pred, gt, (1, 1, 1))
        assert one["dice"] == 0.0 and one["iou"] == 0.0
        assert math.isnan(one["hd95"]) and one["hd95_undefined"] == 1.0
    with pytest.raises(ValueError, match="shape"):
        case_metrics(e, np.zeros((5, 5, 4), bool), (1, 1, 1))


def test_summary_counts_undefined_apart() -> None:
    s = summarize([0.5, float("nan"), 1.5, 1.0])
    assert (s["n"], s["n_undefined"]) == (3, 1)
    assert s["mean"] == pytest.approx(1.0) and s["median"] == pytest.approx(1.0)
    assert s["sd"] == pytest.approx(0.5)
    assert s["ci_low"] <= s["mean"] <= s["ci_high"]


def test_bootstrap_is_seeded_and_covers_the_mean() -> None:
    x = np.random.default_rng(0).normal(0.7, 0.1, 40)
    lo, hi = bootstrap_ci(x, seed=3)
    assert (lo, hi) == bootstrap_ci(x, seed=3)
    assert lo < x.mean() < hi
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.2)  # close to the normal interval


def test_paired_tests_match_scipy() -> None:
    from scipy import stats

    rng = np.random.default_rng(1)
    a = rng.normal(0.8, 0.05, 25)
    b = a - rng.normal(0.03, 0.02, 25)
    out = paired_tests(a, b)
    assert out["n"] == 25
    assert out["mean_diff"] == pytest.approx(float((a - b).mean()))
    assert out["t_test_p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert out["wilcoxon_p"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    assert out["t_test_p"] < 1e-3
    # the CI of the mean difference is the bootstrap CI of the differences, around the mean
    assert (out["diff_ci_low"], out["diff_ci_high"]) == bootstrap_ci(a - b)
    assert 0 < out["diff_ci_low"] < out["mean_diff"] < out["diff_ci_high"]
    b2 = b.copy()
    b2[0] = np.nan  # NaN pairs are dropped
    assert paired_tests(a, b2)["n"] == 24
    with pytest.raises(ValueError, match="same cases"):
        paired_tests(a, b[:5])
