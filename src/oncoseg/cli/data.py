"""``oncoseg synth``, ``oncoseg dataset`` and ``oncoseg convert``: cohorts and datasets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from oncoseg.cli.common import NoteStyle, Site, console, fail, refusing

synth_app = typer.Typer(
    help="Generate phantom cohorts (the embedded default data).", no_args_is_help=True
)
dataset_app = typer.Typer(help="Inspect and validate datasets.", no_args_is_help=True)
convert_app = typer.Typer(
    help="Convert public datasets to the oncoseg format.", no_args_is_help=True
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
    from oncoseg.data.phantom_cohort import write_cohort
    from oncoseg.tasks import get_task

    make_spec = get_task(task).cohort_spec
    assert make_spec is not None  # the commands below name phantom tasks
    spec = make_spec()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        t = bar.add_task(f"{task} ({site.value})", total=cases + test_cases)
        with refusing():
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


_CASES = typer.Option(40, help="Training cases (imagesTr).")
_TEST = typer.Option(0, "--test-cases", help="Held-out cases (imagesTs).")
_SITE = typer.Option(Site.internal, help="Scanner site: noise, calibration, FOV, case mix.")
_STYLE = typer.Option(NoteStyle.prompt, "--note-style", help="How notes are written.")
_SIZE = typer.Option(64, help="Voxels per axis (64 on a CPU; 128 or 192 on a GPU).")
_SEED = typer.Option(0, help="Generator seed; the same seed gives the same cohort.")
_OVER = typer.Option(False, "--overwrite", help="Replace OUT if it exists.")


def _synth_command(task: str, doc: str) -> Callable[..., None]:
    """The ``oncoseg synth`` command of a phantom task (every task takes the same options)."""

    def command(
        out: Path,
        cases: int = _CASES,
        test_cases: int = _TEST,
        site: Site = _SITE,
        note_style: NoteStyle = _STYLE,
        size: int = _SIZE,
        seed: int = _SEED,
        overwrite: bool = _OVER,
    ) -> None:
        _synth(task, out, cases, test_cases, site, note_style, size, seed, overwrite)

    command.__doc__ = doc
    return command


synth_app.command("breast-ctv")(
    _synth_command(
        "breast_ctv",
        "Breast CTV phantoms: the target depends on side, surgery and nodal status in the note.",
    )
)
synth_app.command("brain-tumor")(
    _synth_command(
        "brain_tumor", "Brain MRI phantoms (T1, T1ce, T2, FLAIR): the note names the target lesion."
    )
)


@dataset_app.command("check")
def dataset_check(root: Path, as_json: bool = typer.Option(False, "--json")) -> None:
    """Validate a dataset; list every problem with its file. Exit code 2 if any."""
    from oncoseg.data.dataset_check import check_dataset

    if not root.is_dir():
        fail(f"{root}: not a folder, expected a dataset folder with dataset.json")
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
        raise typer.Exit(2)


def _print_report(report: object) -> None:
    from oncoseg.data.dataset_check import CheckReport

    assert isinstance(report, CheckReport)
    out = Console(soft_wrap=True)  # one line per problem, however long
    for p in report.problems:
        out.print(f"[red]✗[/red] {escape(str(p))}", highlight=False)
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
    from oncoseg.tasks.openkbp.convert import convert_openkbp

    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("convert", total=None)
        with refusing():
            report = convert_openkbp(
                src, out, limit=limit, overwrite=overwrite, progress=lambda _: bar.advance(task)
            )
    for group, ids in report.converted.items():
        console.print(f"{group}: {len(ids)} converted")
    for folder, reason in report.skipped.items():
        console.print(f"[yellow]skipped[/yellow] {folder}: {reason}")
    typer.echo(str(out))


@convert_app.command("dicom")
def convert_dicom_cmd(
    src: Path = typer.Argument(..., help="Folder of DICOM patients (CT/MR series + RTSTRUCT)."),
    out: Path = typer.Argument(..., help="New oncoseg dataset folder."),
    roi: str = typer.Option(
        ..., "--roi", help="LABEL=PATTERN[|PATTERN],...: ROI names to labels (fnmatch, any case)."
    ),
    notes: Path = typer.Option(
        None, "--notes", help="Folder of notes named <AccessionNumber>.txt or <PatientID>.txt."
    ),
    task: str = typer.Option("dicom", "--task", help="dataset.json task; case ids TASK_000..."),
    overwrite: bool = typer.Option(False, "--overwrite"),
) -> None:
    """DICOM CT/MR + RTSTRUCT per patient -> NIfTI image, label map and de-identified note.

    Patients that fail are skipped; each patient is named by index and a short hash of its
    PatientID, never by identity; OUT/conversion.json keeps the outcomes. Exit 2 on bad input
    or when no patient converts (then nothing is written).
    """
    from oncoseg.data.dicom_cohort import convert_dicom_cohort
    from oncoseg.data.roi_match import parse_roi_rules

    try:
        rules = parse_roi_rules(roi)
        report = convert_dicom_cohort(
            src, out, rules, notes_dir=notes, task=task, overwrite=overwrite
        )
    except (FileExistsError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    for p in report.patients:
        who = f"patient {p.index} (key {p.key})"
        if p.ok:
            console.print(f"[green]converted[/green] {who} -> {p.case_id}")
        else:
            console.print(f"[yellow]skipped[/yellow] {who}: {escape('; '.join(p.problems))}")
        if p.unmatched:
            names = ", ".join(repr(n) for n in p.unmatched)
            console.print(f"  {who}: unmatched ROI name(s): {escape(names)}")
        for remark in p.remarks:
            console.print(f"  {who}: {escape(remark)}")
    console.print(f"{len(report.converted)} of {len(report.patients)} patients converted")
    typer.echo(str(out))
