"""breast_ctv's part of an experiment report: the counterfactual notes and their figures.

For each counterfactual split (test, and each run's validation cases): the share of cases
whose contour follows the edited note, with the mean ipsilateral nodal coverage under the
N2 and the N0 note beside it (the margin: a case follows the N edit when N2 covers more than
half and N0 less than half); the foreground-threshold sweep where there is one; and every
edit that failed, per case, with the measure under each note. A reader whose run gives
another share sees how far from the threshold each case is.

Example:
    >>> doc = {"counterfactual": {"m": {"shares": {"nodal (n=1)": 1.0}, "cases": [
    ...     {"case": "c0", "nodal_cover_n2": 0.9, "nodal_cover_n0": 0.0, "nodal_follows": True}]}}}
    >>> [s.title for s in breast_report(doc, Path("figures")).sections]   # doctest: +ELLIPSIS
    ['Counterfactual notes: share of test cases ...', 'Counterfactual edits that failed ...']
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.eval.sections import Section, TaskReport, table

# the figures breast_counterfactual draws (one case of each kind, see figure_cases):
# kind -> caption suffix
COUNTERFACTUAL_FIGURES = {"conserving": "", "mastectomy": ", a unilateral mastectomy"}
SPLITS = (("counterfactual", "test"), ("counterfactual_validation", "validation"))
COVERAGE = "mean nodal coverage, N2 / N0 note"
MARGIN = (
    "Nodal coverage: the share of the ipsilateral axilla, SCF and IMN compartments inside the "
    "contour. A case follows the N edit when its coverage is above 0.5 with the N2 note and "
    "below 0.5 with the N0 note; the means show how far from that line the cases lie."
)
FAILED = (
    "An N edit failed when the ipsilateral nodal coverage was not above 0.5 with the N2 note "
    "and below 0.5 with the N0 note; a side edit (breast-conserving cases, where only the note "
    "names the side) failed when the share of the sided contour on the left was not above "
    "0.5 with the left note and below 0.5 with the right note. A side note that contradicts "
    "the CT (mastectomy) is not listed: following it is not the goal."
)


def counterfactual_png(fig_dir: Path, model: str, kind: str) -> Path:
    """``counterfactual_MODEL.png`` for the breast-conserving case (the main figure),
    ``counterfactual_MODEL_KIND.png`` for the others."""
    suffix = "" if kind == "conserving" else f"_{kind}"
    return fig_dir / f"counterfactual_{model}{suffix}.png"


def breast_report(doc: Mapping[str, Any], fig_dir: Path) -> TaskReport:
    """The counterfactual sections of ``doc`` (a results.json) and the figures in ``fig_dir``."""
    sections: list[Section] = []
    for key, which in SPLITS:
        if key not in doc:
            continue
        sections.append(_shares(doc[key], which))
        sweep = _sweep(doc[key], which)
        if sweep is not None:
            sections.append(sweep)
        sections.append(_failed(doc[key], which))
    figures = [
        (f"Counterfactual notes ({m}{caption})", counterfactual_png(fig_dir, m, kind))
        for m in doc.get("counterfactual", {})
        for kind, caption in COUNTERFACTUAL_FIGURES.items()
    ]
    return TaskReport(sections=sections, figures=figures)


def mean_coverage(result: Mapping[str, Any], note: str) -> float | None:
    """Mean ipsilateral nodal coverage under the ``note`` ("n2" or "n0") note: stored by
    :func:`~oncoseg.tasks.breast_ctv.counterfactual.breast_counterfactual`, or computed from
    the per-case rows of an older results.json."""
    if f"nodal_cover_{note}_mean" in result:
        stored: float | None = result[f"nodal_cover_{note}_mean"]
        return stored
    values = [c[f"nodal_cover_{note}"] for c in result.get("cases", [])]
    return float(np.mean(values)) if values else None


def _coverage(result: Mapping[str, Any]) -> str:
    n2, n0 = mean_coverage(result, "n2"), mean_coverage(result, "n0")
    return "–" if n2 is None or n0 is None else f"{n2:.2f} / {n0:.2f}"


def _shares(by_model: Mapping[str, Any], which: str) -> Section:
    """Shares of cases following each edit; the mean coverages beside the nodal share (the
    first of the shares, see ``counterfactual._summary``)."""
    labels = list(next(iter(by_model.values()))["shares"])
    rows = []
    for m, r in by_model.items():
        shares = [f"{v:.0%}" for v in r["shares"].values()]
        rows.append([m, shares[0], _coverage(r), *shares[1:]])
    return table(
        f"Counterfactual notes: share of {which} cases whose contour follows the edited note",
        ["model", labels[0], COVERAGE, *labels[1:]],
        rows,
        MARGIN if which == "test" else "",
    )


def _sweep(by_model: Mapping[str, Any], which: str) -> Section | None:
    rows = [
        [m, t, f"{r['nodal_follows_note']:.0%}", _coverage(r), _pct(r["side_follows_consistent"])]
        + ["–" if r.get("dice") is None else f"{r['dice']:.3f}"]
        for m, c in by_model.items()
        for t, r in c.get("sweep", {}).items()
    ]
    if not rows:
        return None
    return table(
        f"Foreground threshold on the {which} cases (choose `infer.threshold` here)",
        ["model", "threshold", "nodal follows", COVERAGE, "side follows (consistent)", "Dice"],
        rows,
    )


def _failed(by_model: Mapping[str, Any], which: str) -> Section:
    """Every failed edit of every model, one row per case and edit; one row for a model
    whose contour did not change with any note, one for a model that failed none."""
    rows: list[list[str]] = []
    for m, r in by_model.items():
        cases = r.get("cases", [])
        if cases and all(_same_contour(c) for c in cases):
            same = "every edit: the same contour with every note"
            rows.append([m, f"all {len(cases)}", same, "–", "–"])
            continue
        mine = [row for c in cases for row in _failed_edits(m, c)]
        rows += mine or [[m, "–", "none failed", "–", "–"]]
    return table(
        f"Counterfactual edits that failed ({which} cases)",
        ["model", "case", "edit", "N2 / left / conserving note", "N0 / right / mastectomy note"],
        rows,
        FAILED if which == "test" else "",
    )


def _failed_edits(model: str, c: Mapping[str, Any]) -> list[list[str]]:
    out = []
    if not c["nodal_follows"]:
        n2, n0 = c["nodal_cover_n2"], c["nodal_cover_n0"]
        out.append([model, c["case"], "N0 ↔ N2: nodal coverage", f"{n2:.2f}", f"{n0:.2f}"])
    if c.get("image_consistent") and not c["side_follows"]:
        left, right = c["left_share_left_note"], c["left_share_right_note"]
        out.append([model, c["case"], "left ↔ right: left share", f"{left:.2f}", f"{right:.2f}"])
    if c.get("surgery_follows") is False:  # absent in results written before it was measured
        cover = [
            f"breast {c[f'breast_cover_{s}']:.2f}, chest wall {c[f'wall_cover_{s}']:.2f}"
            for s in ("bcs", "mastectomy")
        ]
        out.append([model, c["case"], "conserving ↔ mastectomy: coverage", *cover])
    return out


def _same_contour(c: Mapping[str, Any]) -> bool:
    return bool(
        c["nodal_cover_n2"] == c["nodal_cover_n0"]
        and c.get("left_share_left_note") == c.get("left_share_right_note")
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
