"""``oncoseg explain-check``: the clause attribution against the phantoms' rule tables."""

from __future__ import annotations

from pathlib import Path

import typer

from oncoseg.cli.common import console, fail, refusing

NOTE_STYLES = ("prompt", "narrative", "raw")


def explain_check_cmd(
    model: list[Path] = typer.Option(..., "--model", "-m", help="Training run (one per -d)."),
    dataset: list[Path] = typer.Option(..., "--dataset", "-d", help="Phantom dataset folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for explain_check.json/.md."),
    split: str = typer.Option("Ts", help="Tr or Ts."),
    fold: int | None = typer.Option(
        None, help="With --split Tr: only this fold's validation cases (splits.json)."
    ),
    mode: str = typer.Option(
        "filler",
        help="filler | remove: how a clause is neutralised; contrast: each field the clause "
        "decides set to its other values (a model with a note reader).",
    ),
    edits: bool = typer.Option(True, help="Also predict each field edit (one more pass)."),
    style: list[str] = typer.Option(
        [],
        "--style",
        help="Note style to explain: prompt | narrative | raw (repeat for several; default "
        "the dataset's own). Another style is regenerated from each case's clinical row.",
    ),
) -> None:
    """For each phantom test case: is the clause that moved the contour most the one whose
    field moves the true target most? Writes JSON and a markdown table (top-clause share,
    Spearman rank correlation of effects, a disagreeing case)."""
    from oncoseg.infer import Predictor
    from oncoseg.tasks.explain_check import explain_check, write_check

    if len(model) != len(dataset):
        fail(f"give one --model per --dataset (got {len(model)} and {len(dataset)})")
    styles: list[str | None] = [*style] if style else [None]  # None: the dataset's own
    if split not in ("Tr", "Ts"):
        fail(f"--split: expected Tr or Ts, got {split!r}")
    if fold is not None and split != "Tr":
        fail("--fold picks validation cases of the training split: give --split Tr")
    bad = [s for s in style if s not in NOTE_STYLES]
    if bad:
        fail(f"--style: expected one of {', '.join(NOTE_STYLES)}, got {', '.join(bad)}")
    with refusing():
        results = []
        for run, ds in zip(model, dataset, strict=True):
            predictor = Predictor.from_run(run)
            cases = None if fold is None else _val_cases(ds, fold)
            for st in styles:
                r = explain_check(
                    predictor, ds, split=split, mode=mode, edits=edits, style=st, cases=cases
                )
                where = split if fold is None else f"Tr fold {fold} val"
                results.append({**r, "model": str(run), "dataset": str(ds), "split": where})
                console.print(
                    f"{r['task']} {r['style']}: top clause = truth's top field in "
                    f"{r['top_hit']:.0%} of {r['n']} cases; Spearman {r['spearman_mean']}"
                )
        path = write_check(results, out, ", ".join(str(m) for m in model))
    console.print(str(path))


def _val_cases(dataset: Path, fold: int) -> list[str]:
    """The validation case ids of ``fold`` in the dataset's splits.json."""
    from oncoseg.data.dataset import read_splits

    try:
        splits = read_splits(dataset)
    except (OSError, ValueError) as exc:
        fail(f"{dataset}/splits.json: {exc}")
    if not 0 <= fold < len(splits):
        fail(f"--fold: {dataset}/splits.json has folds 0-{len(splits) - 1}, got {fold}")
    return list(splits[fold]["val"])
