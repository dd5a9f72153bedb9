"""Evaluate a trained model on a dataset split: per-case metrics and cohort summaries."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import list_cases, note_path, read_case
from oncoseg.eval.metrics import case_metrics
from oncoseg.eval.stats import paired_tests, summarize
from oncoseg.infer import Predictor
from oncoseg.infer.pipeline import run_prediction
from oncoseg.io.atomic import write_csv
from oncoseg.io.image import Image

REPORTED = ("dice", "iou", "hd95")


def evaluate_split(
    predictor: Predictor,
    root: str | os.PathLike[str],
    split: str = "Ts",
    note_for: Callable[[str, str], str] | None = None,
    cases: Sequence[str] | None = None,
    save_dir: Path | None = None,
    case_extra: Callable[[Any, np.ndarray], dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per case and foreground class: ``{"case", "class", metric: value, ...}``.

    ``note_for(case_id, note)`` may replace the note (counterfactual experiments);
    ``save_dir`` keeps each predicted mask as ``CASE.nii.gz``; ``case_extra(case, pred)``
    adds per-case fields (e.g. the clinical score) to the case's rows.
    """
    rows = []
    labels = foreground_labels(predictor.plan.labels)
    for case_id in cases or list_cases(root, split):
        case = read_case(root, case_id, split)
        if case.label is None:
            raise ValueError(f"{root}: case {case_id} has no label in labels{split}")
        note = note_for(case_id, case.note) if note_for else case.note
        result = run_prediction(
            predictor,
            case.images,
            note=note,
            out=save_dir,
            name=case_id,
            formats=("nifti",) if save_dir is not None else (),
            note_source=str(note_path(Path(root), case_id, split)),
            side_check=False,
        )
        pred = np.asarray(result.mask.array)
        extra = case_extra(case, pred) if case_extra else {}
        rows += [{**r, **extra} for r in class_metric_rows(case_id, pred, case.label, labels)]
    return rows


def foreground_labels(plan_labels: Mapping[str, int]) -> dict[int, str]:
    """``{value: name}`` of a plan's labels without background, by value."""
    return {v: k for k, v in sorted(plan_labels.items(), key=lambda kv: kv[1]) if v != 0}


def class_metric_rows(
    case_id: str,
    pred: np.ndarray,
    label: Image,
    labels: Mapping[int, str],
    metrics: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The per-case metrics: one row per foreground class, ``{"case", "class", metric...}``.

    Every metric of :func:`~oncoseg.eval.metrics.case_metrics` (HD95 in mm from the label's
    spacing), or only ``metrics``; ``labels`` is ``{value: class name}``.
    """
    gt = np.asarray(label.array)
    if gt.shape != pred.shape:
        raise ValueError(f"label shape {gt.shape} differs from the image's {pred.shape}")
    rows = []
    for value, name in labels.items():
        m = case_metrics(pred == value, gt == value, label.spacing)
        kept = m if metrics is None else {k: m[k] for k in metrics}
        rows.append({"case": case_id, "class": name, **kept})
    return rows


def summarize_rows(
    rows: Sequence[dict[str, Any]],
    metrics: Sequence[str] = REPORTED,
) -> dict[str, Any]:
    """Per class: n and, per metric, mean/sd/median/bootstrap CI (NaN HD95 counted apart)."""
    out: dict[str, Any] = {}
    for cls in sorted({r["class"] for r in rows}):
        sel = [r for r in rows if r["class"] == cls]
        out[cls] = {"n": len(sel), **{m: summarize([r[m] for r in sel]) for m in metrics}}
    return out


def compare_rows(
    a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]], metrics: Sequence[str] = REPORTED
) -> dict[str, dict[str, Any]]:
    """Paired tests of model a vs b over the same (case, class) rows."""
    key = {(r["case"], r["class"]): r for r in b}
    pairs = [(r, key[(r["case"], r["class"])]) for r in a if (r["case"], r["class"]) in key]
    return {m: paired_tests([x[m] for x, _ in pairs], [y[m] for _, y in pairs]) for m in metrics}


def write_rows_csv(rows: Sequence[dict[str, Any]], path: Path) -> None:
    write_csv(path, rows, list(rows[0]) if rows else [])
