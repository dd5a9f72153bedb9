"""openkbp's part of an experiment report: counterfactual prescriptions, Dice by prescription.

Example:
    >>> doc = {"counterfactual": {"m": {"shares": {"PTV63 appears (n=2)": 0.5}}}}
    >>> openkbp_report(doc, Path("figures")).sections[0].rows
    (('m', '50%'),)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oncoseg.eval.sections import Section, TaskReport, fmt, fmt_diff, shares_section, table


def openkbp_report(doc: Mapping[str, Any], fig_dir: Path) -> TaskReport:
    """Sections from ``counterfactual`` (:func:`prescription_counterfactual`) and
    ``by_prescription`` (:func:`prescription_breakdown`) of ``doc``; no figures."""
    sections: list[Section] = []
    if "counterfactual" in doc:
        title = "Counterfactual notes: share of test cases whose contour follows the edited note"
        sections.append(shares_section(doc["counterfactual"], title))
    by = doc.get("by_prescription")
    if by and "models" in by:
        sections += _target_sections(by)
    elif by:  # results written before the per-target breakdown: Dice by group
        groups = list(next(iter(by.values())))
        rows = [[m, *(f"{fmt(g[k])} (n={g[k]['n']})" for k in groups)] for m, g in by.items()]
        sections.append(
            table("Dice by prescription (internal test patients)", ["model", *groups], rows)
        )
    return TaskReport(sections=sections)


def _target_sections(by: Mapping[str, Any]) -> list[Section]:
    """Where prescribed: Dice, HD95, volume error per target; where not: the share drawn
    under 1 cm^3; each patient's mean Dice over their prescribed targets, paired."""
    rows, absent, means = [], [], []
    paired = by.get("paired_vs_vision", {})
    for m, r in by["models"].items():
        for t, g in r["targets"].items():
            p = g["prescribed"]
            vs = paired.get(m, {}).get(t)
            rows.append(
                [m, t, str(p["n"]), fmt(p["dice"]), fmt(p["hd95"], 1), fmt(p["volume_error_ml"], 1)]
                + ([fmt_diff(vs), _p(vs.get("wilcoxon_p"))] if vs else ["", ""])
            )
            share = g["not_prescribed"]["drawn_under_1cc"]
            n_no = g["not_prescribed"]["n"]
            if n_no:
                absent.append([m, t, str(n_no), "n/a" if share is None else f"{share:.0%}"])
        test = paired.get(m, {}).get("mean_prescribed_dice", {})
        diff = fmt_diff(test) if test else ""
        means.append([m, fmt(r["mean_prescribed_dice"]), diff, _p(test.get("wilcoxon_p"))])
    head = ["model", "target", "n", "Dice", "HD95 (mm)", "volume error (ml)"]
    head += ["Dice − vision [95% CI]", "p vs vision (Wilcoxon)"]
    return [
        table("Targets where prescribed (internal test patients)", head, rows),
        table(
            "Targets where not prescribed: share of patients with less than 1 cm³ drawn",
            ["model", "target", "n", "< 1 cm³"],
            absent,
        ),
        table(
            "Mean Dice over each patient's prescribed targets",
            ["model", "mean Dice", "− vision [95% CI]", "p vs vision (Wilcoxon, paired)"],
            means,
        ),
    ]


def _p(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.2g}"
