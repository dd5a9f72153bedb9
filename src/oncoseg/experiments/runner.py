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
- ``counterfactual``: flip N status and laterality in each test note (breast_ctv).
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
the training data's hash, so experiments that need the same model train it once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.check import check_dataset
from oncoseg.data.dataset import dataset_hash, read_clinical_csv, read_info, read_splits
from oncoseg.eval.clinical import clinical_accuracy
from oncoseg.eval.counterfactual import breast_counterfactual, prescription_counterfactual
from oncoseg.eval.evaluate import compare_rows, evaluate_split, summarize_rows, write_rows_csv
from oncoseg.eval.inference import Predictor
from oncoseg.io.atomic import write_json, write_text
from oncoseg.provenance import compute_device, git_commit, provenance
from oncoseg.synth import brain_tumor, breast_ctv
from oncoseg.synth.cohort import write_cohort
from oncoseg.train.config import ConfigError, load_config, load_into, to_dict
from oncoseg.train.loop import train

log = logging.getLogger(__name__)

EXPERIMENTS = (
    "compare",
    "fusion-ablation",
    "text-ablation",
    "data-efficiency",
    "counterfactual",
    "kfold",
)
GENERATORS = {"breast_ctv": breast_ctv, "brain_tumor": brain_tumor}
PROMPT_LM = ("text.encoder=prompt-lm", "text.model=smollm2")
VISION = ("model.fusion=none",)
MULTIMODAL = ("model.fusion=two_way", *PROMPT_LM, "text.mode=cached-queries")


@dataclass
class ExperimentConfig:
    """What an experiment runs on and how long it trains (CPU defaults)."""

    dataset: str = "breast_ctv"  # breast_ctv | brain_tumor (synthesised) or a dataset folder
    external: str = ""  # a second dataset folder tested as the external site (optional)
    cases: int = 60  # synthesised training cases (internal site)
    test_cases: int = 20  # synthesised internal test cases
    external_cases: int = 20  # synthesised external-site test cases (0: no external site)
    size: int = 64  # synthesised volume edge (voxels)
    style: str = "prompt"  # note style of synthesised cases: prompt | narrative | raw
    seed: int = 0
    epochs: int = 16  # 2-core CPU: the demo (both models) fits in 20 min
    train: tuple[str, ...] = ("train.lr=1e-3", "train.batch_size=2", "data.fold=0")
    vision: tuple[str, ...] = VISION  # training overrides of the vision-only model
    multimodal: tuple[str, ...] = MULTIMODAL  # ... and of the note-guided model
    fractions: tuple[float, ...] = (0.4, 0.6, 0.8, 1.0)  # data-efficiency
    folds: int = 5  # kfold
    kfold_of: str = "compare"  # whose models kfold cross-validates
    store: str = "runs/models"  # trained models, reused when config and data match
    data_dir: str = "runs/data"  # synthesised cohorts, reused when spec and generator code match


def load_experiment_config(path: str | None, overrides: list[str] | None) -> ExperimentConfig:
    cfg = load_into(ExperimentConfig(), path, overrides)
    if cfg.kfold_of not in EXPERIMENTS or cfg.kfold_of in ("kfold", "counterfactual"):
        raise ConfigError(f"kfold_of must name a model-comparing experiment, got {cfg.kfold_of!r}")
    if not all(0 < f <= 1 for f in cfg.fractions):
        raise ConfigError(f"fractions must lie in (0, 1], got {cfg.fractions}")
    return cfg


@dataclass
class Data:
    """The datasets an experiment uses: the internal one trains; every site is tested."""

    sites: dict[str, Path]  # site -> dataset folder (internal first)
    hashes: dict[str, str]
    task: str

    @property
    def internal(self) -> Path:
        return self.sites["internal"]


GENERATOR_STAMP = ".generator"  # file beside a synthesised cohort: generator_fingerprint()


def generator_fingerprint() -> str:
    """Hash of the phantom generators' source (``oncoseg.synth``).

    A cached cohort is reused only when this matches the one it was written with. Remaking
    a cohort whose output did not change gives the same dataset hash, so stored models are
    still reused; one whose notes or masks changed gets a new hash and new models.
    """
    import oncoseg.synth

    h = hashlib.sha256()
    for f in sorted(Path(oncoseg.synth.__file__).parent.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def prepare_data(cfg: ExperimentConfig) -> Data:
    """Synthesise (or reuse) the cohorts, or check the given dataset folders."""
    sites: dict[str, Path] = {}
    if cfg.dataset in GENERATORS:
        gen = GENERATORS[cfg.dataset]
        fingerprint = generator_fingerprint()
        plan = [("internal", cfg.cases, cfg.test_cases)]
        if cfg.external_cases:
            plan.append(("external", 0, cfg.external_cases))
        for site, n_tr, n_ts in plan:
            tag = f"{cfg.dataset}-{site}-{n_tr}+{n_ts}-{cfg.size}-{cfg.style}-s{cfg.seed}"
            out = Path(cfg.data_dir) / tag
            stamp = out.with_name(tag + GENERATOR_STAMP)  # beside it: not in its hash
            made_by = stamp.read_text().strip() if stamp.exists() else None
            if made_by != fingerprint or not (out / "dataset.json").exists():
                # a cohort made by other generator code is remade: its notes or masks may
                # differ from what this checkout writes (and from its counterfactual notes)
                write_cohort(
                    out,
                    gen.cohort_spec(),
                    cases=n_tr,
                    test_cases=n_ts,
                    site=site,
                    style=cfg.style,
                    size=cfg.size,
                    seed=cfg.seed,
                    overwrite=True,
                )
                write_text(stamp, fingerprint + "\n")
            sites[site] = out
    else:
        sites["internal"] = Path(cfg.dataset)
        if cfg.external:
            sites["external"] = Path(cfg.external)
    for site, ds in sites.items():
        report = check_dataset(ds)
        if not report.ok:
            raise ValueError(f"{ds} ({site} site) failed its check: {report.problems[:3]}")
    task = read_info(sites["internal"]).task or cfg.dataset
    return Data(sites, {s: dataset_hash(p) for s, p in sites.items()}, task)


def model_key(overrides: list[str], data_hash: str) -> str:
    """Identifies a trained model: its resolved config (minus paths) and its data."""
    cfg = to_dict(load_config(None, overrides))
    cfg.pop("out")
    cfg["data"].pop("dataset")
    blob = json.dumps({"config": cfg, "data": data_hash}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def equivalent_stored(out: Path, overrides: list[str], data_hash: str) -> Path | None:
    """A finished run in ``out``'s store, under another key or name, that trained the same model.

    A key hashes the whole resolved config, so adding a setting changes every key. A stored
    run is the same model when its recorded overrides, resolved with today's defaults, give
    today's key for the same data: settings added since default to the old behaviour (the
    rule for new settings here; a changed default needs a fresh store).
    """
    key = model_key(list(overrides), data_hash)
    prefix = out.name.rsplit("-", 1)[0]  # NAME-KEY; keys are hex
    same_name = sorted(out.parent.glob(f"{prefix}-*/done.json"))
    # then any other name: data-efficiency's "vision@100%" is compare's "vision"
    others = [d for d in sorted(out.parent.glob("*/done.json")) if d not in same_name]
    for done in same_name + others:
        try:
            recorded = json.loads(done.read_text())["overrides"]
            prov = json.loads((done.parent / "provenance.json").read_text())
            if prov.get("data_hash") == data_hash and model_key(recorded, data_hash) == key:
                return done.parent
        except (OSError, KeyError, ValueError):
            continue  # an unreadable or foreign folder is not a match
    return None


def trained(
    cfg: ExperimentConfig,
    data: Data,
    name: str,
    overrides: tuple[str, ...] | list[str],
) -> Path:
    """A finished training run for ``overrides``: from the store, or trained now."""
    full = [
        f"train.epochs={cfg.epochs}",
        f"train.seed={cfg.seed}",
        *cfg.train,
        *overrides,
    ]
    key = model_key(full, data.hashes["internal"])
    out = Path(cfg.store) / f"{name.replace('/', '_')}-{key}"
    done = out / "done.json"
    if not done.exists() and (same := equivalent_stored(out, full, data.hashes["internal"])):
        log.info("%s: reusing %s (trained before newer settings existed)", name, same)
        return same
    # experiments running side by side share the store: one trains, the others wait and reuse
    with store_lock(out.with_name(f".{out.name}.lock")):
        if done.exists() and json.loads(done.read_text())["key"] == key:
            log.info("%s: reusing %s", name, out)
            return out
        if out.exists():
            shutil.rmtree(out)  # an unfinished or different run: start clean
        train(load_config(None, [f"data.dataset={data.internal}", f"out={out}", *full]))
        write_json(done, {"key": key, "name": name, "overrides": full})
    return out


@contextlib.contextmanager
def store_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (POSIX ``flock``; a no-op where there is none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: experiments there must not share a store concurrently
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ----------------------------------------------------------------------------- evaluation


def evaluate_runs(
    runs: dict[str, Path], data: Data, root: Path, split: str = "Ts", cases: Any = None
) -> tuple[dict[str, Any], dict[str, dict[str, list[dict[str, Any]]]]]:
    """Per-case rows of every model on every site (predictions saved for the report)."""
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, run in runs.items():
        predictor = Predictor.from_run(run)
        rows[name] = {}
        for site, ds in data.sites.items():
            if split == "Tr" and site != "internal":
                continue
            extra = _clinical_extra(ds) if data.task == "breast_ctv" else None
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


def _clinical_extra(ds: Path) -> Callable[[Any, np.ndarray], dict[str, Any]]:
    from oncoseg.eval.clinical import clinical_score
    from oncoseg.synth.breast_ctv import BreastClinical

    clinical = read_clinical_csv(ds)

    def extra(case: Any, pred: np.ndarray) -> dict[str, Any]:
        if case.regions is None:
            return {}
        row = BreastClinical.from_row(clinical[case.case_id])
        s = clinical_score(pred > 0, np.asarray(case.regions.array), row)
        return {k: s[k] for k in ("score", "side_ok", "primary_ok", "nodal_mismatches")}

    return extra


def per_case(rows: list[dict[str, Any]], metric: str) -> dict[str, float]:
    """The metric per case, averaged over foreground classes (NaNs ignored)."""
    out: dict[str, list[float]] = {}
    for r in rows:
        out.setdefault(r["case"], []).append(float(r[metric]))
    return {
        c: float(np.nanmean(v)) if not np.isnan(v).all() else float("nan") for c, v in out.items()
    }


def summarize_models(rows: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    from oncoseg.eval.evaluate import REPORTED
    from oncoseg.eval.stats import summarize

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


def comparisons(
    rows: dict[str, dict[str, list[dict[str, Any]]]], pairs: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Paired tests of model a vs b on the same cases, per site and metric."""
    out = []
    for a, b in pairs:
        for site in rows[a]:
            if site not in rows[b]:
                continue
            for metric, res in compare_rows(rows[a][site], rows[b][site]).items():
                out.append({"a": a, "b": b, "site": site, "metric": metric, **res})
    return out


# ----------------------------------------------------------------------------- experiments


def model_set(cfg: ExperimentConfig, experiment: str) -> dict[str, tuple[str, ...]]:
    """Model name -> training overrides for a model-comparing experiment."""
    if experiment in ("compare", "counterfactual"):
        return {"vision": cfg.vision, "multimodal": cfg.multimodal}
    if experiment == "fusion-ablation":
        text = tuple(o for o in cfg.multimodal if not o.startswith("model.fusion="))
        return {
            "none": cfg.vision,
            **{f: (f"model.fusion={f}", *text) for f in ("concat", "static", "gated", "two_way")},
        }
    if experiment == "text-ablation":
        fuse = ("model.fusion=two_way",)
        inlm = {
            "inlm-multi-prompt/suffix": ("text.mode=inlm-multi-prompt", "text.position=suffix"),
            "inlm-multi-prompt/prefix": ("text.mode=inlm-multi-prompt", "text.position=prefix"),
            "inlm-one-prompt/suffix": ("text.mode=inlm-one-prompt", "text.position=suffix"),
            "inlm-lora": ("text.mode=inlm-lora", "text.position=prefix"),
        }
        return {
            "cached-queries": (*fuse, *PROMPT_LM, "text.mode=cached-queries"),
            "cached-frozen": (*fuse, *PROMPT_LM, "text.mode=cached-frozen"),
            **{name: (*fuse, *PROMPT_LM, *mode) for name, mode in inlm.items()},
            "sentence": (*fuse, "text.encoder=sentence", "text.model=minilm"),
        }
    raise ValueError(f"{experiment} does not define a model set")


def _resolve_ref(override: str, runs: dict[str, Path]) -> str:
    """``train.init_from=@vision`` -> the path of the set's already trained ``vision`` run."""
    key, _, value = override.partition("=")
    if not value.startswith("@"):
        return override
    if value[1:] not in runs:
        raise ValueError(f"{override}: no model {value[1:]!r} before it (have {sorted(runs)})")
    return f"{key}={runs[value[1:]]}"


def _run_models(
    cfg: ExperimentConfig, data: Data, root: Path, models: dict[str, tuple[str, ...]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    runs: dict[str, Path] = {}
    for name, ov in models.items():  # in order: "@NAME" names a model trained before
        runs[name] = trained(cfg, data, name, [_resolve_ref(o, runs) for o in ov])
    summary, rows = evaluate_runs(runs, data, root)
    names = list(models)
    ref = names[0]
    pairs = [(n, ref) for n in names[1:]]
    results = {
        "models": summary,
        "comparisons": comparisons(rows, pairs),
        "runs": {n: str(p) for n, p in runs.items()},
    }
    return results, rows


def run_compare(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    results, rows = _run_models(cfg, data, root, model_set(cfg, "compare"))
    if data.task == "openkbp":
        results["by_prescription"] = prescription_breakdown(rows, data)
    return results, rows


def prescription_breakdown(
    rows: dict[str, dict[str, list[dict[str, Any]]]], data: Data
) -> dict[str, Any]:
    """OpenKBP: per-class Dice in patients with vs without that target prescribed."""
    from oncoseg.eval.stats import summarize

    clinical = read_clinical_csv(data.internal)
    out: dict[str, Any] = {}
    for name, sites in rows.items():
        out[name] = {}
        for cls in ("PTV63", "PTV56"):
            for state in ("yes", "no"):
                values = [
                    r["dice"]
                    for r in sites.get("internal", [])
                    if r["class"] == cls and clinical.get(r["case"], {}).get(cls) == state
                ]
                key = f"{cls} {'prescribed' if state == 'yes' else 'not prescribed'}"
                out[name][key] = summarize(values)
    return out


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
    results["comparisons"] = comparisons(rows, pairs)
    results["fractions"] = list(cfg.fractions)
    return results, rows


def run_counterfactual(cfg: ExperimentConfig, data: Data, root: Path) -> tuple[dict, dict]:
    if data.task not in ("breast_ctv", "openkbp"):
        raise ValueError(
            f"counterfactual notes are defined for breast_ctv and openkbp, not {data.task!r} "
            "(the note generator must know which clinical field to flip)"
        )
    results, rows = run_compare(cfg, data, root)
    cf, cf_val = {}, {}
    for name, run in results["runs"].items():
        predictor = Predictor.from_run(run)
        if data.task == "breast_ctv":
            cf[name] = breast_counterfactual(
                predictor, data.internal, cfg.style, cfg.seed, root / "figures", name
            )
            # the same on the run's validation cases: a model or setting can be chosen on
            # these without looking at the test set
            val = json.loads((Path(run) / "provenance.json").read_text())["val_cases"]
            if val:
                cf_val[name] = breast_counterfactual(
                    predictor, data.internal, cfg.style, cfg.seed, split="Tr", cases=val
                )
        else:
            cf[name] = prescription_counterfactual(predictor, data.internal)
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
        _, fold_rows = evaluate_runs(fold, data, root / f"fold{k}", "Tr", splits[k]["val"])
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
    from oncoseg.eval.report import write_reports

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
        seconds=round(time.perf_counter() - t0, 1),
    )
    if (ended := git_commit()) != started:
        meta["commit_at_end"] = ended
        log.warning("the checkout changed while %s ran (%s -> %s)", name, started, ended)
    if command:
        meta["command"] = command
    doc = {"experiment": name, "dataset": data.task, **meta, **results}
    path = root / "results.json"
    write_json(path, doc)
    write_reports(doc, rows, data, root)
    return path
