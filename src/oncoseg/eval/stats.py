"""Cohort statistics: mean, SD, median, bootstrap 95% CI, paired tests (scipy.stats).

Example:
    >>> s = summarize([0.8, 0.9, 0.85, 0.95])
    >>> round(s["mean"], 3), s["n"]
    (0.875, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (seeded); NaNs are dropped first."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), (resamples, len(x)))].mean(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def summarize(
    values: Sequence[float],
    *,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """n, mean, sd, median, ci_low, ci_high, and how many values were NaN (undefined)."""
    x = np.asarray(values, dtype=float)
    ok = x[~np.isnan(x)]
    lo, hi = bootstrap_ci(ok, resamples=resamples, seed=seed)
    return {
        "n": int(len(ok)),
        "n_undefined": int(np.isnan(x).sum()),
        "mean": float(ok.mean()) if len(ok) else float("nan"),
        "sd": float(ok.std(ddof=1)) if len(ok) > 1 else float("nan"),
        "median": float(np.median(ok)) if len(ok) else float("nan"),
        "ci_low": lo,
        "ci_high": hi,
    }


def paired_tests(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Paired t-test and Wilcoxon signed-rank on cases where both values are defined, and the
    percentile bootstrap 95% CI of the mean difference ``a - b`` (``diff_ci_low`` /
    ``diff_ci_high``): how much worse ``a`` may be, where "no worse" is the question."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired tests need the same cases: {x.shape} vs {y.shape}")
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    lo, hi = bootstrap_ci(x - y)
    out: dict[str, Any] = {
        "n": int(ok.sum()),
        "mean_diff": float((x - y).mean()) if ok.any() else float("nan"),
        "diff_ci_low": lo,
        "diff_ci_high": hi,
    }
    if ok.sum() < 2 or np.allclose(x, y):
        out.update(t_test_p=float("nan"), wilcoxon_p=float("nan"))
        return out
    out["t_test_p"] = float(stats.ttest_rel(x, y).pvalue)
    out["wilcoxon_p"] = float(stats.wilcoxon(x, y).pvalue)
    return out
