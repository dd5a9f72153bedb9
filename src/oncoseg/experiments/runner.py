"""The papers' experiments, one command each: ``oncoseg experiment NAME --config FILE``.

Every experiment trains the models it compares (or reuses identical ones, see below),
evaluates them on the held-out test cases of every site, and writes under ``runs/NAME``:
``results.json`` (schema below), ``summary.md``, ``report.html`` (self-contained) and
``figures/*.png``, each recording the command, config, git commit and data hashes.

- ``compare``: vision-only vs multimodal on the internal and external sites.
- ``fusion-ablation``: none / concat / static / gated / two_way.
- ``text-ablation``: the cached family (queries outside the frozen LM, or nothing
  learnt) / the in-LM family (multi-prompt prefix and suffix, one-prompt, LoRA) /
  sentence encoder, all with two_way fusion.
- ``data-efficiency``: 40/60/80/100 % of the training cases, vision-only and multimodal.
- ``counterfactual``: flip N status, laterality and surgery in each test note (breast_ctv).
- ``kfold``: k-fold cross-validation of the models of ``kfold_of``; every training case
  is scored once, by the model that did not see it.

``results.json``::

    {"experiment", "dataset", "command", "commit", "data_hash", "config",
     "models": {MODEL: {SITE: {"n": int, METRIC: {"mean", "sd", "median", "ci_low",
                                                  "ci_high", "n_undefined"}}}},
     "comparisons": [{"a", "b", "site", "metric", "n", "mean_diff", "t_test_p",
                      "wilcoxon_p"}], ...extras}

METRIC is a per-case value averaged over the foreground classes (``classes`` beside it
holds each class); breast_ctv adds ``clinical`` (score counts and clinical accuracy).

Trained models are kept in ``store`` under a key of their resolved training config and
the training data's hash, so experiments that need the same model train it once
(:mod:`oncoseg.experiments.store`); cohorts are synthesised or checked by
:mod:`oncoseg.experiments.cohorts`; what differs between tasks (clinical score,
counterfactual edits, extra tables) comes from the task registry (:mod:`oncoseg.tasks`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from oncoseg.data.dataset import read_splits
from oncoseg.eval.evaluate import evaluate_split, write_rows_csv
from oncoseg.eval.report import write_reports
from oncoseg.eval.summary import comparisons, summarize_models
from oncoseg.experiments.cohorts import Data, prepare_data
from oncoseg.experiments.config import EXPERIMENTS, ExperimentConfig, model_set
from oncoseg.experiments.store import trained, trained_all
from oncoseg.infer import Predictor
from oncoseg.infer.config import load_config
from oncoseg.infer.device import kernel_settings
from oncoseg.infer.postprocess import read_choice
from oncoseg.io.atomic import write_json
from oncoseg.io.provenance import compute_device, git_commit, provenance
from oncoseg.tasks import get_task, task_report

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- evaluation


def infer_settings(cfg: ExperimentConfig, overrides: tuple[str, ...] | list[str]) -> list[str]:
    """Every ``infer.*`` setting of a model, as its overrides resolve them (defaults where
    they say nothing): how the experiment labels its predictions. Complete, so that a stored
    run trained with other prediction settings in its config.yaml is still evaluated as this
    experiment says; not part of the model store's key."""
    given = [o for o in (*cfg.train, *overrides) if o.startswith("infer.")]
    resolved = dataclasses.asdict(load_config(None, given).infer)
    return [f"infer.{key}={_yaml_value(v)}" for key, v in resolved.items()]


def _yaml_value(v: Any) -> str:
    """An override's value as YAML: ``null``, ``0.4``, ``[1, 3]``."""
    if v is None:
        return "null"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


def evaluate_runs(
    runs: dict[str, Path],
    data: Data,
    root: Path,
    split: str = "Ts",
    cases: Any = None,
    infer: dict[str, list[str]] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, list[dict[str, Any]]]]]:
    """Per-case rows of every model on every site (predictions saved for the report);
    ``infer`` holds each model's prediction settings (:func:`infer_settings`)."""
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, run in runs.items():
        predictor = Predictor.from_run(run, infer=(infer or {}).get(name))
        rows[name] = {}
        for site, ds in data.sites.items():
            if split == "Tr" and site != "internal":
                continue
            score = get_task(data.task).case_score
            extra = score(ds) if score is not None else None
            rows[name][site] = evaluate_split(
                predictor,
                ds,
                split,
                cases=cases,
                save_dir=root / "predictions" / name / site,
                case_extra=extra,
            )
            write_rows_csv(rows[name][site], root / "cases" / f"{name}_{site}.csv")
    return summarize_models(rows), rows


# ----------------------------------------------------------------------------- experiments


def _run_models(
    cfg: ExperimentConfig, data: Data, root: Path, models: dict[str, tuple[str, ...]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    runs = trained_all(cfg, data, models)
    infer = {name: infer_settings(cfg, ov) for name, ov in models.items()}
    summary, rows = evaluate_runs(runs, data, root, infer=infer)
    names = list(models)
    ref = names[0]
    pairs = [(n, ref) for n in names[1:]]
    results = {
        "models": summary,
        "comparisons": comparisons(rows, pairs),
        "runs": {n: str(p) for n, p in runs.items()},
        "infer": infer,
        # the classes each stored run keeps the largest component of (its postprocess.json,
        # chosen on validation), which infer.largest_component=null applies
        "postprocess": {n: list(read_choice(p) or ()) for n, p in runs.items()},
    }
    return results, rows


def run_compare(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    results, rows = _run_models(cfg, data, root, model_set(cfg, "compare"))
    task = get_task(data.task)
    if task.breakdown is not None:  # openkbp: Dice by prescription; brain_tumor: by lesion
        results[task.breakdown_key] = task.breakdown(rows, data.internal)
    return results, rows


def run_fusion_ablation(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    return _run_models(cfg, data, root, model_set(cfg, "fusion-ablation"))


def run_text_ablation(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    return _run_models(cfg, data, root, model_set(cfg, "text-ablation"))


def run_data_efficiency(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    models = {}
    for frac in cfg.fractions:
        pct = f"{round(100 * frac)}%"
        for name, ov in model_set(cfg, "compare").items():
            models[f"{name}@{pct}"] = (*ov, f"data.train_fraction={frac}")
    results, rows = _run_models(cfg, data, root, models)
    pairs = [(f"multimodal@{round(100 * f)}%", f"vision@{round(100 * f)}%") for f in cfg.fractions]
    pairs = [(a, b) for a, b in pairs if b in models]  # baseline=false: no vision-only models
    results["comparisons"] = comparisons(rows, pairs)
    results["fractions"] = list(cfg.fractions)
    return results, rows


# foreground thresholds scored on the validation cases (``sweep`` in results.json), from
# which a recipe's ``infer.threshold`` is chosen without the test set
SWEEP = (0.5, 0.45, 0.4, 0.35, 0.3)


def run_counterfactual(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    task = get_task(data.task)
    if task.counterfactual is None:
        raise ValueError(
            f"counterfactual notes are not defined for {data.task!r} (the task must know "
            "which clinical field to flip; see oncoseg.tasks)"
        )
    results, rows = run_compare(cfg, data, root)
    cf, cf_val = {}, {}
    for name, run in results["runs"].items():
        predictor = Predictor.from_run(run, infer=results["infer"][name])
        edits = {"style": cfg.style, "seed": cfg.seed}
        cf[name] = task.counterfactual(
            predictor, data.internal, fig_dir=root / "figures", name=name, **edits
        )
        if cfg.heldout_notes and task.phrasings is not None and predictor.uses_text:
            cf[name]["heldout_notes"] = task.phrasings(predictor, data.internal, cfg.heldout_notes)
        # the same on the run's validation cases: a model or setting can be chosen on
        # these without looking at the test set
        val = json.loads((Path(run) / "provenance.json").read_text())["val_cases"]
        if val and task.counterfactual_on_validation:
            cf_val[name] = task.counterfactual(
                predictor, data.internal, split="Tr", cases=val, thresholds=SWEEP, **edits
            )
    results["counterfactual"] = cf
    if cf_val:
        results["counterfactual_validation"] = cf_val
    return results, rows


def run_kfold(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    models = model_set(cfg, cfg.kfold_of)
    splits = read_splits(data.internal)
    if cfg.folds > len(splits):
        raise ValueError(f"folds={cfg.folds} but {data.internal}/splits.json has {len(splits)}")
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {n: {"cv": []} for n in models}
    runs: dict[str, list[str]] = {n: [] for n in models}
    for k in range(cfg.folds):
        fold = {n: trained(cfg, data, n, (*ov, f"data.fold={k}")) for n, ov in models.items()}
        infer = {n: infer_settings(cfg, ov) for n, ov in models.items()}
        _, fold_rows = evaluate_runs(
            fold, data, root / f"fold{k}", "Tr", splits[k]["val"], infer=infer
        )
        for n in models:
            rows[n]["cv"] += fold_rows[n]["internal"]
            runs[n].append(str(fold[n]))
    names = list(models)
    results = {
        "models": summarize_models(rows),
        "comparisons": comparisons(rows, [(n, names[0]) for n in names[1:]]),
        "runs": runs,
        "folds": cfg.folds,
    }
    return results, rows


RUNNERS = {
    "compare": run_compare,
    "fusion-ablation": run_fusion_ablation,
    "text-ablation": run_text_ablation,
    "data-efficiency": run_data_efficiency,
    "counterfactual": run_counterfactual,
    "kfold": run_kfold,
}


def run_experiment(
    name: str,
    cfg: ExperimentConfig,
    out: str | os.PathLike[str],
    command: str | None = None,
) -> Path:
    """Run experiment ``name`` into ``out``; returns the path of results.json."""
    if name not in RUNNERS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}, got {name!r}")
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    data = prepare_data(cfg)
    t0 = time.perf_counter()
    # the code that runs is the code at the start: record that commit, and the one at the
    # end too if the checkout changed while the experiment ran
    started = git_commit()
    results, rows = RUNNERS[name](cfg, data, root)
    meta = provenance(
        commit=started,
        config=asdict(cfg),
        data_hash=data.hashes,
        device=compute_device(),
        kernels=kernel_settings(),  # what decided the float kernels (and bf16) here
        seconds=round(time.perf_counter() - t0, 1),
    )
    if (ended := git_commit()) != started:
        meta["commit_at_end"] = ended
        log.warning("the checkout changed while %s ran (%s -> %s)", name, started, ended)
    if command:
        meta["command"] = command
    doc = {"experiment": name, "dataset": data.task, **meta, **results}
    write_reports(doc, rows, data, root, task_report(doc, root / "figures"))
    path = root / "results.json"
    write_json(path, doc)  # last: a results.json means the whole experiment finished
    return path
