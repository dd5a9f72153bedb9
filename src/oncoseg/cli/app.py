"""The ``oncoseg`` command: thin typer wrappers over the package's functions.

Sub-commands live beside this module (``data``: synth, dataset, convert; ``bench``;
``orthanc``); this one holds the app, logging and warning routing, and the commands that
train, predict and run experiments.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from oncoseg.cli.bench import bench_app
from oncoseg.cli.cohort import predict_cohort
from oncoseg.cli.common import console, fail, options, refusing
from oncoseg.cli.data import convert_app, dataset_app, synth_app
from oncoseg.cli.explain import explain_check_cmd
from oncoseg.cli.heldout import heldout_notes_cmd
from oncoseg.cli.logs import route_warnings, run_log, setup_logging
from oncoseg.cli.orthanc import orthanc_app
from oncoseg.cli.pacs import pacs_app
from oncoseg.cli.serve import serve_cmd

if TYPE_CHECKING:  # loaded by the commands that use them: `oncoseg --help` stays fast
    from oncoseg.infer import Predictor
    from oncoseg.infer.pipeline import PredictionResult
    from oncoseg.io.image import Image

app = typer.Typer(
    help="Note-guided segmentation of tumours and radiotherapy targets.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(synth_app, name="synth")
app.add_typer(dataset_app, name="dataset")
app.add_typer(bench_app, name="bench")
app.add_typer(convert_app, name="convert")
app.command("serve")(serve_cmd)
app.command("predict-cohort")(predict_cohort)
app.command("explain-check")(explain_check_cmd)
app.command("heldout-notes")(heldout_notes_cmd)
app.add_typer(orthanc_app, name="orthanc")
app.add_typer(pacs_app, name="pacs")


@app.callback()
def _main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an error."),
) -> None:
    options.debug = debug
    setup_logging(verbose, console)


@app.command("show")
def show(
    root: Path,
    case: str,
    out: Path = typer.Option(None, "-o", "--out"),
    split: str = typer.Option("Tr", help="Tr or Ts."),
) -> None:
    """Write a PNG of a case: axial/coronal slices, label outlined, note beside it."""
    from oncoseg.eval.figures import render_case_png

    target = out or Path(f"{case}.png")
    with refusing():
        render_case_png(root, case, target, split=split)
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
    from oncoseg.experiments.demo import DEMO_EPOCHS, DEMO_NOTE_EPOCHS, run_demo

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
    from oncoseg.infer.config import ConfigError, load_config
    from oncoseg.tasks import note_variants_for
    from oncoseg.train.trainer import train

    with refusing():
        cfg = load_config(config, set_)
        if not cfg.data.dataset:
            raise ConfigError("data.dataset is required (set it in the YAML or --set)")
        with run_log(Path(cfg.out) / "train.log"):
            out = train(cfg, resume=resume, note_variants=note_variants_for(cfg.data.dataset))
    typer.echo(str(out))


@app.command("predict")
def predict_cmd(
    model: Path = typer.Option(..., "--model", "-m", help="Training run folder."),
    image: list[Path] = typer.Option(
        ..., "-i", "--image", help="One per channel, in order: a NIfTI/NRRD file or a DICOM folder."
    ),
    note: Path = typer.Option(None, "-n", "--note", help="Clinical note (UTF-8)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder."),
    formats: str = typer.Option(
        "nifti", "--format", help="Comma list of nifti, dicom-seg, rtstruct (DICOM needs DICOM -i)."
    ),
    series: str = typer.Option(None, "--series", help="Series UID, for a folder with several."),
    checkpoint: str = typer.Option("best"),
    device: str = typer.Option("auto"),
    threshold: float = typer.Option(
        None,
        "--threshold",
        help="Foreground probability above which a voxel is labelled (default: the run's "
        "infer.threshold, else argmax).",
    ),
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Also say which clauses of the note moved the contour: "
        "NAME_explain.json, NAME_explain.nii.gz (bit i: clause i) and NAME_explain.png.",
    ),
) -> None:
    """Segment one case; every output keeps the input's exact geometry.

    Every input is checked before anything is written: a bad image or note is refused with
    one line naming it (exit code 2) and OUT is left as it was.
    """
    from oncoseg.infer.pipeline import run_prediction
    from oncoseg.io.note_file import read_note_file
    from oncoseg.io.outputs import check_formats, load_inputs, output_name, parse_formats

    with refusing():
        fmts = parse_formats(formats)
        loaded = load_inputs(image, series)
        check_formats(fmts, loaded[0][1])
        text = read_note_file(note) if note is not None else ""
        predictor = _load_predictor(model, checkpoint, device, threshold, has_note=note is not None)
        name = output_name(image[0])
        result = run_prediction(
            predictor,
            [img for img, _ in loaded],
            note=text,
            out=out,
            name=name,
            formats=fmts,
            series=loaded[0][1],
            run_name=model.name,
            note_source=str(note),
            explain="auto" if explain else None,
        )
        if result.explanation is not None:
            result = _add_explain_png(result, loaded[0][0], predictor, out / f"{name}_explain.png")
    _print_result(result, name)


def _print_result(result: PredictionResult, name: str) -> None:
    """A prediction's lines: warnings, what the note reader read, the files written."""
    if result.warning:
        console.print(f"[yellow]warning:[/yellow] {name}: {result.warning}", soft_wrap=True)
    if result.note_reading is not None:
        read = result.note_reading
        fields = ", ".join(f"{k}={v}" for k, v in read["fields"].items())
        typer.echo(f"note read as: {fields}")
        if read["not_stated"]:
            missing = ", ".join(read["not_stated"])
            console.print(f"[yellow]warning:[/yellow] {name}: the note does not state {missing}")
    for path in result.files:
        typer.echo(str(path))


def _load_predictor(
    model: Path, checkpoint: str, device: str, threshold: float | None, *, has_note: bool
) -> Predictor:
    """The run's Predictor (``--threshold`` overriding its own); refuses a note-guided model
    without a note."""
    from oncoseg.infer import Predictor

    infer = [f"infer.threshold={threshold}"] if threshold is not None else None
    predictor = Predictor.from_run(model, checkpoint=checkpoint, device=device, infer=infer)
    if predictor.uses_text and not has_note:
        raise ValueError("this model reads the clinical note: pass -n NOTE.txt")
    return predictor


def _add_explain_png(
    result: PredictionResult, ct: Image, predictor: Predictor, png: Path
) -> PredictionResult:
    """``result`` with the figure of ``predict --explain`` (which clauses moved the contour,
    over the image) written to ``png`` and added to its files."""
    from oncoseg.eval.explain_figure import explain_png

    assert result.explanation is not None
    modality = predictor.plan.channel_names.get("0", "CT")
    path = explain_png(ct, result.mask, result.explanation, png, modality=modality)
    return dataclasses.replace(result, files=(*result.files, path))


@app.command("experiment")
def experiment_cmd(
    name: str = typer.Argument(
        ...,
        help="compare | fusion-ablation | text-ablation | data-efficiency | counterfactual | kfold",
    ),
    config: Path = typer.Option(None, "--config", "-c", help="Experiment YAML (configs/)."),
    set_: list[str] = typer.Option([], "--set", help="Override: key=value."),
    out: Path = typer.Option(None, "-o", "--out", help="Default: runs/NAME."),
    seeds: str = typer.Option(
        "", "--seeds", help="Training seeds, e.g. 0,1,2: one run each in OUT/seedK + seeds.md."
    ),
    kernels: str = typer.Option(
        "",
        "--kernels",
        help="CPU kernel settings, e.g. default,avx2,threads1: the seeds once per setting in "
        "OUT/SETTING + matrix.md (oncoseg.experiments.matrix).",
    ),
) -> None:
    """Run one of the papers' experiments; writes results.json, summary.md, report.html."""
    import shlex
    import sys

    from oncoseg.experiments.config import EXPERIMENTS, load_experiment_config
    from oncoseg.experiments.runner import run_experiment

    if name not in EXPERIMENTS:
        fail(f"unknown experiment {name!r}; one of {EXPERIMENTS}")
    with refusing():
        cfg = load_experiment_config(str(config) if config else None, set_)
        command = "oncoseg " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        folder = out or Path("runs") / name
        if kernels:
            from oncoseg.experiments.matrix import parse_settings, run_matrix

            cfg_path = str(config) if config else None
            path = run_matrix(name, cfg_path, set_, seeds or "0", parse_settings(kernels), folder)
            typer.echo(str(path))
            return
        with run_log(folder / "experiment.log"):
            if seeds:
                from oncoseg.experiments.seeds import run_seeds

                try:
                    seed_list = [int(s) for s in seeds.split(",")]
                except ValueError as exc:
                    raise ValueError(
                        f"--seeds: expected integers like 0,1,2, got {seeds!r}"
                    ) from exc
                path = run_seeds(name, cfg, folder, seed_list, command=command)
            else:
                path = run_experiment(name, cfg, folder, command=command)
    typer.echo(str(path))


@app.command("deid")
def deid(files: list[Path] = typer.Argument(..., help="Note files (UTF-8 text).")) -> None:
    """Print what the model sees of each note (cleaned, de-identified) and replacements per tag."""
    from oncoseg.cli.deid import deid_files

    raise typer.Exit(deid_files(files, typer.echo, lambda line: typer.echo(line, err=True)))


@app.command("postprocess")
def postprocess_cmd(
    run: Path = typer.Argument(..., help="Training run folder (trained with a validation fold)."),
    dataset: Path = typer.Option(None, help="Where its cases are (default: the run's dataset)."),
) -> None:
    """Choose, on the run's validation cases, the classes whose largest connected component
    alone is kept; writes RUN/postprocess.json, which later predictions of the run apply."""
    from oncoseg.eval.postprocess import choose

    with refusing():
        doc = choose(run, dataset)
    for name, row in doc["classes"].items():
        typer.echo(
            f"{name}: validation Dice {row['dice']:.3f} as predicted, "
            f"{row['dice_largest_component']:.3f} with its largest component only"
        )
    kept = [n for n, r in doc["classes"].items() if r["value"] in doc["largest_component"]]
    typer.echo(
        f"largest component kept for: {', '.join(kept) or 'none'} ({len(doc['cases'])} cases)"
    )


def main() -> None:
    """The console script: library warnings go to the debug log, then the app runs."""
    route_warnings()
    app()


if __name__ == "__main__":
    main()
