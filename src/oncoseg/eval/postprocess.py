"""Choose a run's post-processing on its validation cases (``oncoseg postprocess RUN``).

Each validation case is predicted once, with each case's own note; per foreground class the
Dice of the labels as predicted and with only the class's largest connected component kept
(:func:`oncoseg.infer.postprocess.keep_largest`) are averaged over the cases, and the classes
where keeping the largest component raises mean Dice are written to the run's
``postprocess.json``, which ``Predictor.predict`` applies from then on (docs/models.md says
where). The test cases are never read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import read_case
from oncoseg.eval.evaluate import foreground_labels
from oncoseg.eval.metrics import dice
from oncoseg.infer import Predictor
from oncoseg.infer.pipeline import run_prediction
from oncoseg.infer.postprocess import CHOICE_FILE, keep_largest
from oncoseg.io.atomic import write_json


def validation_cases(run_dir: Path) -> list[str]:
    """The run's validation case ids (its ``provenance.json``)."""
    path = run_dir / "provenance.json"
    try:
        cases = json.loads(path.read_text(encoding="utf-8"))["val_cases"]
    except (OSError, json.JSONDecodeError, KeyError) as exc:
        raise ValueError(
            f"{path}: no val_cases (was the run trained with data.fold >= 0?)"
        ) from exc
    if not cases:
        raise ValueError(f"{path}: the run has no validation cases (data.fold -1)")
    return list(cases)


def choose(
    run_dir: str | Path, dataset: str | Path | None = None, cases: Sequence[str] | None = None
) -> dict[str, Any]:
    """Score both ways on the validation cases and write ``postprocess.json``; returns it.

    ``dataset``: where the cases are (default: the run's ``data.dataset``); ``cases``: which
    (default: the run's validation cases)."""
    run = Path(run_dir)
    ids = list(cases or validation_cases(run))
    predictor = Predictor.from_run(run, infer=["infer.largest_component=[]"])
    if not (dataset or predictor.cfg.data.dataset):
        raise ValueError(f"{run}: its config names no data.dataset; pass --dataset")
    root = Path(dataset or predictor.cfg.data.dataset)
    labels = foreground_labels(predictor.plan.labels)
    raw: dict[int, list[float]] = {v: [] for v in labels}
    kept: dict[int, list[float]] = {v: [] for v in labels}
    for case_id in ids:
        case = read_case(root, case_id, "Tr")
        if case.label is None:
            raise ValueError(f"{root}: case {case_id} has no label in labelsTr")
        result = run_prediction(
            predictor, case.images, note=case.note, formats=(), side_check=False
        )  # as the experiments predict (evaluate_split), with the case's own note
        pred = np.asarray(result.mask.array)
        truth = np.asarray(case.label.array)
        for v in labels:
            raw[v].append(dice(pred == v, truth == v))
            kept[v].append(dice(keep_largest(pred, [v]) == v, truth == v))
    per_class = {
        labels[v]: {
            "value": v,
            "dice": float(np.mean(raw[v])),
            "dice_largest_component": float(np.mean(kept[v])),
        }
        for v in labels
    }
    better = [v for v in labels if np.mean(kept[v]) > np.mean(raw[v])]
    doc = {
        "largest_component": better,
        "rule": "keep a class's largest connected component where it raises mean validation Dice",
        "cases": ids,
        "classes": per_class,
    }
    write_json(run / CHOICE_FILE, doc)
    return doc
