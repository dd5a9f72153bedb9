"""``oncoseg bench``: speed on this machine."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from oncoseg.cli.common import console

bench_app = typer.Typer(help="Measure speed on this machine.", no_args_is_help=True)


@bench_app.command("model")
def bench_model(
    out: Path = typer.Option(Path("docs/results/model"), "-o", "--out"),
    device: str = typer.Option("cpu", help="cpu or cuda"),
    rounds: int = typer.Option(3, help="Rounds; each runs every configuration in a new process."),
    repeats: int = typer.Option(5, help="Measured train steps per process, after a warm-up."),
    configs: list[str] = typer.Option(
        [], "--configs", help="Only these (comma-separated or repeated); vision-only always."
    ),
    no_cli: bool = typer.Option(False, "--no-cli", help="Skip the cold `oncoseg predict` runs."),
    peak: Path = typer.Option(
        None, "--peak", help="peak.json of `oncoseg bench peak` (default: measure it now)."
    ),
    compile_unet: bool = typer.Option(
        False, "--compile", help="torch.compile the U-Net of the train step (for CUDA)."
    ),
    lm: str = typer.Option("smollm2", "--lm", help="Language model: name or local folder."),
    bf16: bool = typer.Option(
        False, "--bf16", help="bf16 autocast in train steps and predicts (train.bf16=true)."
    ),
    fusion_grid: int = typer.Option(
        8, "--fusion-grid", help="model.fusion_grid of the note-guided rows (0: every voxel)."
    ),
) -> None:
    """Train step split into parts, warm and cold predict, peak memory, share of peak FLOP/s:
    vision-only vs every text mode (64³, batch 2, preset small), each in its own process."""
    from oncoseg.bench.model import CONFIGS, BenchSettings, run_model_benchmark

    names = [n.strip() for item in configs for n in item.split(",") if n.strip()]
    settings = BenchSettings(
        repeats=repeats,
        lm=lm,
        device=device,
        compile=compile_unet,
        bf16=bf16,
        fusion_grid=fusion_grid,
    )
    total = rounds * len({CONFIGS[0].name, *(names or [c.name for c in CONFIGS])})
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress("{task.description}", *columns, console=console) as bar:
        task = bar.add_task("Conv3d peak", total=total)
        try:  # the bar counts the measurements started
            meta = run_model_benchmark(
                out,
                settings,
                rounds=rounds,
                names=names,
                cli=not no_cli,
                peak_path=peak,
                progress=lambda what: bar.update(task, description=what, advance=1),
            )
        except (FileNotFoundError, ValueError, RuntimeError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    typer.echo(json.dumps(meta["rows"], indent=2))


@bench_app.command("peak")
def bench_peak(
    out: Path = typer.Option(Path("docs/results/model"), "-o", "--out"),
    device: str = typer.Option("cpu", help="cpu or cuda"),
    repeats: int = typer.Option(3, help="Timed forwards per shape, after a warm-up."),
) -> None:
    """This machine's fp32 Conv3d peak (best GFLOP/s of large 3x3x3 convolutions): peak.json."""
    from oncoseg.bench.model import run_peak_benchmark

    meta = run_peak_benchmark(out, device=device, repeats=repeats)
    typer.echo(json.dumps({k: meta[k] for k in ("peak_gflops", "device", "shapes")}, indent=2))


@bench_app.command("text")
def bench_text(
    out: Path = typer.Option(Path("docs/results/text"), "-o", "--out"),
    repeats: int = typer.Option(9),
) -> None:
    """Load times, per-note encode time, prefix vs suffix training step (SmolLM2, MiniLM)."""
    from oncoseg.bench.text import run_text_benchmark

    meta = run_text_benchmark(out, repeats=repeats)
    typer.echo(json.dumps(meta["results"], indent=2))


@bench_app.command("spacing")
def bench_spacing(
    model: Path = typer.Option(..., "-m", "--model", help="Training run folder."),
    dataset: Path = typer.Option(..., "-d", "--dataset", help="Dataset with the cases."),
    out: Path = typer.Option(..., "-o", "--out", help="Folder for spacing.json, spacing.md."),
    split: str = typer.Option("Ts", help="Split: Ts (test) or Tr."),
    inplane: int = typer.Option(512, "--inplane", min=2, help="In-plane voxels of the grid."),
    cases: list[str] = typer.Option(
        [], "--cases", help="Only these cases (comma-separated or repeated)."
    ),
    limit: int = typer.Option(0, "--limit", min=0, help="Only the first N cases (0: all)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda"),
) -> None:
    """The same cases resampled to INPLANE x INPLANE in-plane (extent and slices kept): Dice
    and, for breast_ctv, the counterfactual shares on the native and the resampled grid."""
    from oncoseg.bench.spacing import run_spacing_check

    names = [n.strip() for item in cases for n in item.split(",") if n.strip()]
    with console.status("predicting") as status:
        try:
            result = run_spacing_check(
                model,
                dataset,
                out,
                split=split,
                inplane=inplane,
                cases=names,
                limit=limit or None,
                device=device,
                progress=lambda case: status.update(f"done: {case}"),
            )
        except (FileNotFoundError, ValueError, RuntimeError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    typer.echo(json.dumps(result["summary"], indent=2))
    typer.echo(f"wrote {out / 'spacing.json'} and {out / 'spacing.md'}")
