"""openkbp's part of an experiment report: counterfactual prescriptions, Dice by prescription.

Example:
    >>> doc = {"counterfactual": {"m": {"shares": {"PTV63 appears (n=2)": 0.5}}}}
    >>> openkbp_report(doc, Path("figures")).sections[0].rows
    (('m', '50%'),)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oncoseg.eval.sections import Section, TaskReport, fmt, shares_section, table


def openkbp_report(doc: Mapping[str, Any], fig_dir: Path) -> TaskReport:
    """Sections from ``counterfactual`` (:func:`prescription_counterfactual`) and
    ``by_prescription`` (:func:`prescription_breakdown`) of ``doc``; no figures."""
    sections: list[Section] = []
    if "counterfactual" in doc:
        title = "Counterfactual notes: share of test cases whose contour follows the edited note"
        sections.append(shares_section(doc["counterfactual"], title))
    if "by_prescription" in doc:
        groups = list(next(iter(doc["by_prescription"].values())))
        rows = [
            [m, *(f"{fmt(g[k])} (n={g[k]['n']})" for k in groups)]
            for m, g in doc["by_prescription"].items()
        ]
        sections.append(
            table("Dice by prescription (internal test patients)", ["model", *groups], rows)
        )
    return TaskReport(sections=sections)
