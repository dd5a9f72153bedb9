"""One experiment, several training seeds: the spread a reader should see, not one run.

``oncoseg experiment counterfactual --seeds 0,1,2 -o OUT`` runs the experiment once per
training seed into ``OUT/seed<K>`` (the cohorts stay those of the config's ``seed``: only
the models' initialisation, sampling and augmentation change), then writes
``OUT/seeds.json`` and ``OUT/seeds.md``: every seed's Dice per model and site and its
counterfactual shares on the test and the validation cases, with min–max over seeds.

Where the runs scored a foreground-threshold sweep on their validation cases, the summary
also applies the rule that chooses ``infer.threshold`` without the test set
(:func:`choose_threshold`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from oncoseg.experiments.config import ExperimentConfig
from oncoseg.experiments.runner import run_experiment
from oncoseg.io.atomic import write_json, write_text


def seed_config(cfg: ExperimentConfig, seed: int) -> ExperimentConfig:
    """``cfg`` (an ExperimentConfig) whose models train with ``seed``; data unchanged."""
    train = tuple(o for o in cfg.train if not o.startswith("train.seed="))
    return dataclasses.replace(cfg, train=(*train, f"train.seed={seed}"))


def run_seeds(
    name: str,
    cfg: ExperimentConfig,
    out: str | os.PathLike[str],
    seeds: list[int],
    command: str = "",
) -> Path:
    """Run experiment ``name`` once per training seed; returns the summary's path."""
    root = Path(out)
    runs = {
        seed: run_experiment(name, seed_config(cfg, seed), root / f"seed{seed}", command=command)
        for seed in seeds
    }
    return write_seed_summary(runs, root, command)


def _dice(doc: dict[str, Any]) -> dict[str, float]:
    return {
        f"{model} Dice, {site}": float(per_site[site]["dice"]["mean"])
        for model, per_site in doc.get("models", {}).items()
        for site in per_site
    }


def _shares(doc: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, where in (("counterfactual", "test"), ("counterfactual_validation", "validation")):
        for model, cf in doc.get(key, {}).items():
            for label, value in cf["shares"].items():
                out[f"{model}, {where}: {label}"] = float(value)
            for t, row in cf.get("sweep", {}).items():  # validation only
                at = f"{model}, {where} at threshold {t}"
                out[f"{at}: nodal regions follow N0/N2"] = float(row["nodal_follows_note"])
                side = row.get("side_follows_consistent")  # None: no image-consistent case
                if side is not None:
                    out[f"{at}: side follows, image-consistent"] = float(side)
                if row.get("dice") is not None:
                    out[f"{at}: Dice (true note)"] = float(row["dice"])
    return out


def _by_prescription(doc: dict[str, Any]) -> dict[str, float]:
    """OpenKBP's per-target figures (``by_prescription``, :mod:`oncoseg.tasks.openkbp.breakdown`):
    Dice where prescribed, the paired difference to vision-only, nothing drawn where not."""
    by = doc.get("by_prescription", {})
    out: dict[str, float] = {}
    for model, r in by.get("models", {}).items():
        paired = by.get("paired_vs_vision", {}).get(model, {})
        out[f"{model} mean Dice over prescribed targets"] = r["mean_prescribed_dice"]["mean"]
        if "mean_prescribed_dice" in paired:
            diff = paired["mean_prescribed_dice"]["mean_diff"]
            out[f"{model} − vision, mean Dice over prescribed targets"] = diff
        for t, g in r["targets"].items():
            out[f"{model} {t} Dice where prescribed"] = g["prescribed"]["dice"]["mean"]
            if t in paired:
                out[f"{model} − vision, {t} Dice where prescribed"] = paired[t]["mean_diff"]
            if g["not_prescribed"]["drawn_under_1cc"] is not None:
                label = f"{model}: {t} under 1 cm³ where not prescribed"
                out[label] = g["not_prescribed"]["drawn_under_1cc"]
    return out


def seed_rows(docs: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per measured quantity: the value of every seed, min and max."""
    per_seed = {
        seed: {**_dice(doc), **_by_prescription(doc), **_shares(doc)} for seed, doc in docs.items()
    }
    names = list(next(iter(per_seed.values())))
    rows = []
    for name in names:
        values = {s: v[name] for s, v in per_seed.items() if name in v}
        rows.append(
            {
                "quantity": name,
                "seeds": values,
                "min": min(values.values()),
                "max": max(values.values()),
            }
        )
    return rows


# what a chosen threshold must reach on every seed's validation cases
FOLLOW_TARGET = 0.9


def choose_threshold(docs: dict[int, dict[str, Any]], model: str) -> dict[str, Any] | None:
    """The foreground threshold for ``model`` read from the validation sweeps of every seed.

    Rule: the largest threshold at which every seed's contour follows the edited notes
    (N0/N2 and, on image-consistent cases, the side) on at least :data:`FOLLOW_TARGET` of
    the validation cases: the least coverage traded for following. If none reaches it, the
    one with the best worst seed (ties: the larger). Test cases are never read. ``None`` for
    a model without sweeps or one that follows no edit at any threshold (vision-only).
    """
    sweeps = [
        d.get("counterfactual_validation", {}).get(model, {}).get("sweep") for d in docs.values()
    ]
    if not sweeps or any(not sw for sw in sweeps):
        return None
    thresholds = sorted({float(t) for sw in sweeps for t in sw}, reverse=True)

    def worst(t: float) -> float:
        rows = [sw[f"{t:g}"] for sw in sweeps]  # no image-consistent case: no side share
        keys = ("nodal_follows_note", "side_follows_consistent")
        return min(r[k] for r in rows for k in keys if r.get(k) is not None)

    reached = [t for t in thresholds if worst(t) >= FOLLOW_TARGET]
    chosen = reached[0] if reached else max(thresholds, key=lambda t: (worst(t), t))
    if worst(chosen) == 0:
        return None
    return {
        "threshold": chosen,
        "worst_seed_follows": worst(chosen),
        "rule": f"largest threshold with every seed following on >= {FOLLOW_TARGET:.0%} of "
        "its validation cases (else the best worst seed)",
    }


def write_seed_summary(runs: dict[int, Path], root: Path, command: str = "") -> Path:
    """``seeds.json`` and ``seeds.md`` in ``root`` from each seed's ``results.json``."""
    docs = {s: json.loads(Path(p).read_text(encoding="utf-8")) for s, p in runs.items()}
    rows = seed_rows(docs)
    first = next(iter(docs.values()))
    doc = {
        "command": command,
        "experiment": first.get("experiment"),
        "commits": {s: d.get("commit") for s, d in docs.items()},
        "device": first.get("device"),
        "results": {s: str(p) for s, p in runs.items()},
        "rows": rows,
    }
    models = {m for d in docs.values() for m in d.get("counterfactual_validation", {})}
    choice = {m: c for m in sorted(models) if (c := choose_threshold(docs, m)) is not None}
    if choice:
        doc["threshold_choice"] = choice
    write_json(root / "seeds.json", doc)
    seeds = list(docs)
    lines = [
        f"# {doc['experiment']}: {len(seeds)} training seeds",
        "",
        f"Command: `{command}`. Machine: {doc['device']}.",
        "",
        "| quantity | " + " | ".join(f"seed {s}" for s in seeds) + " | min–max |",
        "|---|" + "---|" * (len(seeds) + 1),
    ]
    for r in rows:
        pct = "share" not in r["quantity"] and "Dice" not in r["quantity"]
        fmt = "{:.0%}" if pct else "{:.3f}"
        cells = [fmt.format(r["seeds"][s]) if s in r["seeds"] else "–" for s in seeds]
        span = f"{fmt.format(r['min'])}–{fmt.format(r['max'])}"
        lines.append(f"| {r['quantity']} | " + " | ".join(cells) + f" | {span} |")
    for model, c in choice.items():
        lines += [
            "",
            f"Foreground threshold for {model} by the validation rule ({c['rule']}): "
            f"**{c['threshold']:g}** (worst seed follows {c['worst_seed_follows']:.0%}).",
        ]
    path = root / "seeds.md"
    write_text(path, "\n".join(lines) + "\n")
    return path
