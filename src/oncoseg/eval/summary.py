"""Cohort summaries of per-case evaluation rows: per model and site, paired comparisons.

Rows are what :func:`oncoseg.eval.evaluate.evaluate_split` returns (one per case and
foreground class); ``rows[model][site]`` holds a model's rows on one site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from oncoseg.eval.evaluate import REPORTED, compare_rows, summarize_rows
from oncoseg.eval.stats import summarize

Rows = dict[str, dict[str, list[dict[str, Any]]]]  # model -> site -> per-case rows


def per_case(rows: list[dict[str, Any]], metric: str) -> dict[str, float]:
    """The metric per case, averaged over foreground classes (NaNs ignored)."""
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["case"], []).append(float(r[metric]))
    return {
        c: float(np.nanmean(v)) if not np.isnan(v).all() else float("nan") for c, v in out.items()
    }


def summarize_models(rows: Rows) -> dict[str, Any]:
    """Per model and site: n, each reported metric's summary, per class, clinical accuracy."""
    models: dict[str, Any] = {}
    for name, sites in rows.items():
        models[name] = {}
        for site, site_rows in sites.items():
            cases = per_case(site_rows, "dice")
            entry: dict[str, Any] = {"n": len(cases)}
            for m in REPORTED:
                entry[m] = summarize(list(per_case(site_rows, m).values()))
            classes = summarize_rows(site_rows)
            if len(classes) > 1:
                entry["classes"] = classes
            if site_rows and "score" in site_rows[0]:
                entry["clinical"] = clinical_accuracy([int(r["score"]) for r in site_rows])
            models[name][site] = entry
    return models


def comparisons(rows: Rows, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Paired tests of model a vs b on the same cases, per site and metric."""
    out = []
    for a, b in pairs:
        for site in rows[a]:
            if site not in rows[b]:
                continue
            for metric, res in compare_rows(rows[a][site], rows[b][site]).items():
                out.append({"a": a, "b": b, "site": site, "metric": metric, **res})
    return out


def clinical_accuracy(scores: Sequence[int]) -> dict[str, Any]:
    """Counts of clinical scores 2/1/0 (correct / minor mistake / incorrect, seed 2's
    Table 2; a task's ``case_score`` gives them) and the share scored 2."""
    n = len(scores)
    counts = {k: int(sum(s == k for s in scores)) for k in (2, 1, 0)}
    return {
        "n": n,
        "correct": counts[2],
        "minor": counts[1],
        "incorrect": counts[0],
        "accuracy": counts[2] / n if n else float("nan"),
    }
