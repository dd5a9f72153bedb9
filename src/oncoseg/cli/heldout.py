"""``oncoseg heldout-notes``: a trained model on a file of notes in phrasings it never saw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from oncoseg.cli.common import console, fail, refusing


def heldout_notes_cmd(
    model: Path = typer.Option(..., "--model", "-m", help="Training run of a note-guided model."),
    dataset: Path = typer.Option(..., "--dataset", "-d", help="Phantom dataset folder."),
    notes: Path = typer.Option(..., "--notes", "-n", help="Held-out notes file (families)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for heldout_notes.json/.md."),
    split: str = typer.Option("Ts", help="Tr or Ts."),
) -> None:
    """Predict every family of NOTES (one patient's note as left/right x N0/N2) on the
    dataset's breast-conserving cases (reused in turn) and count the edits the contour
    follows; also how the task's note reader reads the file. Measure a held-out file once."""
    from oncoseg.data.dataset import dataset_hash, read_info
    from oncoseg.infer import Predictor
    from oncoseg.io.atomic import write_json, write_text
    from oncoseg.io.provenance import compute_device, provenance
    from oncoseg.tasks.registry import get_task

    if split not in ("Tr", "Ts"):
        fail(f"--split: expected Tr or Ts, got {split!r}")
    with refusing():
        task = get_task(read_info(dataset).task)
        if task.phrasings is None:
            fail(f"{dataset}: task {task.name!r} has no held-out note check")
        predictor = Predictor.from_run(model)
        if not predictor.uses_text:
            fail(f"{model}: a vision-only model does not read notes")
        result = task.phrasings(predictor, dataset, notes, split=split, every_family=True)
        doc = provenance(
            model=str(model),
            dataset=str(dataset),
            data_hash=dataset_hash(dataset),
            device=compute_device(),
            split=split,
            **result,
        )
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "heldout_notes.json", doc)
        write_text(out / "heldout_notes.md", _markdown(doc))
    console.print(
        f"{doc['n']} families: all four edits followed {doc['cases_following_all']:.0%}, "
        f"nodal {doc['nodal_edits_followed']:.0%}, side {doc['side_edits_followed']:.0%}"
    )
    console.print(str(out / "heldout_notes.json"))


def _markdown(doc: dict[str, Any]) -> str:
    reader = doc.get("reader", {}).get("all")
    lines = [
        f"# Held-out notes `{doc['file']}` on `{doc['model']}`",
        "",
        f"Command `{doc['command']}`; commit `{doc['commit']}`; {doc['created_utc']}; "
        f"{doc['device']}; data hash `{doc['data_hash']}`.",
        "",
        "| families | all four edits followed | nodal edits | side edits "
        "| mean nodal coverage N2 / N0 | by style (all four) |",
        "|---|---|---|---|---|---|",
        f"| {doc['n']} | {doc['cases_following_all']:.0%} | {doc['nodal_edits_followed']:.0%} "
        f"| {doc['side_edits_followed']:.0%} | {doc['nodal_cover_n2_mean']:.2f} / "
        f"{doc['nodal_cover_n0_mean']:.2f} | "
        + ", ".join(f"{s} {v:.0%}" for s, v in doc["by_style"].items())
        + " |",
        "",
    ]
    if reader:
        lines += [
            f"Note reader: side and nodal status right in {reader['side_and_nodes']}/"
            f"{reader['notes']} notes, with the surgery {reader['all_three']}/{reader['notes']}.",
            "",
        ]
    return "\n".join(lines)
