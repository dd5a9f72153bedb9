"""Does a model work in millimetres? The same test CTs on a scanner's in-plane grid.

``oncoseg bench spacing -m RUN -d DATASET --inplane 512 -o OUT`` predicts each test case
twice: on its own grid with its own note, and after resampling the CT (linear) and its label
and region map (nearest neighbour) with SimpleITK to ``inplane`` x ``inplane`` voxels in-plane,
keeping the physical extent (spacing = extent / ``inplane``) and the slices. Dice is taken on
each grid against that grid's label. For breast_ctv, the counterfactual notes of
:mod:`oncoseg.tasks.breast_ctv.counterfactual` are scored on both grids too (N0<->N2 on every
case, left<->right on the unilateral breast-conserving ones), read from the region map of the
grid the mask lies on. A model that works in millimetres gives the same Dice (within
:data:`DICE_TOLERANCE`) and the same shares on both. Writes ``spacing.json`` and
``spacing.md`` (command, commit, device), one case in memory at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import DatasetCase, list_cases, read_case, read_clinical_csv, read_info
from oncoseg.eval.metrics import dice
from oncoseg.infer import Predictor
from oncoseg.io.atomic import write_json, write_text
from oncoseg.io.image import Image, same_geometry
from oncoseg.io.provenance import compute_device, provenance
from oncoseg.tasks.breast_ctv.counterfactual import left_share, nodal_coverage
from oncoseg.tasks.breast_ctv.variants import note_variant

# the acceptance line of issue 28: resampled-grid Dice within this of the native-grid Dice
DICE_TOLERANCE = 0.02
GRIDS = ("native", "resampled")
_LPS = np.diag([-1.0, -1.0, 1.0])  # RAS <-> LPS (ITK's world axes)


def slice_axis(affine: np.ndarray) -> int:
    """The array axis that runs most nearly head-foot (RAS z): the one kept as slices."""
    cols = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    return int(np.argmax(np.abs(cols[2])))


def inplane_grid(image: Image, inplane: int) -> tuple[tuple[int, ...], np.ndarray]:
    """Shape and affine of ``image``'s extent at ``inplane`` x ``inplane`` voxels in-plane,
    the slice axis unchanged: voxel edges stay where they were, centres move with the size."""
    axis = slice_axis(image.affine)
    shape = tuple(n if i == axis else inplane for i, n in enumerate(image.shape))
    f = np.array([n / m for n, m in zip(image.shape, shape, strict=True)])
    affine = image.affine.copy()
    affine[:3, :3] = image.affine[:3, :3] * f
    affine[:3, 3] = image.affine[:3, 3] + image.affine[:3, :3] @ (0.5 * (f - 1.0))
    return shape, affine


def _itk_geometry(affine: np.ndarray) -> tuple[list[float], list[float], list[float]]:
    """SimpleITK's spacing, origin and direction (LPS) of a RAS voxel-to-world affine."""
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    direction = _LPS @ (affine[:3, :3] / spacing)
    origin = _LPS @ affine[:3, 3]
    return [float(v) for v in spacing], [float(v) for v in origin], direction.ravel().tolist()


def resample(image: Image, shape: Sequence[int], affine: np.ndarray, nearest: bool) -> Image:
    """``image`` on the grid (``shape``, ``affine``): nearest neighbour for label maps (dtype
    kept), linear for intensities (float32); points past the outer voxel centres take the
    nearest voxel's value, so the border is not padded."""
    import SimpleITK as sitk

    arr = np.asarray(image.array)
    src = sitk.GetImageFromArray(
        np.ascontiguousarray((arr if nearest else arr.astype(np.float32)).transpose(2, 1, 0))
    )
    spacing, origin, direction = _itk_geometry(image.affine)
    src.SetSpacing(spacing)
    src.SetOrigin(origin)
    src.SetDirection(direction)
    spacing, origin, direction = _itk_geometry(affine)
    f = sitk.ResampleImageFilter()
    f.SetSize([int(n) for n in shape])
    f.SetOutputSpacing(spacing)
    f.SetOutputOrigin(origin)
    f.SetOutputDirection(direction)
    f.SetInterpolator(sitk.sitkNearestNeighbor if nearest else sitk.sitkLinear)
    f.SetUseNearestNeighborExtrapolator(True)
    out = sitk.GetArrayFromImage(f.Execute(src)).transpose(2, 1, 0)
    return Image(np.ascontiguousarray(out), affine.copy())


def resample_case(case: DatasetCase, inplane: int) -> DatasetCase:
    """``case`` with its channels, label and region map on the ``inplane`` grid."""
    shape, affine = inplane_grid(case.images[0], inplane)

    def labels(img: Image | None) -> Image | None:
        return None if img is None else resample(img, shape, affine, nearest=True)

    return DatasetCase(
        case_id=case.case_id,
        images=[resample(img, shape, affine, nearest=False) for img in case.images],
        label=labels(case.label),
        note=case.note,
        regions=labels(case.regions),
    )


@dataclass(frozen=True)
class Edits:
    """How the counterfactual notes are written: the dataset's note style and seed."""

    style: str
    seed: int


def score_grid(
    predictor: Predictor, case: DatasetCase, row: dict[str, str] | None, edits: Edits
) -> dict[str, Any]:
    """Dice with the case's own note on its grid and, given a clinical row and a region map,
    the counterfactual coverages and shares read on the same grid."""
    masks: dict[str, np.ndarray] = {}

    def mask(note: str) -> np.ndarray:
        key = note if predictor.uses_text else ""  # a vision-only model ignores the note
        if key not in masks:
            pred = predictor.predict(case.images, note)
            if not same_geometry(pred, case.images[0]):
                raise RuntimeError(f"{case.case_id}: the mask is not on the input's grid")
            masks[key] = np.asarray(pred.array) > 0
        return masks[key]

    ref = case.images[0]
    pred = mask(case.note)
    out: dict[str, Any] = {
        "shape": list(ref.shape),
        "spacing_mm": [round(s, 4) for s in ref.spacing],
        "mask_shape": list(pred.shape),
        "dice": dice(pred, np.asarray(case.label.array) > 0) if case.label is not None else None,
    }
    if row is not None and case.regions is not None:
        out.update(_counterfactual(mask, np.asarray(case.regions.array), row, edits))
    return out


def _counterfactual(
    mask: Callable[[str], np.ndarray], reg: np.ndarray, row: dict[str, str], edits: Edits
) -> dict[str, Any]:
    """N0<->N2 coverage of the ipsilateral nodes; left<->right share on a unilateral
    breast-conserving case; followed by the rule of breast_counterfactual (past 0.5)."""
    side = "left" if row["laterality"] in ("left", "both") else "right"
    cover = {
        n: nodal_coverage(mask(note_variant(row, edits.style, edits.seed, n_stage=n)), reg, side)
        for n in ("N0", "N2")
    }
    out: dict[str, Any] = {
        "nodal_cover_n0": cover["N0"],
        "nodal_cover_n2": cover["N2"],
        "nodal_follows": bool(cover["N2"] > 0.5 > cover["N0"]),
    }
    if row["laterality"] in ("left", "right") and row["surgery"] == "BCS":
        share = {
            s: left_share(mask(note_variant(row, edits.style, edits.seed, laterality=s)), reg)
            for s in ("left", "right")
        }
        out.update(
            left_share_left_note=share["left"],
            left_share_right_note=share["right"],
            side_follows=bool(share["left"] > 0.5 > share["right"]),
        )
    return out


def check_case(
    predictor: Predictor,
    case: DatasetCase,
    row: dict[str, str] | None,
    edits: Edits,
    inplane: int,
) -> dict[str, Any]:
    """One case scored on its own grid and on the ``inplane`` grid."""
    native = score_grid(predictor, case, row, edits)
    resampled = score_grid(predictor, resample_case(case, inplane), row, edits)
    out: dict[str, Any] = {"case": case.case_id, "native": native, "resampled": resampled}
    if native["dice"] is not None:
        out["dice_diff"] = resampled["dice"] - native["dice"]
    return out


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _grid_summary(cases: list[dict[str, Any]], grid: str) -> dict[str, Any]:
    rows = [c[grid] for c in cases]
    nodal = [r for r in rows if "nodal_follows" in r]
    sided = [r for r in rows if "side_follows" in r]
    return {
        "dice_mean": _mean([r["dice"] for r in rows if r["dice"] is not None]),
        "nodal_follows_note": _mean([float(r["nodal_follows"]) for r in nodal]),
        "nodal_cover_n2_mean": _mean([r["nodal_cover_n2"] for r in nodal]),
        "nodal_cover_n0_mean": _mean([r["nodal_cover_n0"] for r in nodal]),
        "n_nodal": len(nodal),
        "side_follows_consistent": _mean([float(r["side_follows"]) for r in sided]),
        "n_image_consistent": len(sided),
    }


def summarise(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean Dice per grid and their difference; counterfactual shares per grid and the cases
    whose outcome changed with the grid."""
    diffs = [c["dice_diff"] for c in cases if "dice_diff" in c]
    grids = {g: _grid_summary(cases, g) for g in GRIDS}
    changed = {
        key: sum(c["native"][key] != c["resampled"][key] for c in cases if key in c["native"])
        for key in ("nodal_follows", "side_follows")
    }
    mean_diff = _mean(diffs)
    return {
        "n": len(cases),
        **grids,
        "dice_diff_mean": mean_diff,
        "dice_diff_max_abs": float(np.max(np.abs(diffs))) if diffs else None,
        "dice_within_tolerance": None if mean_diff is None else abs(mean_diff) <= DICE_TOLERANCE,
        "nodal_follows_changed": changed["nodal_follows"],
        "side_follows_changed": changed["side_follows"],
        "shares_unchanged": all(
            grids["native"][k] == grids["resampled"][k]
            for k in ("nodal_follows_note", "side_follows_consistent")
        ),
    }


def _select(ds: Path, split: str, cases: Sequence[str], limit: int | None) -> list[str]:
    ids = list_cases(ds, split)
    if not ids:
        raise ValueError(f"{ds}: no cases in labels{split}/ or images{split}/")
    unknown = [c for c in cases if c not in ids]
    if unknown:
        raise ValueError(f"{ds}: no case {', '.join(unknown)} in split {split}")
    chosen = list(cases) or ids
    return chosen[:limit] if limit else chosen


def run_spacing_check(
    run: str | os.PathLike[str],
    dataset: str | os.PathLike[str],
    out: Path,
    *,
    split: str = "Ts",
    inplane: int = 512,
    cases: Sequence[str] = (),
    limit: int | None = None,
    device: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Score ``run`` on ``dataset``'s ``split`` at the native and the ``inplane`` grid;
    write ``out/spacing.json`` and ``out/spacing.md``; return what the JSON holds."""
    if inplane < 2:
        raise ValueError(f"--inplane must be at least 2 voxels, got {inplane}")
    ds = Path(dataset)
    info = read_info(ds)
    ids = _select(ds, split, cases, limit)
    predictor = Predictor.from_run(run, device=device)
    rows = read_clinical_csv(ds) if info.task == "breast_ctv" else {}
    edits = Edits(str(info.extra.get("note_style", "prompt")), int(info.extra.get("seed", 0)))
    per_case = []
    for case_id in ids:
        case = read_case(ds, case_id, split)
        per_case.append(check_case(predictor, case, rows.get(case_id), edits, inplane))
        del case  # one case's volumes in memory at a time
        if progress is not None:
            progress(case_id)
    result = {
        **provenance(run=str(run), dataset=str(ds), device=compute_device()),
        "settings": {
            "split": split,
            "inplane": inplane,
            "note_style": edits.style,
            "note_seed": edits.seed,
            "task": info.task,
            "uses_text": predictor.uses_text,
            "dice_tolerance": DICE_TOLERANCE,
        },
        "summary": summarise(per_case),
        "cases": per_case,
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "spacing.json", result)
    write_text(out / "spacing.md", report(result))
    return result


def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def report(result: dict[str, Any]) -> str:
    """``spacing.md``: the summary per grid, every case, and what produced it."""
    s, st = result["summary"], result["settings"]
    nat, res = s["native"], s["resampled"]
    first = result["cases"][0]
    lines = [
        "# The same test CTs at another in-plane grid",
        "",
        f"Run `{result['run']}` on `{result['dataset']}` ({st['split']}, {s['n']} cases), "
        f"native grid (first case {first['native']['shape']}, "
        f"{first['native']['spacing_mm']} mm) against {st['inplane']} x {st['inplane']} "
        f"in-plane (first case {first['resampled']['spacing_mm']} mm), slices unchanged.",
        "",
        "| | native | resampled | difference |",
        "|---|---|---|---|",
        f"| Dice (mean) | {_f(nat['dice_mean'])} | {_f(res['dice_mean'])} | "
        f"{_f(s['dice_diff_mean'], 4)} (max abs per case {_f(s['dice_diff_max_abs'], 4)}) |",
    ]
    for key, name, changed in (
        ("nodal_follows_note", f"nodal N0<->N2 followed (n={nat['n_nodal']})", "nodal"),
        ("side_follows_consistent", f"side followed, BCS (n={nat['n_image_consistent']})", "side"),
    ):
        lines.append(
            f"| {name} | {_f(nat[key], 2)} | {_f(res[key], 2)} | "
            f"{s[f'{changed}_follows_changed']} case(s) changed |"
        )
    for key, name in (("nodal_cover_n2_mean", "N2"), ("nodal_cover_n0_mean", "N0")):
        lines.append(f"| mean {name} nodal coverage | {_f(nat[key])} | {_f(res[key])} | |")
    lines += [
        "",
        f"Dice within {st['dice_tolerance']} of the native grid: "
        f"{_f(s['dice_within_tolerance'])}; counterfactual shares unchanged: "
        f"{_f(s['shares_unchanged'])}.",
        "",
        "| case | Dice native | Dice resampled | diff | nodal follows | side follows |",
        "|---|---|---|---|---|---|",
    ]
    for c in result["cases"]:
        n, r = c["native"], c["resampled"]
        lines.append(
            f"| {c['case']} | {_f(n['dice'])} | {_f(r['dice'])} | {_f(c.get('dice_diff'), 4)} | "
            f"{_f(n.get('nodal_follows'))} / {_f(r.get('nodal_follows'))} | "
            f"{_f(n.get('side_follows'))} / {_f(r.get('side_follows'))} |"
        )
    lines += [
        "",
        f"Command: `{result['command']}`  ",
        f"Commit: `{result['commit']}`  ",
        f"Device: {result['device']}",
        "",
    ]
    return "\n".join(lines)
