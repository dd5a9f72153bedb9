"""``oncoseg pacs``: the department's interfaces (thin wrappers over :mod:`oncoseg.pacs`).

``listen`` receives HL7 v2 notes over MLLP, ``sr`` and ``fhir`` read notes from a DICOM SR
or a FHIR server, ``watch`` segments the studies Orthanc reports stable and stores SEG and
RTSTRUCT back into them. Every note is de-identified before it is stored.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from oncoseg.cli.common import console, refusing

pacs_app = typer.Typer(
    help="Department interfaces: HL7 v2 notes (MLLP), DICOM SR and FHIR notes, the watcher.",
    no_args_is_help=True,
)
STORE = typer.Option(Path("oncoseg-notes"), "--store", help="Note store folder (de-identified).")


@pacs_app.command("listen")
def listen_cmd(
    store: Path = STORE,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback)."),
    port: int = typer.Option(2575, "--port", help="MLLP port."),
    max_bytes: int = typer.Option(1_000_000, "--max-bytes", help="Size cap of one message."),
) -> None:
    """Receive MDM^T02 / ORU^R01 notes over MLLP; answer each with an ACK (AA / AE / AR)."""
    from oncoseg.pacs.mllp import MllpListener
    from oncoseg.pacs.notes_store import NoteStore

    with refusing(OSError, ValueError):
        listener = MllpListener(NoteStore(store), max_bytes=max_bytes)
        try:
            asyncio.run(listener.serve(host, port))
        except KeyboardInterrupt:
            console.print(f"stopped; ACKs sent: {listener.counts}")


@pacs_app.command("sr")
def sr_cmd(
    files: list[Path] = typer.Argument(..., help="DICOM SR files."), store: Path = STORE
) -> None:
    """Store the notes of DICOM SR files (Basic Text / Enhanced / Comprehensive SR)."""
    from oncoseg.pacs.notes_store import NoteStore
    from oncoseg.pacs.sr_note import store_sr_note

    with refusing(OSError, ValueError):
        notes = NoteStore(store)
        for path in files:
            typer.echo(store_sr_note(notes, path).key)


@pacs_app.command("fhir")
def fhir_cmd(
    url: str = typer.Option(..., "--url", help="FHIR R4 base URL."),
    mrn: str = typer.Option(..., "--mrn", help="The patient's identifier (MRN)."),
    system: str = typer.Option("", "--system", help="Identifier system of the MRN."),
    accession: str = typer.Option("", "--accession", help="Only this study's notes."),
    store: Path = STORE,
) -> None:
    """Fetch the patient's DocumentReference notes and store them."""
    from oncoseg.pacs.fhir import FhirError, store_fhir_notes
    from oncoseg.pacs.notes_store import NoteStore

    with refusing(FhirError, OSError, ValueError):
        for record in store_fhir_notes(
            NoteStore(store), url, mrn=mrn, system=system, accession=accession
        ):
            typer.echo(record.key)


@pacs_app.command("watch")
def watch_cmd(
    model: Path = typer.Option(..., "--model", "-m", help="Training run folder."),
    url: str = typer.Option("http://localhost:8042", "--url", help="Orthanc's REST address."),
    store: Path = STORE,
    state: Path = typer.Option(
        Path("oncoseg-watch"), "--state", help="Folder of the journal (SQLite) and status.json."
    ),
    interval: float = typer.Option(2.0, "--interval", help="Seconds between polls."),
    once: bool = typer.Option(False, "--once", help="One poll, then exit."),
    note_timeout: float = typer.Option(
        600.0, "--note-timeout", help="Seconds a study waits for its note."
    ),
    result_to: str = typer.Option(
        "", "--result-to", help="HOST:PORT of an MLLP listener for ORU^R01 results."
    ),
    fhir_url: str = typer.Option("", "--fhir", help="FHIR R4 base URL to ask for notes."),
    fhir_system: str = typer.Option("", "--fhir-system", help="Identifier system of MRNs."),
    user: str = typer.Option(None, "--user", help="HTTP user (password: $ORTHANC_PASSWORD)."),
    checkpoint: str = typer.Option("best"),
    device: str = typer.Option("auto"),
) -> None:
    """Segment each study Orthanc reports stable, once, with its note.

    SEG and RTSTRUCT go back into the study; studies without a note are reported in
    STATE/status.json, never segmented with a guessed note.
    """
    import logging

    from oncoseg.infer import Predictor
    from oncoseg.pacs.journal import Journal
    from oncoseg.pacs.notes_store import NoteStore
    from oncoseg.pacs.orthanc import OrthancError, client_from_env
    from oncoseg.pacs.watcher import DepartmentWatcher, WatchConfig, run_watch

    for noisy in ("highdicom", "httpx"):  # they log UIDs and URLs at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with refusing(OrthancError, OSError, ValueError):
        target = _host_port(result_to) if result_to else None
        config = WatchConfig(
            note_timeout=note_timeout,
            result_to=target,
            fhir_url=fhir_url,
            fhir_system=fhir_system,
            run_name=model.name,
        )
        predictor = Predictor.from_run(model, checkpoint=checkpoint, device=device)
        with client_from_env(url, user) as pacs:
            watcher = DepartmentWatcher(
                pacs,
                predictor,
                NoteStore(store),
                Journal(state / "journal.sqlite"),
                state / "status.json",
                config,
            )
            done = run_watch(watcher, interval=interval, polls=1 if once else None)
        console.print(f"{done} study(ies) segmented; status in {state / 'status.json'}")


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--result-to: expected HOST:PORT, got {text!r}")
    return host, int(port)
