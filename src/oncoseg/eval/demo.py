"""``make demo``: the main job end to end on the embedded phantom cohorts.

1. Generate breast_ctv internal (train + test) and external (test) cohorts and a small
   brain_tumor cohort; validate them; draw case pictures.
2. Train a vision-only U-Net and the note-guided model (two_way fusion, SmolLM2 with
   prompt tuning) on the internal training cases (fold 0 of splits.json for validation).
3. Evaluate both on the internal and external test cases: Dice, IoU, HD95 (mm) with
   bootstrap 95% CIs and paired tests.
4. Counterfactual notes on the same images: N0 <-> N2 and left <-> right.
5. Write ``report.md``, ``results.json`` and figures, with command, commit and data hashes.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.check import check_dataset
from oncoseg.data.dataset import dataset_hash, list_cases, read_case, read_clinical_csv
from oncoseg.eval.counterfactual import left_share, nodal_coverage, note_variant
from oncoseg.eval.evaluate import compare_rows, evaluate_split, summarize_rows, write_rows_csv
from oncoseg.eval.figures import render_case_png, render_png
from oncoseg.eval.inference import Predictor
from oncoseg.io.atomic import write_json, write_text
from oncoseg.io.image import Image
from oncoseg.provenance import provenance
from oncoseg.synth import brain_tumor, breast_ctv
from oncoseg.synth.cohort import write_cohort
from oncoseg.train.config import load_config
from oncoseg.train.loop import train

log = logging.getLogger(__name__)

STYLE = "prompt"  # the seed's structured prompt; narrative notes: see docs/performance.md
COHORTS = (  # name, generator, training cases, test cases, site
    ("breast_internal", breast_ctv, 60, 20, "internal"),
    ("breast_external", breast_ctv, 0, 20, "external"),
    ("brain_internal", brain_tumor, 6, 4, "internal"),
)
MODELS = {  # name -> training overrides
    "vision": ["model.fusion=none"],
    "multimodal": [
        "model.fusion=two_way",
        "text.encoder=prompt-lm",
        "text.model=smollm2",
        "text.mode=multi-prompt",
        "text.position=suffix",
    ],
}
TRAIN = ["train.lr=1e-3", "train.batch_size=2", "data.fold=0"]


def run_demo(out: str | os.PathLike[str], size: int = 64, seed: int = 0, epochs: int = 20) -> Path:
    """Run the demo into ``out`` and return the report path."""
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    data, hashes, pictures = _cohorts(root, size, seed)
    timings: dict[str, float] = {"data": time.perf_counter() - t_start}
    predictors = {}
    for name, overrides in MODELS.items():
        t0 = time.perf_counter()
        cfg = load_config(
            None,
            [
                f"data.dataset={data['breast_internal']}",
                f"out={root / name}",
                f"train.epochs={epochs}",
                f"train.seed={seed}",
                *TRAIN,
                *overrides,
            ],
        )
        train(cfg)
        predictors[name] = Predictor.from_run(root / name)
        timings[f"train_{name}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = _evaluate(root, predictors, data)
    results["counterfactual"] = _counterfactual(root, predictors, data["breast_internal"], seed)
    timings["evaluate"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    meta = provenance(
        config={
            "size": size,
            "seed": seed,
            "epochs": epochs,
            "style": STYLE,
            "models": MODELS,
            "train": TRAIN,
        },
        data_hash=hashes,
        timings_s=timings,
    )
    write_json(root / "results.json", {**meta, **results})
    report = root / "report.md"
    write_text(report, _markdown(meta, results, pictures))
    return report


def _cohorts(root: Path, size: int, seed: int) -> tuple[dict[str, Path], dict[str, str], list]:
    data, hashes, pictures = {}, {}, []
    for name, gen, n_tr, n_ts, site in COHORTS:
        ds = write_cohort(
            root / "data" / name,
            gen.cohort_spec(),
            cases=n_tr,
            test_cases=n_ts,
            site=site,
            style=STYLE,
            size=size,
            seed=seed,
            overwrite=True,
        )
        report = check_dataset(ds)
        if not report.ok:
            raise RuntimeError(f"generated dataset {ds} failed its check: {report.problems[:3]}")
        data[name], hashes[name] = ds, dataset_hash(ds)
        case = list_cases(ds, "Ts")[0]
        png = render_case_png(ds, case, root / "figures" / f"{case}.png", split="Ts")
        pictures.append((case, png.relative_to(root)))
    return data, hashes, pictures


def _evaluate(
    root: Path,
    predictors: dict[str, Predictor],
    data: dict[str, Path],
) -> dict[str, Any]:
    models: dict[str, Any] = {m: {} for m in predictors}
    comparisons = []
    for site, ds in (("internal", data["breast_internal"]), ("external", data["breast_external"])):
        rows = {}
        for m, p in predictors.items():
            rows[m] = evaluate_split(p, ds, "Ts")
            write_rows_csv(rows[m], root / f"cases_{m}_{site}.csv")
            models[m][site] = summarize_rows(rows[m])["ctv"]
        for metric, res in compare_rows(rows["multimodal"], rows["vision"]).items():
            comparisons.append(
                {"a": "multimodal", "b": "vision", "site": site, "metric": metric, **res}
            )
    return {
        "experiment": "demo",
        "dataset": "breast_ctv",
        "models": models,
        "comparisons": comparisons,
    }


def _counterfactual(
    root: Path, predictors: dict[str, Predictor], ds: Path, seed: int
) -> dict[str, Any]:
    """Flip N0<->N2 and left<->right in each internal test note; does the contour follow?"""
    rows = read_clinical_csv(ds)
    out: dict[str, Any] = {}
    for m, p in predictors.items():
        nodal_ok, side_ok, n_side = 0, 0, 0
        cases = list_cases(ds, "Ts")
        for case_id in cases:
            row, case = rows[case_id], read_case(ds, case_id, "Ts")
            assert case.regions is not None
            reg = np.asarray(case.regions.array)
            side = "left" if row["laterality"] in ("left", "both") else "right"
            preds = {
                n: p.predict(case.images, note_variant(row, STYLE, seed, n_stage=n)).array > 0
                for n in ("N0", "N2")
            }
            nodal_ok += (
                nodal_coverage(preds["N2"], reg, side)
                > 0.5
                > nodal_coverage(preds["N0"], reg, side)
            )
            if row["laterality"] != "both":
                n_side += 1
                lr = {
                    s: left_share(
                        p.predict(case.images, note_variant(row, STYLE, seed, laterality=s)).array
                        > 0,
                        reg,
                    )
                    for s in ("left", "right")
                }
                side_ok += lr["left"] > 0.5 > lr["right"]
            if m == "multimodal" and case_id == cases[0]:
                _counterfactual_figure(root, case.images[0], row, preds, p, seed)
        out[m] = {
            "n": len(cases),
            "nodal_follows_note": nodal_ok / len(cases),
            "n_unilateral": n_side,
            "side_follows_note": side_ok / max(1, n_side),
        }
    return out


def _counterfactual_figure(
    root: Path,
    image: Image,
    row: dict[str, str],
    preds: dict[str, np.ndarray],
    p: Predictor,
    seed: int,
) -> None:
    other = "right" if row["laterality"] == "left" else "left"
    flipped = (
        p.predict([image], note_variant(row, STYLE, seed, n_stage="N2", laterality=other)).array > 0
    )
    masks = [
        Image(preds["N0"].astype(np.uint8), image.affine),
        Image(preds["N2"].astype(np.uint8), image.affine),
        Image(flipped.astype(np.uint8), image.affine),
    ]
    side = row["laterality"]
    render_png(
        image,
        masks,
        f"Same CT, three notes:\nred: N0, {side}\ngreen: N2, {side}\nblue: N2, {other}",
        root / "figures" / "counterfactual.png",
        title="Counterfactual notes (multimodal model)",
        mask_names=(f"N0 {side}", f"N2 {side}", f"N2 {other}"),
    )


def _fmt(s: dict[str, Any], digits: int = 3) -> str:
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]" + (
        f" ({s['n_undefined']} undef.)" if s.get("n_undefined") else ""
    )


def _markdown(meta: dict[str, Any], res: dict[str, Any], pictures: list) -> str:
    t = meta["timings_s"]
    lines = [
        "# oncoseg demo report",
        "",
        f"Command `{meta['command']}`, commit `{meta['commit']}`, {meta['created_utc']}; "
        f"total {t['total'] / 60:.1f} min (training vision {t['train_vision'] / 60:.1f}, "
        f"multimodal {t['train_multimodal'] / 60:.1f} min).",
        "",
        "Data hashes: " + ", ".join(f"{k} `{v}`" for k, v in meta["data_hash"].items()),
        "",
        "## Breast CTV test cases: mean [bootstrap 95% CI]",
        "",
        "| model | site | n | Dice | IoU | HD95 (mm) |",
        "|---|---|---|---|---|---|",
    ]
    for m, sites in res["models"].items():
        for site, s in sites.items():
            lines.append(
                f"| {m} | {site} | {s['n']} | {_fmt(s['dice'])} | {_fmt(s['iou'])} | "
                f"{_fmt(s['hd95'], 1)} |"
            )
    lines += [
        "",
        "Paired tests, multimodal vs vision-only:",
        "",
        "| site | metric | mean diff | t-test p | Wilcoxon p |",
        "|---|---|---|---|---|",
    ]
    for c in res["comparisons"]:
        lines.append(
            f"| {c['site']} | {c['metric']} | {c['mean_diff']:+.3f} | "
            f"{c['t_test_p']:.2g} | {c['wilcoxon_p']:.2g} |"
        )
    lines += [
        "",
        "## Counterfactual notes (internal test images)",
        "",
        "| model | nodal regions appear with N2 and vanish with N0 | side follows the note |",
        "|---|---|---|",
    ]
    for m, c in res["counterfactual"].items():
        lines.append(
            f"| {m} | {c['nodal_follows_note']:.0%} of {c['n']} | "
            f"{c['side_follows_note']:.0%} of {c['n_unilateral']} |"
        )
    lines += ["", "![counterfactual](figures/counterfactual.png)", "", "## Cases", ""]
    lines += [f"![{case}]({png})" for case, png in pictures]
    return "\n".join(lines) + "\n"
