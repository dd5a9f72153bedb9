"""Experiment reports: ``summary.md`` and one self-contained ``report.html`` (figures inline).

The tables every experiment has are made here; a task's own sections and figures (e.g.
counterfactual notes) come from its ``report`` hook in the task registry as a
:class:`~oncoseg.eval.sections.TaskReport` and are rendered as given. The HTML holds the
summary tables, box plots of per-case Dice per site, and slice
overlays of the best, median and worst test cases (by the last model's Dice) with the
ground truth and two models' predictions, each with its (de-identified) note.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from oncoseg.data.dataset import read_case, read_info  # noqa: E402
from oncoseg.eval.figures import render_png, save_png  # noqa: E402
from oncoseg.eval.sections import Section, TaskReport, fmt, fmt_diff, table  # noqa: E402
from oncoseg.eval.summary import per_case  # noqa: E402
from oncoseg.io.atomic import write_text  # noqa: E402
from oncoseg.io.image import Image, load_image  # noqa: E402
from oncoseg.text.encoders import prepare_note  # noqa: E402


def _p(v: float) -> str:
    return "n/a" if v is None or math.isnan(v) else f"{v:.2g}"


def tables(doc: dict[str, Any], task: Sequence[Section] = ()) -> list[Section]:
    """Every section of an experiment's report: the tables every experiment has, with the
    task's own sections (``task``, see :class:`TaskReport`) after the paired tests."""
    header = ["model", "site", "n", "Dice", "IoU", "HD95 (mm)"]
    clinical = any("clinical" in s for m in doc["models"].values() for s in m.values())
    if clinical:
        header.append("clinical accuracy (2/1/0)")
    rows = []
    for model, sites in doc["models"].items():
        for site, s in sites.items():
            row = [model, site, str(s["n"]), fmt(s["dice"]), fmt(s["iou"]), fmt(s["hd95"], 1)]
            if clinical:
                c = s.get("clinical")
                row.append(
                    f"{c['accuracy']:.0%} ({c['correct']}/{c['minor']}/{c['incorrect']})"
                    if c
                    else ""
                )
            rows.append(row)
    out = [table("Test cases: mean [bootstrap 95% CI]", header, rows)]
    per_class = [
        [model, site, cls, str(s["n"]), fmt(s["dice"]), fmt(s["hd95"], 1)]
        for model, sites in doc["models"].items()
        for site, entry in sites.items()
        for cls, s in entry.get("classes", {}).items()
    ]
    if per_class:
        out.append(
            table("Per class", ["model", "site", "class", "n", "Dice", "HD95 (mm)"], per_class)
        )
    comp = [
        [
            c["a"],
            c["b"],
            c["site"],
            c["metric"],
            str(c["n"]),
            fmt_diff(c),
            _p(c["t_test_p"]),
            _p(c["wilcoxon_p"]),
        ]
        for c in doc["comparisons"]
    ]
    out.append(
        table(
            "Paired tests (a vs b, same cases)",
            ["a", "b", "site", "metric", "n", "mean diff [95% CI]", "t-test p", "Wilcoxon p"],
            comp,
        )
    )
    out += task
    if "fractions" in doc:
        out.append(_efficiency(doc))
    return out


def _efficiency(doc: dict[str, Any]) -> Section:
    eff = []
    for f in doc["fractions"]:
        pct = f"{round(100 * f)}%"
        for site in doc["models"].get(f"vision@{pct}", {}):
            eff.append(
                [
                    pct,
                    site,
                    fmt(doc["models"][f"vision@{pct}"][site]["dice"]),
                    fmt(doc["models"][f"multimodal@{pct}"][site]["dice"]),
                ]
            )
    return table("Dice by share of training cases", ["share", "site", "vision", "multimodal"], eff)


def markdown(doc: dict[str, Any], task: Sequence[Section] = ()) -> str:
    """``summary.md``: provenance and every section (``task``: the task's own)."""
    lines = [
        f"# Experiment `{doc['experiment']}` on {doc['dataset']}",
        "",
        f"Command `{doc['command']}`; commit `{doc['commit']}`; {doc['created_utc']}.",
        "",
        "Data hashes: " + ", ".join(f"{k} `{v}`" for k, v in doc["data_hash"].items()),
        "",
    ]
    return "\n".join(lines) + "\n" + "".join(s.markdown() for s in tables(doc, task))[:-1]


def _png_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def box_plot(rows: dict[str, dict[str, list[dict[str, Any]]]], out: Path) -> Path:
    """Per-case Dice per model, one panel per site."""
    sites = sorted({s for m in rows.values() for s in m})
    fig, axes = plt.subplots(1, len(sites), figsize=(1.2 + 1.1 * len(rows) * len(sites), 3.6))
    for ax, site in zip(np.atleast_1d(axes), sites, strict=False):
        names = [m for m in rows if site in rows[m]]
        values = [list(per_case(rows[m][site], "dice").values()) for m in names]
        ax.boxplot(values, showmeans=True)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{site} site", fontsize=9)
        ax.set_ylabel("Dice per case")
        ax.set_ylim(0, 1)
    return save_png(fig, out, dpi=90)


def overlays(
    rows: dict[str, dict[str, list[dict[str, Any]]]], data: Any, root: Path
) -> list[tuple[str, Path]]:
    """Best, median and worst internal test case of the last model, with GT and 2 models."""
    names = list(rows)
    shown = [names[0], names[-1]] if len(names) > 1 else names
    site = "internal" if "internal" in rows[names[-1]] else next(iter(rows[names[-1]]))
    if not (root / "predictions" / names[-1] / site).exists():
        return []
    dice = per_case(rows[names[-1]][site], "dice")
    order = sorted(dice, key=lambda c: dice[c])
    picks = {"worst": order[0], "median": order[len(order) // 2], "best": order[-1]}
    ds = data.sites[site]
    info = read_info(ds)
    out = []
    for which, case_id in picks.items():
        case = read_case(ds, case_id, "Ts")
        assert case.label is not None
        masks = [Image((np.asarray(case.label.array) > 0).astype(np.uint8), case.label.affine)]
        for m in shown:
            pred = load_image(root / "predictions" / m / site / f"{case_id}.nii.gz")
            masks.append(Image((np.asarray(pred.array) > 0).astype(np.uint8), pred.affine))
        ch = 0
        names_upper = [v.upper() for v in info.channel_names.values()]
        if "FLAIR" in names_upper:
            ch = names_upper.index("FLAIR")
        modality = "CT" if info.channel_names["0"].upper() == "CT" else names_upper[ch]
        scores = ", ".join(
            f"{m} Dice {per_case(rows[m][site], 'dice')[case_id]:.2f}" for m in shown
        )
        png = render_png(
            case.images[ch],
            masks,
            prepare_note(case.note),
            root / "figures" / f"{which}_{case_id}.png",
            title=f"{which}: {case_id} ({site}); {scores}",
            modality=modality,
            mask_names=("truth", *shown),
        )
        out.append((f"{which} ({case_id})", png))
    return out


def html_report(
    doc: dict[str, Any], figures: list[tuple[str, Path]], task: Sequence[Section] = ()
) -> str:
    """``report.html``: provenance, every section and the figures inline."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>oncoseg {html.escape(doc['experiment'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1400px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;"
        "padding:3px 8px;font-size:13px}th{background:#eee}img{max-width:100%}"
        "code{background:#f4f4f4}</style></head><body>",
        f"<h1>Experiment <code>{html.escape(doc['experiment'])}</code> on "
        f"{html.escape(doc['dataset'])}</h1>",
        f"<p>Command <code>{html.escape(doc['command'])}</code><br>commit "
        f"<code>{html.escape(doc['commit'])}</code>, {html.escape(doc['created_utc'])}<br>"
        "data hashes: "
        + ", ".join(
            f"{html.escape(k)} <code>{html.escape(v)}</code>" for k, v in doc["data_hash"].items()
        )
        + "</p>",
    ]
    parts += [s.html() for s in tables(doc, task)]
    for title, png in figures:
        parts.append(
            f"<h2>{html.escape(title)}</h2><img src='{_png_uri(png)}' alt='{html.escape(title)}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(
    doc: dict[str, Any],
    rows: dict[str, dict[str, list[dict[str, Any]]]],
    data: Any,
    root: Path,
    task: TaskReport | None = None,
) -> None:
    """summary.md, report.html and figures/ for one experiment; ``task`` is what the
    experiment's task adds (its sections and figures, from the task registry)."""
    task = task or TaskReport()
    figs: list[tuple[str, Path]] = [
        ("Dice per case", box_plot(rows, root / "figures" / "dice.png"))
    ]
    figs += [(title, path) for title, path in task.figures if path.exists()]
    figs += overlays(rows, data, root)
    write_text(root / "summary.md", markdown(doc, task.sections))
    write_text(root / "report.html", html_report(doc, figs, task.sections))
