"""``oncoseg serve``: the review service (FastAPI + uvicorn) around one trained run."""

from __future__ import annotations

from pathlib import Path

import typer

from oncoseg.cli.common import console


def serve_cmd(
    model: Path = typer.Option(..., "--model", "-m", help="Training run folder."),
    host: str = typer.Option("127.0.0.1", help="Address to bind (loopback unless told)."),
    port: int = typer.Option(8000, help="TCP port."),
    max_upload_mb: int = typer.Option(512, help="Request bodies over this get 413."),
    max_queue: int = typer.Option(16, help="Jobs that may wait; one more gets 503."),
    token_file: Path = typer.Option(
        None, help="File whose first line is the bearer token every /api call must send."
    ),
    data: Path = typer.Option(Path("serve-data"), help="Where cases and results persist."),
    device: str = typer.Option("auto"),
) -> None:
    """Serve the review page and the API: upload a case, segment it, edit the note, re-contour."""
    from oncoseg.infer.config import ConfigError
    from oncoseg.serve.server import app_for_run, is_loopback, serve_forever

    try:
        app = app_for_run(
            model,
            data,
            max_upload_mb=max_upload_mb,
            max_queue=max_queue,
            token_file=token_file,
            device=device,
        )
    except (ConfigError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if not is_loopback(host) and token_file is None:
        console.print(
            f"[yellow]warning:[/yellow] serving on {host} without --token-file: anyone who "
            "reaches this address can upload cases and read results"
        )
    console.print(f"review page: http://{host}:{port}/  (data: {data})")
    serve_forever(app, host, port)
