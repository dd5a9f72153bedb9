"""``oncoseg orthanc``: the PACS bridge (a thin wrapper over :mod:`oncoseg.pacs.orthanc`)."""

from __future__ import annotations

from pathlib import Path

import typer

from oncoseg.cli.common import console

orthanc_app = typer.Typer(
    help="Segment studies stored in an Orthanc PACS; SEG + RTSTRUCT go back into the study.",
    no_args_is_help=True,
)


def _check_args(study: str | None, note: Path | None, watch: bool, notes_dir: Path | None) -> None:
    if watch:
        if study is not None or note is not None:
            raise ValueError("--watch takes notes from --notes-dir; leave out --study and --note")
        if notes_dir is None or not notes_dir.is_dir():
            raise ValueError(f"--watch needs --notes-dir DIR (a folder), got {notes_dir}")
    elif study is None:
        raise ValueError("pass --study STUDY_UID (with --note FILE), or --watch --notes-dir DIR")


@orthanc_app.command("segment")
def segment_cmd(
    url: str = typer.Option("http://localhost:8042", "--url", help="Orthanc's REST address."),
    model: Path = typer.Option(..., "--model", "-m", help="Training run folder."),
    study: str = typer.Option(None, "--study", help="Study Instance UID to segment."),
    note: Path = typer.Option(None, "--note", "-n", help="Clinical note (UTF-8) of --study."),
    series: str = typer.Option(None, "--series", help="Series UID, for a study with several."),
    watch: bool = typer.Option(False, "--watch", help="Poll Orthanc for new stable studies."),
    notes_dir: Path = typer.Option(
        None, "--notes-dir", help="With --watch: notes named <AccessionNumber>.txt."
    ),
    state: Path = typer.Option(
        Path("orthanc-state.json"), "--state", help="With --watch: studies already handled."
    ),
    interval: float = typer.Option(10.0, "--interval", help="With --watch: seconds between polls."),
    once: bool = typer.Option(False, "--once", help="With --watch: one poll, then exit."),
    user: str = typer.Option(None, "--user", help="HTTP user (password: $ORTHANC_PASSWORD)."),
    checkpoint: str = typer.Option("best"),
    device: str = typer.Option("auto"),
) -> None:
    """Pull a study's CT/MR series, segment it, store SEG and RTSTRUCT in the same study."""
    from oncoseg.infer import Predictor
    from oncoseg.pacs.orthanc import (
        OrthancError,
        Watcher,
        client_from_env,
        segment_study,
    )
    from oncoseg.pacs.orthanc import watch as watch_loop

    try:
        _check_args(study, note, watch, notes_dir)
        text = note.read_text(encoding="utf-8") if note is not None else ""
        predictor = Predictor.from_run(model, checkpoint=checkpoint, device=device)
        if predictor.uses_text and not watch and not text.strip():
            raise ValueError("this model reads the clinical note: pass --note FILE")
        with client_from_env(url, user) as pacs:
            if watch:
                watcher = Watcher(pacs, predictor, notes_dir, state, run_name=model.name)
                handled = watch_loop(watcher, interval=interval, polls=1 if once else None)
                console.print(f"{handled} study(ies) handled; state in {state}")
                return
            ids = segment_study(
                pacs, study, text, predictor, run_name=model.name, series_uid=series
            )
    except (OrthancError, FileNotFoundError, ValueError, UnicodeDecodeError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    for instance in ids:
        typer.echo(instance)
