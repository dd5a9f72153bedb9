"""The cohort's books: ``status.csv`` and ``metrics.csv``, kept by the coordinating process.

Every finished case is recorded once, in the dataset's case order, and both files are
rewritten atomically (temporary file, then rename) after each case, so a run killed at any
moment leaves complete files that a rerun reads back. A case counts as finished only when
its mask exists under its final name (``masks/<case>.nii.gz``, also written atomically);
status rows of unfinished cases (``failed`` ones) stay until the case runs again.

Example:
    >>> import tempfile
    >>> book = StatusBook(Path(tempfile.mkdtemp()), ["a", "b"])
    >>> book.record(CaseResult("b", "failed", "ValueError: bad", 0.5))
    >>> (book.out / "status.csv").read_text().splitlines()
    ['case,status,error,seconds', 'b,failed,ValueError: bad,0.50']
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from oncoseg.batch.cohort_case import METRICS, CaseResult
from oncoseg.io.atomic import write_csv

STATUS_FIELDS = ("case", "status", "error", "seconds")
METRIC_FIELDS = ("case", "class", *METRICS)
STATUSES = ("ok", "failed")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file written by :func:`oncoseg.io.atomic.write_csv`; [] when absent."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _number(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


class StatusBook:
    """Status and metric rows of one output folder, for the cases of ``order``."""

    def __init__(self, out: Path, order: Sequence[str]) -> None:
        self.out, self.order = out, list(order)
        known = set(self.order)
        self.status: dict[str, dict[str, str]] = {
            r["case"]: r
            for r in read_rows(out / "status.csv")
            if r.get("case") in known and r.get("status") in STATUSES
        }
        self.metrics: dict[str, list[dict[str, str]]] = {}
        for r in read_rows(out / "metrics.csv"):
            if r.get("case") in known:
                self.metrics.setdefault(r["case"], []).append(r)

    def record(self, result: CaseResult, write: bool = True) -> None:
        """Set the case's status row (and its metric rows) and rewrite both files."""
        self.status[result.case_id] = {
            "case": result.case_id,
            "status": result.status,
            "error": result.error,
            "seconds": f"{result.seconds:.2f}" if result.seconds else "",
        }
        if result.status == "ok":
            rows = [{k: _number(v) for k, v in r.items()} for r in result.metrics]
            if rows:
                self.metrics[result.case_id] = rows
            else:
                self.metrics.pop(result.case_id, None)
        if write:
            self.write()

    def write(self) -> None:
        """Rewrite ``status.csv`` (and ``metrics.csv`` when any case has scores) atomically."""
        rows = [self.status[c] for c in self.order if c in self.status]
        write_csv(self.out / "status.csv", rows, STATUS_FIELDS)
        scored = [r for c in self.order for r in self.metrics.get(c, [])]
        if scored or (self.out / "metrics.csv").exists():
            write_csv(self.out / "metrics.csv", scored, METRIC_FIELDS)

    def is_ok(self, case_id: str) -> bool:
        return self.status.get(case_id, {}).get("status") == "ok"

    def counts(self) -> dict[str, int]:
        """Cases per status among the recorded ones."""
        out = dict.fromkeys(STATUSES, 0)
        for row in self.status.values():
            out[row["status"]] += 1
        return out

    def mean_dice(self) -> dict[str, float]:
        """Mean Dice per class over the scored cases whose status is ok."""
        per: dict[str, list[float]] = {}
        for case, rows in self.metrics.items():
            if self.is_ok(case):
                for r in rows:
                    per.setdefault(r["class"], []).append(float(r["dice"]))
        return {k: sum(v) / len(v) for k, v in sorted(per.items())}
