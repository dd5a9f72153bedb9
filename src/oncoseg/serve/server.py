"""Running the service: the app for a training run, uvicorn in the foreground or on a thread.

``oncoseg serve`` calls :func:`app_for_run` then :func:`serve_forever`; tests and scripts use
:class:`BackgroundServer`, which binds a free loopback port itself (no race for the port).

Example:
    >>> with BackgroundServer(app) as server:  # doctest: +SKIP
    ...     requests.get(server.url + "/healthz").json()["status"]
    'ok'
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from oncoseg.infer import Predictor, describe
from oncoseg.serve.app import create_app

log = logging.getLogger(__name__)


def read_token(path: str | os.PathLike[str]) -> str:
    """The bearer token in ``path`` (first line, stripped); ValueError naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p}: cannot read the token file ({exc})") from exc
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(token) < 16:
        raise ValueError(f"{p}: expected a token of at least 16 characters on its first line")
    return token


def app_for_run(
    run_dir: Path,
    data_dir: Path,
    *,
    max_upload_mb: int = 512,
    max_queue: int = 16,
    token_file: Path | None = None,
    device: str = "auto",
) -> FastAPI:
    """Load the run's model once and build the service around it."""
    if max_upload_mb < 1:
        raise ValueError(f"--max-upload-mb: expected at least 1, got {max_upload_mb}")
    if max_queue < 1:
        raise ValueError(f"--max-queue: expected at least 1, got {max_queue}")
    token = read_token(token_file) if token_file is not None else None
    predictor = Predictor.from_run(run_dir, device=device)
    info = {"run": Path(run_dir).name, **describe(predictor), "labels": predictor.plan.labels}
    return create_app(
        predictor,
        data_dir,
        model_info=info,
        max_upload_bytes=max_upload_mb * 2**20,
        max_queue=max_queue,
        token=token,
        run_name=Path(run_dir).name,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_forever(app: FastAPI, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run uvicorn until interrupted (Ctrl-C or SIGTERM stop it cleanly)."""
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=True)


class BackgroundServer:
    """uvicorn serving ``app`` on a free loopback port, on a thread; a context manager."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", start_timeout: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.start_timeout = start_timeout

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(60)
        self.sock.close()
