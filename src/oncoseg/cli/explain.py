"""``oncoseg explain-check``: the clause attribution against the phantoms' rule tables."""

from __future__ import annotations

from pathlib import Path

import typer

from oncoseg.cli.common import console, fail, refusing


def explain_check_cmd(
    model: list[Path] = typer.Option(..., "--model", "-m", help="Training run (one per -d)."),
    dataset: list[Path] = typer.Option(..., "--dataset", "-d", help="Phantom dataset folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for explain_check.json/.md."),
    split: str = typer.Option("Ts", help="Tr or Ts."),
    mode: str = typer.Option("filler", help="How a clause is neutralised: filler | remove."),
    edits: bool = typer.Option(True, help="Also predict each field edit (one more pass)."),
) -> None:
    """For each phantom test case: is the clause that moved the contour most the one whose
    field moves the true target most? Writes JSON and a markdown table (top-clause share,
    Spearman rank correlation of effects, a disagreeing case)."""
    from oncoseg.infer import Predictor
    from oncoseg.tasks.explain_check import explain_check, write_check

    if len(model) != len(dataset):
        fail(f"give one --model per --dataset (got {len(model)} and {len(dataset)})")
    with refusing():
        results = []
        for run, ds in zip(model, dataset, strict=True):
            predictor = Predictor.from_run(run)
            r = explain_check(predictor, ds, split=split, mode=mode, edits=edits)
            results.append({**r, "model": str(run), "dataset": str(ds)})
            console.print(
                f"{r['task']} {r['style']}: top clause = truth's top field in "
                f"{r['top_hit']:.0%} of {r['n']} cases; Spearman {r['spearman_mean']}"
            )
        path = write_check(results, out, ", ".join(str(m) for m in model))
    console.print(str(path))
