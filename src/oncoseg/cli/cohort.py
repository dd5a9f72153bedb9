"""``oncoseg predict-cohort``: a dataset's cases through one model (oncoseg.batch.cohort)."""

from __future__ import annotations

from pathlib import Path

import typer

from oncoseg.cli.common import console


def predict_cohort(
    model: Path = typer.Option(..., "--model", "-m", help="Training run folder."),
    dataset: Path = typer.Option(..., "--dataset", "-d", help="oncoseg/nnU-Net dataset folder."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder (rerun it to resume)."),
    split: str = typer.Option("test", help="test (imagesTs) or all (imagesTr + imagesTs)."),
    engine: str = typer.Option("local", help="local (worker processes) or ray."),
    address: str = typer.Option(
        None, "--address", help="Ray cluster to join (e.g. auto, HEAD:6379); default: local Ray."
    ),
    workers: int = typer.Option(1, "--workers", "-w", help="Worker processes or Ray actors."),
    threads: int = typer.Option(
        0, "--threads", help="Torch threads per worker (default: this machine's CPUs / workers)."
    ),
    metrics: bool = typer.Option(True, "--metrics/--no-metrics", help="Score labelled cases."),
    checkpoint: str = typer.Option("best"),
    device: str = typer.Option("auto"),
) -> None:
    """Segment every case of a dataset split, resumably: masks/, status.csv, metrics.csv.

    A rerun skips finished cases; a failing case is marked failed, the others go on (exit 1).
    """
    from oncoseg.batch.cohort import CohortJob, cpu_count, run_cohort
    from oncoseg.data.dataset import DatasetFormatError

    job = CohortJob(
        model=str(model),
        dataset=str(dataset),
        out=str(out),
        split=split,
        checkpoint=checkpoint,
        device=device,
        threads=threads if threads > 0 else max(1, cpu_count() // max(1, workers)),
        metrics=metrics,
    )
    try:
        rec = run_cohort(job, engine=engine, workers=workers, address=address, console=console)
    except (DatasetFormatError, ValueError) as exc:  # CohortError is a ValueError
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except RuntimeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"{rec.cases} cases: {rec.skipped} finished before, {rec.ok} ok and {rec.failed} failed "
        f"now, {rec.seconds:.1f} s ({rec.cases_per_min:.1f} cases/min)"
    )
    typer.echo(str(out / "status.csv"))
    if rec.failed:
        console.print(f"[yellow]{rec.failed} case(s) failed:[/yellow] see {out / 'status.csv'}")
        raise typer.Exit(1)
