"""Notes as clinicians write them: does the contour follow held-out phrasings?

A held-out file (``configs/heldout/breast_notes_heldout*.json``, written by someone who had
not seen the method) holds *families*: one patient's note written four times, identical but
for the side (left/right) and the nodal status (N0/N2). Each breast-conserving test case is
predicted with the four notes of one family (families assigned in turn), and scored with the
counterfactual rules (:mod:`oncoseg.tasks.breast_ctv.counterfactual`):

* an N edit is followed on a side when the ipsilateral nodal compartments are more than half
  covered with the N2 note and less than half with the N0 note (two edits per case);
* a side edit is followed at an N stage when most sided predicted voxels lie left with the
  left note and right with the right note (two edits per case);
* a case follows when all four of its edits do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import list_cases, read_case, read_clinical_csv
from oncoseg.infer import Predictor, to_labels
from oncoseg.infer.explain import variant_probs
from oncoseg.tasks.breast_ctv.counterfactual import left_share, nodal_coverage

KEYS = ("left_N0", "left_N2", "right_N0", "right_N2")


def load_families(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The families of a held-out file, checked: each has a style and the four notes."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable held-out notes file ({exc})") from exc
    families = doc.get("families") if isinstance(doc, dict) else None
    if not families:
        raise ValueError(f"{path}: expected a mapping with a non-empty 'families' list")
    for f in families:
        missing = [k for k in KEYS if not isinstance(f.get("notes", {}).get(k), str)]
        if missing:
            raise ValueError(f"{path}: family {f.get('id')!r} lacks notes {missing}")
    return families


def heldout_phrasings(
    predictor: Predictor,
    ds: str | os.PathLike[str],
    path: str | os.PathLike[str],
    split: str = "Ts",
    cases: Sequence[str] | None = None,
    every_family: bool = False,
) -> dict[str, Any]:
    """Follow-rates of the held-out phrasings on the unilateral breast-conserving cases.

    Each case takes the next family in turn; with ``every_family`` the cases are reused in
    turn until every family has been predicted once (one row per family, not per case)."""
    families = load_families(path)
    rows = read_clinical_csv(ds)
    cases = [
        c
        for c in (cases if cases is not None else list_cases(ds, split))
        if rows[c]["surgery"] == "BCS" and rows[c]["laterality"] in ("left", "right")
    ]
    if not cases:
        raise ValueError(f"{ds}: no unilateral breast-conserving cases in split {split}")
    n = max(len(cases), len(families)) if every_family else len(cases)
    per_case = []
    for i in range(n):
        case_id, family = cases[i % len(cases)], families[i % len(families)]
        case = read_case(ds, case_id, split)
        assert case.regions is not None  # breast_ctv phantoms carry their region map
        reg = np.asarray(case.regions.array)
        probs = variant_probs(predictor, case.images, [family["notes"][k] for k in KEYS])
        masks = {k: to_labels(p, predictor.threshold) > 0 for k, p in zip(KEYS, probs, strict=True)}
        per_case.append(_score(case_id, family, masks, reg))
    return {**_summary(per_case, str(path)), "reader": reader_accuracy(path)}


def _score(
    case_id: str, family: dict[str, Any], masks: dict[str, np.ndarray], reg: np.ndarray
) -> dict[str, Any]:
    cover = {k: nodal_coverage(m, reg, k.split("_")[0]) for k, m in masks.items()}
    share = {k: left_share(m, reg) for k, m in masks.items()}
    nodal = {s: cover[f"{s}_N2"] > 0.5 > cover[f"{s}_N0"] for s in ("left", "right")}
    side = {n: share[f"left_{n}"] > 0.5 > share[f"right_{n}"] for n in ("N0", "N2")}
    return {
        "case": case_id,
        "family": family.get("id"),
        "style": family.get("style"),
        "nodal_cover": cover,
        "left_share": share,
        "nodal_follows": nodal,
        "side_follows": side,
        "follows_all": all(nodal.values()) and all(side.values()),
    }


def _summary(per_case: list[dict[str, Any]], path: str) -> dict[str, Any]:
    n = max(1, len(per_case))
    nodal = [v for r in per_case for v in r["nodal_follows"].values()]
    side = [v for r in per_case for v in r["side_follows"].values()]
    n2 = [r["nodal_cover"][k] for r in per_case for k in ("left_N2", "right_N2")]
    n0 = [r["nodal_cover"][k] for r in per_case for k in ("left_N0", "right_N0")]
    styles = sorted({str(r["style"]) for r in per_case})
    return {
        "file": path,
        "n": len(per_case),
        "cases_following_all": sum(r["follows_all"] for r in per_case) / n,
        "nodal_edits_followed": sum(nodal) / max(1, len(nodal)),
        "side_edits_followed": sum(side) / max(1, len(side)),
        "nodal_cover_n2_mean": float(np.mean(n2)) if n2 else None,
        "nodal_cover_n0_mean": float(np.mean(n0)) if n0 else None,
        "by_style": {
            s: sum(r["follows_all"] for r in per_case if r["style"] == s)
            / max(1, sum(r["style"] == s for r in per_case))
            for s in styles
        },
        "cases": per_case,
    }


def reader_accuracy(path: str | os.PathLike[str]) -> dict[str, Any]:
    """How many notes of a held-out file the note reader reads right: side and nodal status
    (node-positive or not), and both plus the surgery (breast-conserving), overall and by
    style; the notes read wrong listed by family and key."""
    from oncoseg.tasks.breast_ctv.reader import read_breast_note

    counts: dict[str, list[int]] = {}
    wrong = []
    for family in load_families(path):
        for key in KEYS:
            side, nodes = key.split("_")
            f = read_breast_note(family["notes"][key]).fields
            stage = "N2" if f.get("n_stage") in ("N1", "N2", "N3") else f.get("n_stage")
            both = (f.get("side"), stage) == (side, nodes)
            right = [1, int(both), int(both and f.get("surgery") == "BCS")]
            for name in ("all", str(family.get("style"))):
                counts[name] = [
                    a + b for a, b in zip(counts.get(name, [0, 0, 0]), right, strict=True)
                ]
            if not right[2]:
                wrong.append(f"{family.get('id')}:{key}")
    return {
        style: {"notes": n, "side_and_nodes": sn, "all_three": a}
        for style, (n, sn, a) in counts.items()
    } | {"wrong": wrong}
