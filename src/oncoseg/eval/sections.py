"""What a task hands the experiment report: its own sections and figures.

Evaluation renders the tables every experiment has (metrics, paired tests, data
efficiency); what only one task's results hold (counterfactual notes, a breakdown by
prescription) is turned into :class:`Section` objects by that task's ``report`` hook
(:mod:`oncoseg.tasks.registry`) and rendered here unchanged, so ``eval`` never reads a
task's result keys.

Example:
    >>> s = Section("Share of cases", ("model", "follows"), (("multimodal", "100%"),))
    >>> print(s.markdown())
    ## Share of cases
    <BLANKLINE>
    | model | follows |
    |---|---|
    | multimodal | 100% |
    <BLANKLINE>
    <BLANKLINE>
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Section:
    """One report section: a title, an optional paragraph (Markdown) and a table."""

    title: str
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    text: str = ""  # shown between the title and the table

    def markdown(self) -> str:
        """The section as Markdown (a trailing blank line included)."""
        lines = [f"## {self.title}", ""]
        if self.text:
            lines += [self.text, ""]
        if self.header:
            lines += ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
            lines += ["| " + " | ".join(r) + " |" for r in self.rows]
            lines.append("")
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        """The section as HTML (title, paragraph, table)."""
        head = f"<h2>{html.escape(self.title)}</h2>"
        if self.text:
            head += f"<p>{html.escape(self.text)}</p>"
        if not self.header:
            return head
        parts = [head + "<table><tr>", *(f"<th>{html.escape(h)}</th>" for h in self.header)]
        parts.append("</tr>")
        for r in self.rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
        parts.append("</table>")
        return "\n".join(parts)


@dataclass(frozen=True)
class TaskReport:
    """A task's part of an experiment report.

    ``sections`` follow the paired tests; ``figures`` are ``(caption, png)`` pairs drawn
    after the Dice box plot where the file exists (a task may name figures that a given
    experiment did not draw)."""

    sections: list[Section] = field(default_factory=list)
    figures: list[tuple[str, Path]] = field(default_factory=list)


def fmt(s: Mapping[str, Any] | None, digits: int = 3) -> str:
    """``mean [ci_low, ci_high]`` of a summary (and how many cases were undefined)."""
    if not s or s.get("mean") is None or math.isnan(s["mean"]):
        return "n/a"
    text = f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"
    return text + (f" ({s['n_undefined']} undef.)" if s.get("n_undefined") else "")


def fmt_diff(c: Mapping[str, Any] | None, digits: int = 3) -> str:
    """A paired comparison's mean difference with its bootstrap 95% CI (``+0.012 [-0.004,
    +0.027]``); the mean alone for results written before the CI was recorded."""
    if not c or c.get("mean_diff") is None or math.isnan(c["mean_diff"]):
        return "n/a"
    text = f"{c['mean_diff']:+.{digits}f}"
    if c.get("diff_ci_low") is None or math.isnan(c["diff_ci_low"]):
        return text
    return text + f" [{c['diff_ci_low']:+.{digits}f}, {c['diff_ci_high']:+.{digits}f}]"


def table(
    title: str, header: Sequence[str], rows: Sequence[Sequence[str]], text: str = ""
) -> Section:
    """A :class:`Section` from lists (rows of strings)."""
    return Section(title, tuple(header), tuple(tuple(r) for r in rows), text)


def shares_section(by_model: Mapping[str, Mapping[str, Any]], title: str) -> Section:
    """The table of ``shares`` (label -> share of cases, 0-1) of each model's results:
    the form every task's counterfactual results take."""
    first = next(iter(by_model.values()))
    rows = [[m, *(f"{v:.0%}" for v in r["shares"].values())] for m, r in by_model.items()]
    return table(title, ["model", *first["shares"]], rows)
