"""Is the clause attribution right? Checked against the rule table that made the labels.

For each phantom case (breast_ctv, brain_tumor): the model's effect of each clause
(:func:`oncoseg.infer.explain.explain`, occlusion) beside the truth's effect of the fields
that clause states (each task's ``explain_truth``: the label with the field edited against
the case's own label). Per case:

- ``top_hit``: the model's largest-effect clause states one of the truth's largest-effect
  fields (a tie in the truth counts every tied field);
- ``spearman``: the rank correlation (scipy) of model and truth effects over the clauses
  (undefined when either is constant over them);
- ``edit_ml``: the model's own change when the note is regenerated with the field edited
  the way the truth was (one batched pass): whether the model follows the edit at all,
  which tells a wrong attribution from a model that ignores the field.

A clause states a field when regenerating the note with that field edited, from the random
stream that wrote it, changes the clause's characters (difflib). A case whose note cannot
be regenerated exactly (a hand-edited note, another generator version) is counted apart
(``unmapped``) and left out of the shares.
"""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from oncoseg.data.dataset import (
    DatasetCase,
    DatasetInfo,
    list_cases,
    read_case,
    read_clinical_csv,
    read_info,
)
from oncoseg.data.phantom import case_rng
from oncoseg.data.phantom_cohort import site_code
from oncoseg.infer import Predictor, to_labels
from oncoseg.infer.explain import Explanation, explain, variant_probs
from oncoseg.tasks.brain_tumor import explain_truth as brain_truth
from oncoseg.tasks.breast_ctv import explain_truth as breast_truth
from oncoseg.text.clauses import Clause, split_clauses
from oncoseg.text.encoders import prepare_note

log = logging.getLogger(__name__)

TRUTH: dict[str, ModuleType] = {"breast_ctv": breast_truth, "brain_tumor": brain_truth}
_INDEX = re.compile(r"_(\d+)$")
NOTE_STYLES = ("prompt", "narrative", "raw")


def changed_clauses(note: str, other: str, clauses: Sequence[Clause]) -> set[int]:
    """Indices of the clauses of ``note`` whose characters differ in ``other``."""
    out: set[int] = set()
    ops = difflib.SequenceMatcher(None, note, other, autojunk=False).get_opcodes()
    for tag, i1, i2, _, _ in ops:
        if tag == "equal":
            continue
        for c in clauses:
            if (i1 < c.end and i2 > c.start) or (i1 == i2 and c.start <= i1 <= c.end):
                out.add(c.index)
    return out


def clause_fields(
    note: str,
    clauses: Sequence[Clause],
    row: dict[str, str],
    truth: ModuleType,
    regen: Callable[..., str],
) -> list[set[str]] | None:
    """The deciding fields each clause states, or ``None`` when the note cannot be
    regenerated exactly. ``regen(**changes)`` writes the raw note with ``changes``."""
    if prepare_note(regen()) != note:
        return None
    fields: list[set[str]] = [set() for _ in clauses]
    mapping = getattr(truth, "mapping_edits", truth.edits)
    for name, change in mapping(row).items():
        for i in changed_clauses(note, prepare_note(regen(**change)), clauses):
            fields[i].add(name)
    skip = getattr(truth, "distractor", None)
    return [
        set() if skip is not None and skip(c.text) else f
        for c, f in zip(clauses, fields, strict=True)
    ]


def _spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    if len(a) < 2 or len(set(a)) < 2 or len(set(b)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = float(spearmanr(a, b).statistic)
    return None if math.isnan(rho) else rho


def _edit_effects(
    predictor: Predictor, images: Any, regen: Callable[..., str], edits: dict[str, Any]
) -> dict[str, float]:
    """ml of the model's contour that changes when the note is regenerated with each edit."""
    names = list(edits)
    probs = variant_probs(predictor, images, [regen(), *(regen(**edits[n]) for n in names)])
    labels = [to_labels(p, predictor.threshold) for p in probs]
    ml = float(abs(np.linalg.det(images[0].affine[:3, :3]))) / 1000.0
    return {n: float((labels[i + 1] != labels[0]).sum()) * ml for i, n in enumerate(names)}


def _case_row(ex: Explanation, fields: list[set[str]], truth: dict[str, float]) -> dict[str, Any]:
    per_clause = [max((truth[f] for f in fs), default=0.0) for fs in fields]
    best = max(truth.values())
    top_fields = sorted(f for f, v in truth.items() if best > 0 and v >= best - 1e-9)
    stating = [i for i, fs in enumerate(fields) if fs & set(top_fields)]
    model = [e.changed_ml for e in ex.effects]
    return {
        "note": ex.note,
        "clauses": [
            {
                "text": e.text,
                "fields": sorted(fs),
                "truth_ml": t,
                "model_ml": e.changed_ml,
                "model_soft_ml": e.soft_ml,
            }
            for e, fs, t in zip(ex.effects, fields, per_clause, strict=True)
        ],
        "truth_fields_ml": truth,
        "truth_top_fields": top_fields,
        "model_top_clause": ex.top,
        "top_hit": ex.top is not None and ex.top in stating,
        "spearman": _spearman(model, per_clause),
        "spearman_soft": _spearman([e.soft_ml for e in ex.effects], per_clause),
        "seconds": ex.seconds,
    }


def _truth_effects(
    info: DatasetInfo, case: DatasetCase, row: dict[str, str], regions: np.ndarray | None
) -> dict[str, float]:
    """Field -> ml of the case's true target that changes when the field is edited."""
    truth_mod = TRUTH[info.task]
    ml = float(abs(np.linalg.det(case.images[0].affine[:3, :3]))) / 1000.0
    if info.task == "breast_ctv":
        assert regions is not None, f"{case.case_id}: breast_ctv needs its region map"
        return dict(truth_mod.truth_effects(row, regions, ml))
    assert case.label is not None
    site, size = info.site or "internal", int(info.extra.get("size", 64))
    label = np.asarray(case.label.array)
    return dict(truth_mod.truth_effects(row, label, ml, site=site, size=size))


def explain_check(
    predictor: Predictor,
    dataset: str | os.PathLike[str],
    *,
    split: str = "Ts",
    mode: str = "filler",
    cases: Sequence[str] | None = None,
    edits: bool = True,
    style: str | None = None,
) -> dict[str, Any]:
    """Per-case and summary agreement of the clause attribution with the rule table.

    ``style`` (``prompt`` | ``narrative`` | ``raw``; default the dataset's own): the notes
    to explain. Another style than the dataset's is written by the generator from the
    same clinical row and note stream, i.e. the note a cohort of that style would hold."""
    info = read_info(dataset)
    if info.task not in TRUTH:
        raise ValueError(f"{dataset}: the explain check needs a phantom of {sorted(TRUTH)}")
    truth_mod = TRUTH[info.task]
    rows = read_clinical_csv(dataset)
    own_style, seed = info.extra.get("note_style", "prompt"), int(info.extra.get("seed", 0))
    style = style or own_style
    if style not in NOTE_STYLES:
        raise ValueError(f"style: expected one of {NOTE_STYLES}, got {style!r}")
    site = info.site or "internal"
    per_case = []
    for case_id in cases if cases is not None else list_cases(dataset, split):
        case, row = read_case(dataset, case_id, split), rows[case_id]
        m = _INDEX.search(case_id)
        index = int(m.group(1)) if m else -1

        def regen(r: dict[str, str] = row, i: int = index, **changes: str) -> str:
            rng = case_rng(seed, site_code(site), i, 2)
            return str(truth_mod.regenerate(r, style, rng, **changes))

        regions = None
        if case.regions is not None and "regions" in info.extra:
            regions = (np.asarray(case.regions.array), info.extra["regions"])
        note = case.note if style == own_style else regen()
        ex = explain(predictor, case.images, note, mode=mode, regions=regions)
        fields = clause_fields(ex.note, split_clauses(ex.note), row, truth_mod, regen)
        if fields is None or not ex.effects:
            per_case.append({"case": case_id, "unmapped": True})
            continue
        t = _truth_effects(info, case, row, None if regions is None else regions[0])
        result = {"case": case_id, **_case_row(ex, fields, t)}
        if edits:
            result["edit_ml"] = _edit_effects(predictor, case.images, regen, truth_mod.edits(row))
        per_case.append(result)
    return {
        "task": info.task,
        "style": style,
        "mode": mode,
        **summarise(per_case),
        "cases": per_case,
    }


def summarise(per_case: list[dict[str, Any]]) -> dict[str, Any]:
    """Shares and mean rank correlations over the mapped cases."""
    done = [r for r in per_case if not r.get("unmapped")]
    rhos = [r["spearman"] for r in done if r["spearman"] is not None]
    soft = [r["spearman_soft"] for r in done if r["spearman_soft"] is not None]
    secs = [r["seconds"] for r in done]
    return {
        "n": len(done),
        "unmapped": len(per_case) - len(done),
        "top_hit": sum(r["top_hit"] for r in done) / max(1, len(done)),
        "spearman_mean": float(np.mean(rhos)) if rhos else None,
        "spearman_n": len(rhos),
        "spearman_soft_mean": float(np.mean(soft)) if soft else None,
        "seconds_median": float(np.median(secs)) if secs else None,
        "disagreements": [r["case"] for r in done if not r["top_hit"]],
    }


def markdown(results: Sequence[dict[str, Any]], model: str) -> str:
    """A table of the checks in ``results`` (one per dataset) and one disagreeing case."""
    lines = [
        f"# Clause attribution against the rule table ({model})",
        "",
        "| task | notes | mode | cases | top clause = truth's top field | Spearman (mean, n) "
        "| Spearman on soft ml | unmapped | s/case |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rho = "-" if r["spearman_mean"] is None else f"{r['spearman_mean']:.2f}"
        soft = "-" if r["spearman_soft_mean"] is None else f"{r['spearman_soft_mean']:.2f}"
        lines.append(
            f"| {r['task']} | {r['style']} | {r['mode']} | {r['n']} | {r['top_hit']:.0%} | "
            f"{rho} ({r['spearman_n']}) | {soft} | {r['unmapped']} | "
            f"{r['seconds_median'] or 0:.2f} |"
        )
    for r in results:
        bad = [c for c in r["cases"] if c.get("case") in r["disagreements"]]
        if bad:
            lines += ["", f"## A disagreement: {r['task']}, {r['style']} notes, {bad[0]['case']}"]
            lines += ["", f"Note: `{bad[0]['note']}`", ""]
            lines += ["| clause | fields | truth ml | model ml |", "|---|---|---|---|"]
            for c in bad[0]["clauses"]:
                lines.append(
                    f"| {c['text']} | {', '.join(c['fields']) or '-'} | {c['truth_ml']:.1f} | "
                    f"{c['model_ml']:.1f} |"
                )
            if "edit_ml" in bad[0]:
                edits = ", ".join(f"{k} {v:.1f} ml" for k, v in bad[0]["edit_ml"].items())
                lines += ["", f"The model's change under each field edit: {edits}."]
    return "\n".join(lines) + "\n"


def write_check(results: list[dict[str, Any]], out: Path, model: str) -> Path:
    """``explain_check.json`` (with the command, commit, versions, device and each dataset's
    hash) and ``explain_check.md`` under ``out``."""
    from oncoseg.data.dataset import dataset_hash
    from oncoseg.io.atomic import write_json, write_text
    from oncoseg.io.provenance import compute_device, provenance

    out.mkdir(parents=True, exist_ok=True)
    data = {r["dataset"]: dataset_hash(r["dataset"]) for r in results if "dataset" in r}
    record = provenance(device=compute_device(), data_hash=data)
    write_json(out / "explain_check.json", {"model": model, **record, "checks": results})
    write_text(out / "explain_check.md", markdown(results, model))
    return out / "explain_check.json"
