"""The ``oncoseg`` command: thin typer wrappers over the package's functions."""

from __future__ import annotations

import json
import logging
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="Note-guided segmentation of tumours and radiotherapy targets.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
synth_app = typer.Typer(
    help="Generate phantom cohorts (the embedded default data).", no_args_is_help=True
)
dataset_app = typer.Typer(help="Inspect and validate datasets.", no_args_is_help=True)
app.add_typer(synth_app, name="synth")
bench_app = typer.Typer(help="Measure speed on this machine.", no_args_is_help=True)
app.add_typer(dataset_app, name="dataset")
app.add_typer(bench_app, name="bench")
convert_app = typer.Typer(
    help="Convert public datasets to the oncoseg format.", no_args_is_help=True
)
app.add_typer(convert_app, name="convert")
console = Console(stderr=True)


class Site(str, Enum):
    internal = "internal"
    external = "external"


class NoteStyle(str, Enum):
    prompt = "prompt"
    narrative = "narrative"
    raw = "raw"


@app.callback()
def _main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )


def _synth(
    task: str,
    out: Path,
    cases: int,
    test_cases: int,
    site: Site,
    note_style: NoteStyle,
    size: int,
    seed: int,
    overwrite: bool,
) -> None:
    from oncoseg.synth import brain_tumor, breast_ctv
    from oncoseg.synth.cohort import write_cohort

    spec = (breast_ctv if task == "breast_ctv" else brain_tumor).cohort_spec()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        t = bar.add_task(f"{task} ({site.value})", total=cases + test_cases)
        try:
            write_cohort(
                out,
                spec,
                cases=cases,
                test_cases=test_cases,
                site=site.value,
                style=note_style.value,
                size=size,
                seed=seed,
                overwrite=overwrite,
                progress=lambda n: bar.advance(t, n),
            )
        except (FileExistsError, ValueError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc


_CASES = typer.Option(40, help="Training cases (imagesTr).")
_TEST = typer.Option(0, "--test-cases", help="Held-out cases (imagesTs).")
_SITE = typer.Option(Site.internal, help="Scanner site: noise, calibration, FOV, case mix.")
_STYLE = typer.Option(NoteStyle.prompt, "--note-style", help="How notes are written.")
_SIZE = typer.Option(64, help="Voxels per axis (64 on a CPU; 128 or 192 on a GPU).")
_SEED = typer.Option(0, help="Generator seed; the same seed gives the same cohort.")
_OVER = typer.Option(False, "--overwrite", help="Replace OUT if it exists.")


@synth_app.command("breast-ctv")
def synth_breast(
    out: Path,
    cases: int = _CASES,
    test_cases: int = _TEST,
    site: Site = _SITE,
    note_style: NoteStyle = _STYLE,
    size: int = _SIZE,
    seed: int = _SEED,
    overwrite: bool = _OVER,
) -> None:
    """Breast CTV phantoms: the target depends on side, surgery and nodal status in the note."""
    _synth("breast_ctv", out, cases, test_cases, site, note_style, size, seed, overwrite)


@synth_app.command("brain-tumor")
def synth_brain(
    out: Path,
    cases: int = _CASES,
    test_cases: int = _TEST,
    site: Site = _SITE,
    note_style: NoteStyle = _STYLE,
    size: int = _SIZE,
    seed: int = _SEED,
    overwrite: bool = _OVER,
) -> None:
    """Brain MRI phantoms (T1, T1ce, T2, FLAIR): the note names the target lesion."""
    _synth("brain_tumor", out, cases, test_cases, site, note_style, size, seed, overwrite)


@dataset_app.command("check")
def dataset_check(root: Path, as_json: bool = typer.Option(False, "--json")) -> None:
    """Validate a dataset; list every problem with its file. Exit 1 if any."""
    from oncoseg.data.check import check_dataset

    report = check_dataset(root)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "problems": [str(p) for p in report.problems],
                    "summary": report.summary,
                },
                indent=2,
            )
        )
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _print_report(report: object) -> None:
    from oncoseg.data.check import CheckReport

    assert isinstance(report, CheckReport)
    out = Console()
    for p in report.problems:
        out.print(f"[red]✗[/red] {p}")
    if not report.ok:
        out.print(f"[red]{len(report.problems)} problem(s)[/red] in {report.root}")
        return
    s = report.summary
    table = Table(title=f"{report.root.name}: valid", show_header=False)
    table.add_row("task / site", f"{s['task']} / {s['site']}")
    table.add_row("cases", f"{s['training_cases']} training, {s['test_cases']} test")
    table.add_row("channels", ", ".join(f"{k}: {v}" for k, v in s["channels"].items()))
    for name, d in s["label_volume_ml"].items():
        if d:
            table.add_row(
                f"{name} (ml)", f"median {d['median']:.0f} [{d['min']:.0f}–{d['max']:.0f}]"
            )
    n = s["note_chars"]
    table.add_row("note length (chars)", f"median {n['median']:.0f} [{n['min']}–{n['max']}]")
    out.print(table)


@app.command("show")
def show(
    root: Path,
    case: str,
    out: Path = typer.Option(None, "-o", "--out"),
    split: str = typer.Option("Tr", help="Tr or Ts."),
) -> None:
    """Write a PNG of a case: axial/coronal slices, label outlined, note beside it."""
    from oncoseg.data.dataset import DatasetFormatError
    from oncoseg.eval.figures import render_case_png
    from oncoseg.io.image import ImageReadError

    target = out or Path(f"{case}.png")
    try:
        render_case_png(root, case, target, split=split)
    except (DatasetFormatError, ImageReadError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    typer.echo(str(target))


@app.command("demo")
def demo(
    out: Path = typer.Option(Path("runs/demo"), "-o", "--out"),
    size: int = typer.Option(64),
    epochs: int | None = typer.Option(
        None, help="Training epochs of the vision-only model (default: the demo's)."
    ),
    note_epochs: int | None = typer.Option(
        None, help="Training epochs of the note-guided model (default: the demo's)."
    ),
) -> None:
    """The main job on the embedded phantoms; writes OUT/report.md."""
    from oncoseg.eval.demo import DEMO_EPOCHS, DEMO_NOTE_EPOCHS, run_demo

    report = run_demo(
        out,
        size=size,
        epochs=DEMO_EPOCHS if epochs is None else epochs,
        note_epochs=DEMO_NOTE_EPOCHS if note_epochs is None else note_epochs,
    )
    typer.echo(str(report))


@app.command("train")
def train_cmd(
    config: Path = typer.Argument(None, help="YAML run config (optional)."),
    set_: list[str] = typer.Option([], "--set", help="Override: section.key=value."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/last.pt."),
) -> None:
    """Train a model; the run directory keeps config, provenance, metrics, checkpoints."""
    from oncoseg.train.config import ConfigError, load_config
    from oncoseg.train.loop import train

    try:
        cfg = load_config(config, set_)
        if not cfg.data.dataset:
            raise ConfigError("data.dataset is required (set it in the YAML or --set)")
        out = train(cfg, resume=resume)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    typer.echo(str(out))


@app.command("predict")
def predict_cmd(
    model: Path = typer.Option(..., "--model", "-m", help="Training run folder."),
    image: list[Path] = typer.Option(..., "-i", "--image", help="One per channel, in order."),
    note: Path = typer.Option(None, "-n", "--note", help="Clinical note (UTF-8)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
    checkpoint: str = typer.Option("best"),
    device: str = typer.Option("auto"),
) -> None:
    """Segment one case; the mask keeps the input's exact geometry (NIfTI)."""
    from oncoseg.eval.inference import Predictor
    from oncoseg.io.image import ImageReadError, load_image, save_image

    try:
        predictor = Predictor.from_run(model, checkpoint=checkpoint, device=device)
        images = [load_image(p) for p in image]
        text = ""
        if predictor.uses_text:
            if note is None:
                raise ValueError("this model reads the clinical note: pass -n NOTE.txt")
            text = note.read_text(encoding="utf-8")
        mask = predictor.predict(images, text)
    except (FileNotFoundError, ImageReadError, ValueError, UnicodeDecodeError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    name = image[0].name.replace("_0000", "").split(".")[0]
    target = out / f"{name}.nii.gz"
    save_image(mask, target)
    typer.echo(str(target))


@convert_app.command("openkbp")
def convert_openkbp_cmd(
    src: Path = typer.Argument(
        ..., help="OpenKBP folder with train-pats/ validation-pats/ test-pats/."
    ),
    out: Path = typer.Argument(..., help="New oncoseg dataset folder."),
    limit: int = typer.Option(None, help="At most this many patients per group (tests)."),
    overwrite: bool = typer.Option(False, "--overwrite"),
) -> None:
    """OpenKBP head-and-neck CSVs -> NIfTI CT, PTV labels, OAR regions, prescription notes."""
    from oncoseg.data.openkbp import convert_openkbp

    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("convert", total=None)
        try:
            report = convert_openkbp(
                src, out, limit=limit, overwrite=overwrite, progress=lambda _: bar.advance(task)
            )
        except (FileNotFoundError, FileExistsError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    for group, ids in report.converted.items():
        console.print(f"{group}: {len(ids)} converted")
    for folder, reason in report.skipped.items():
        console.print(f"[yellow]skipped[/yellow] {folder}: {reason}")
    typer.echo(str(out))


@app.command("experiment")
def experiment_cmd(
    name: str = typer.Argument(
        ...,
        help="compare | fusion-ablation | text-ablation | data-efficiency | counterfactual | kfold",
    ),
    config: Path = typer.Option(None, "--config", "-c", help="Experiment YAML (configs/)."),
    set_: list[str] = typer.Option([], "--set", help="Override: key=value."),
    out: Path = typer.Option(None, "-o", "--out", help="Default: runs/NAME."),
) -> None:
    """Run one of the papers' experiments; writes results.json, summary.md, report.html."""
    import shlex
    import sys

    from oncoseg.eval.experiments import EXPERIMENTS, load_experiment_config, run_experiment
    from oncoseg.train.config import ConfigError

    if name not in EXPERIMENTS:
        console.print(f"[red]error:[/red] unknown experiment {name!r}; one of {EXPERIMENTS}")
        raise typer.Exit(2)
    try:
        cfg = load_experiment_config(str(config) if config else None, set_)
        command = "oncoseg " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        path = run_experiment(name, cfg, out or Path("runs") / name, command=command)
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    typer.echo(str(path))


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
