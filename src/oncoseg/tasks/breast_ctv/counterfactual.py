"""Counterfactual notes for breast_ctv: the same image, the note's N status or side flipped.

Notes are regenerated from the case's clinical.csv row with one field changed (same
generator and seed, so the wording stays as close as possible). Whether the prediction
follows is read from the compartment map: the share of the ipsilateral nodal compartments
(axilla, SCF, IMN) the prediction covers, and which side holds most predicted voxels.

A case *follows* the N flip when the ipsilateral nodal compartments are more than half
covered with an N2 note and less than half with an N0 note; it follows the side flip
(unilateral cases) when most sided predicted voxels lie left with a "left" note and
right with a "right" note. A vision-only model predicts the same mask for every note, so
by construction it can follow neither.

Side flips are counted apart by whether the flipped note fits the image. After
breast-conserving surgery both breasts are on the CT and only the note names the side
(*image-consistent*): the contour should follow. After a mastectomy the CT shows the
operated side, so a note naming the other side contradicts the image (*contradictory*):
following it is not the goal, and the predict-time side check (:mod:`oncoseg.infer.side_check`)
should warn instead. Both shares are reported, and how often the check warned.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import list_cases, read_case, read_clinical_csv
from oncoseg.eval.figures import render_png
from oncoseg.eval.metrics import dice
from oncoseg.infer import Predictor, to_labels
from oncoseg.infer.explain import variant_probs
from oncoseg.infer.side_check import check_side
from oncoseg.io.image import Image
from oncoseg.tasks.breast_ctv.clinical import REGIONS
from oncoseg.tasks.breast_ctv.report import counterfactual_png
from oncoseg.tasks.breast_ctv.variants import note_variant

NODAL = ("axilla", "scf", "imn")
SURGERIES = ("BCS", "mastectomy")


def nodal_coverage(pred: np.ndarray, regions: np.ndarray, side: str) -> float:
    """Share of the ``side`` nodal compartments inside the predicted mask."""
    comp = np.isin(regions, [REGIONS[f"{r}_{side}"] for r in NODAL])
    return float((pred & comp).sum() / max(1, comp.sum()))


def left_share(pred: np.ndarray, regions: np.ndarray) -> float:
    """Share of predicted voxels that lie in left-sided compartments (of all sided ones)."""
    left = np.isin(regions, [v for k, v in REGIONS.items() if k.endswith("_left")])
    right = np.isin(regions, [v for k, v in REGIONS.items() if k.endswith("_right")])
    n_left, n_right = float((pred & left).sum()), float((pred & right).sum())
    return n_left / max(1.0, n_left + n_right)


def figure_cases(rows: dict[str, dict[str, str]], cases: Sequence[str]) -> dict[str, str]:
    """The cases the figures show, picked from the clinical fields alone (never from a
    prediction): ``conserving``, the first unilateral breast-conserving case (both breasts
    are on the CT, so only the note can name the side; the first case if there is none),
    and ``mastectomy``, the first unilateral mastectomy, where the CT shows the operated
    side and a note naming the other one contradicts it."""
    unilateral = [c for c in cases if rows[c]["laterality"] in ("left", "right")]
    picks = {
        "conserving": next((c for c in unilateral if rows[c]["surgery"] == "BCS"), None),
        "mastectomy": next((c for c in unilateral if rows[c]["surgery"] == "mastectomy"), None),
    }
    if picks["conserving"] is None and cases:
        picks["conserving"] = cases[0]
    return {k: v for k, v in picks.items() if v is not None}


def breast_counterfactual(
    predictor: Predictor,
    ds: str | os.PathLike[str],
    style: str,
    seed: int,
    fig_dir: Path | None = None,
    name: str = "model",
    split: str = "Ts",
    cases: Sequence[str] | None = None,
    thresholds: Sequence[float] = (),
) -> dict[str, Any]:
    """Flip N0<->N2, left<->right and the surgery in each note of ``split`` (or of ``cases``
    in it, e.g. a fold's validation cases, which can choose between models without the test
    set); does the contour follow?

    ``thresholds``: also score the same predictions labelled at each foreground threshold
    (``sweep``: following shares and Dice with the true note per threshold), to choose
    ``infer.threshold`` on validation cases.
    """
    rows = read_clinical_csv(ds)
    cases = list(cases) if cases is not None else list_cases(ds, split)
    figures = figure_cases(rows, cases)
    per_case = []
    sweep: dict[float, list[dict[str, Any]]] = {float(t): [] for t in thresholds}
    for case_id in cases:
        row, case = rows[case_id], read_case(ds, case_id, split)
        if case.regions is None:
            raise ValueError(f"{ds}: case {case_id} has no region map (regions{split})")
        reg = np.asarray(case.regions.array)
        side = "left" if row["laterality"] in ("left", "both") else "right"

        def mask(r: dict[str, str] = row, imgs: Any = case.images, /, **changes: str) -> Any:
            p, _ = predictor.predict_proba(imgs, note_variant(r, style, seed, **changes))
            return to_labels(p, predictor.threshold) > 0

        # every note of the case in one batched pass (the image is the same)
        notes = _edited_notes(row, style, seed) | ({"true": case.note} if sweep else {})
        probs = variant_probs(predictor, case.images, list(notes.values()))
        p = dict(zip(notes, probs, strict=True))
        p_nodal = {n: p[n] for n in ("N0", "N2")}
        p_side = {s: p[s] for s in ("left", "right")} if "left" in p else None
        result: dict[str, Any] = {"case": case_id}
        masks = _follows(result, p_nodal, p_side, reg, side, predictor.threshold)
        sides = ("left", "right") if row["laterality"] == "both" else (side,)
        _surgery_follows(result, {s: p[s] for s in SURGERIES}, reg, sides, predictor.threshold)
        if p_side is not None:
            result["image_consistent"] = row["surgery"] == "BCS"
            _side_warnings(result, masks, case.images[0], side)
        per_case.append(result)
        if sweep:
            _sweep_rows(sweep, result, case, p["true"], (p_nodal, p_side), reg, side)
        if fig_dir is not None:
            shown = [kind for kind, c in figures.items() if c == case_id]
            _case_figures(fig_dir, name, shown, case, row, masks, mask)
    out = {**_summary(per_case), "cases": per_case}
    if sweep:
        out["sweep"] = {f"{t:g}": _sweep_summary(r) for t, r in sweep.items()}
    return out


def _edited_notes(row: dict[str, str], style: str, seed: int) -> dict[str, str]:
    """The case's note with each edit: N0, N2, left and right (unilateral cases), each
    surgery; keyed by the edited value."""
    notes = {n: note_variant(row, style, seed, n_stage=n) for n in ("N0", "N2")}
    if row["laterality"] != "both":
        notes |= {s: note_variant(row, style, seed, laterality=s) for s in ("left", "right")}
    return notes | {s: note_variant(row, style, seed, surgery=s) for s in SURGERIES}


def _case_figures(
    fig_dir: Path,
    name: str,
    kinds: list[str],
    case: Any,
    row: dict[str, str],
    masks: dict[str, np.ndarray],
    mask: Any,
) -> None:
    """The counterfactual figures (``conserving``, ``mastectomy``) this case is picked for."""
    for kind in kinds:
        _figure(
            counterfactual_png(fig_dir, name, kind),
            case.images[0],
            row,
            {n: masks[n] for n in ("N0", "N2")},
            mask,
            f"{name}, {case.case_id}",
        )


def _side_warnings(
    result: dict[str, Any], masks: dict[str, np.ndarray], image: Image, side: str
) -> None:
    """Whether the predict-time side check warns with the case's own note and the flipped one."""
    ct = np.asarray(image.array)
    warned = {
        s: check_side(f"{s} side", masks[s], image.affine, ct).warning is not None
        for s in ("left", "right")
    }
    result["side_warning_own_note"] = warned[side]
    result["side_warning_flipped_note"] = warned["right" if side == "left" else "left"]


def _sweep_rows(
    sweep: dict[float, list[dict[str, Any]]],
    result: dict[str, Any],
    case: Any,
    p_true: np.ndarray,
    p: tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None],
    reg: np.ndarray,
    side: str,
) -> None:
    """The same predictions labelled at each threshold of ``sweep``: following and Dice."""
    truth = np.asarray(case.label.array) > 0 if case.label is not None else None
    for t, rows_t in sweep.items():
        r: dict[str, Any] = {"case": result["case"]}
        _follows(r, p[0], p[1], reg, side, t)
        if "image_consistent" in result:
            r["image_consistent"] = result["image_consistent"]
        if truth is not None:
            r["dice"] = dice(to_labels(p_true, t) > 0, truth)
        rows_t.append(r)


def _follows(
    result: dict[str, Any],
    p_nodal: dict[str, np.ndarray],
    p_side: dict[str, np.ndarray] | None,
    reg: np.ndarray,
    side: str,
    threshold: float | None,
) -> dict[str, np.ndarray]:
    """Add whether the masks at ``threshold`` follow the N flip (and the side flip) to
    ``result``; returns the masks by note (N0, N2, left, right)."""
    masks = {n: to_labels(p, threshold) > 0 for n, p in p_nodal.items()}
    cover = {n: nodal_coverage(masks[n], reg, side) for n in p_nodal}
    result.update(
        nodal_cover_n0=cover["N0"],
        nodal_cover_n2=cover["N2"],
        nodal_follows=bool(cover["N2"] > 0.5 > cover["N0"]),
    )
    if p_side is not None:
        masks.update({s: to_labels(p, threshold) > 0 for s, p in p_side.items()})
        share = {s: left_share(masks[s], reg) for s in p_side}
        result.update(
            left_share_left_note=share["left"],
            left_share_right_note=share["right"],
            side_follows=bool(share["left"] > 0.5 > share["right"]),
        )
    return masks


def _surgery_follows(
    result: dict[str, Any],
    p: dict[str, np.ndarray],
    reg: np.ndarray,
    sides: tuple[str, ...],
    threshold: float | None,
) -> None:
    """Add whether the contour follows the surgery edit (the patient's own N stage in both
    notes): the chest wall is more than half covered under the mastectomy note and less than
    half under the breast-conserving one, and the breast the other way round where the
    region map has one (after a mastectomy it has none: the rule table's CTV for a
    breast-conserving note then holds no breast to draw)."""
    breast = np.isin(reg, [REGIONS[f"breast_{s}"] for s in sides])
    wall = np.isin(reg, [REGIONS[f"chestwall_{s}"] for s in sides])
    cover = {}
    for s, prob in p.items():
        m = to_labels(prob, threshold) > 0
        cover[s] = (
            float((m & breast).sum() / max(1, breast.sum())),
            float((m & wall).sum() / max(1, wall.sum())),
        )
    result.update(
        breast_cover_bcs=cover["BCS"][0],
        breast_cover_mastectomy=cover["mastectomy"][0],
        wall_cover_bcs=cover["BCS"][1],
        wall_cover_mastectomy=cover["mastectomy"][1],
        surgery_follows=bool(
            (not breast.any() or cover["BCS"][0] > 0.5 > cover["mastectomy"][0])
            and cover["mastectomy"][1] > 0.5 > cover["BCS"][1]
        ),
    )


def _sweep_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    fits = [r for r in rows if r.get("image_consistent")]
    dices = [r["dice"] for r in rows if "dice" in r]
    return {
        "nodal_follows_note": _share(rows, "nodal_follows"),
        **_mean_cover(rows),
        "side_follows_consistent": _share(fits, "side_follows") if fits else None,
        "dice": float(np.mean(dices)) if dices else None,
    }


def _share(rows: list[dict[str, Any]], key: str) -> float:
    return sum(bool(r[key]) for r in rows) / max(1, len(rows))


def _mean_cover(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Mean ipsilateral nodal coverage under the N2 and the N0 note: how far the cases lie
    from the 0.5 line that decides whether they follow."""
    return {
        f"nodal_cover_{n}_mean": float(np.mean([r[f"nodal_cover_{n}"] for r in rows]))
        if rows
        else None
        for n in ("n2", "n0")
    }


def _summary(per_case: list[dict[str, Any]]) -> dict[str, Any]:
    """Shares of cases whose contour follows the edited notes, side flips split by whether
    the flipped note fits the image; how often the side check warned."""
    sided = [r for r in per_case if "side_follows" in r]
    fits = [r for r in sided if r["image_consistent"]]
    contra = [r for r in sided if not r["image_consistent"]]
    out: dict[str, Any] = {
        "n": len(per_case),
        "nodal_follows_note": _share(per_case, "nodal_follows"),
        **_mean_cover(per_case),
        "n_unilateral": len(sided),
        "side_follows_note": _share(sided, "side_follows"),
        "n_image_consistent": len(fits),
        "side_follows_consistent": _share(fits, "side_follows"),
        "n_contradictory": len(contra),
        "side_follows_contradictory": _share(contra, "side_follows"),
        "side_warning_own_note": _share(sided, "side_warning_own_note"),
        "side_warning_contradictory": _share(contra, "side_warning_flipped_note"),
    }
    measured = [r for r in per_case if "surgery_follows" in r]  # none in older results
    out["surgery_follows_note"] = _share(measured, "surgery_follows") if measured else None
    out["shares"] = {
        f"nodal regions follow N0/N2 (n={out['n']})": out["nodal_follows_note"],
        f"side follows left/right, image-consistent (breast-conserving, n={len(fits)})": out[
            "side_follows_consistent"
        ],
        f"side follows a note that contradicts the CT (mastectomy, n={len(contra)})": out[
            "side_follows_contradictory"
        ],
        f"side check warns on a contradicting note (n={len(contra)})": out[
            "side_warning_contradictory"
        ],
        f"side check warns on the true note (false alarms, n={len(sided)})": out[
            "side_warning_own_note"
        ],
    }
    if measured:
        label = f"breast or chest wall follows the surgery (n={len(measured)})"
        out["shares"][label] = out["surgery_follows_note"]
    return out


def _figure(
    path: Path,
    image: Image,
    row: dict[str, str],
    preds: dict[str, np.ndarray],
    mask: Any,
    name: str,
) -> None:
    side = row["laterality"]
    other = "right" if side == "left" else "left"
    flipped = mask(n_stage="N2", laterality=other)
    masks = [Image(m.astype(np.uint8), image.affine) for m in (preds["N0"], preds["N2"], flipped)]
    render_png(
        image,
        masks,
        f"Same CT, three notes:\nred: N0, {side}\ngreen: N2, {side}\nblue: N2, {other}",
        path,
        title=f"Counterfactual notes ({name})",
        mask_names=(f"N0 {side}", f"N2 {side}", f"N2 {other}"),
    )
