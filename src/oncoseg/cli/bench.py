"""``oncoseg bench``: speed on this machine."""

from __future__ import annotations

import json
from pathlib import Path

import typer

bench_app = typer.Typer(help="Measure speed on this machine.", no_args_is_help=True)


@bench_app.command("model")
def bench_model(
    out: Path = typer.Option(Path("docs/results/model"), "-o", "--out"),
    device: str = typer.Option("cpu", help="cpu or cuda"),
) -> None:
    """Train-step and inference time, vision-only vs note-guided, and peak memory."""
    from oncoseg.train.bench import run_model_benchmark

    typer.echo(json.dumps(run_model_benchmark(out, device=device)["results"], indent=2))


@bench_app.command("text")
def bench_text(
    out: Path = typer.Option(Path("docs/results/text"), "-o", "--out"),
    repeats: int = typer.Option(9),
) -> None:
    """Load times, per-note encode time, prefix vs suffix training step (SmolLM2, MiniLM)."""
    from oncoseg.text.bench import run_text_benchmark

    meta = run_text_benchmark(out, repeats=repeats)
    typer.echo(json.dumps(meta["results"], indent=2))
