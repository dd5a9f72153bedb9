"""Logging at the command line, and Python warnings routed into it (never raw onto the
terminal).

Libraries warn about their own future (transformers' ``past_key_values``, MONAI's
deprecations): nothing a user of ``oncoseg predict`` or ``oncoseg demo`` can act on.
FutureWarning, DeprecationWarning and PendingDeprecationWarning go to the debug log
(``oncoseg -v`` shows them on the terminal); any other warning becomes one WARNING log line.
Commands that make a run folder (``train``, ``experiment``) also keep a log file there
(:func:`run_log`) with every record, those debug-level warnings included; it is written
only once the folder exists, so a refused run leaves no folder behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

log = logging.getLogger("py.warnings")
QUIET = (FutureWarning, DeprecationWarning, PendingDeprecationWarning)


def _show(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    level = logging.DEBUG if issubclass(category, QUIET) else logging.WARNING
    log.log(level, "%s (%s, %s:%d)", message, category.__name__, filename, lineno)


def setup_logging(verbose: bool, console: Any) -> None:
    """Log records as rich lines on ``console`` (stderr); DEBUG with ``verbose``."""
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else logging.INFO
    terminal = RichHandler(console=console, show_path=False, level=level)
    logging.basicConfig(level=level, format="%(message)s", handlers=[terminal])


def route_warnings() -> None:
    """Send every Python warning through :mod:`logging` (see the module docstring)."""
    for category in QUIET:
        warnings.filterwarnings("default", category=category)  # once per place, not hidden
    shown: Any = _show
    warnings.showwarning = shown


class RunLogHandler(logging.Handler):
    """Appends records to ``path``; holds them in memory while its folder does not exist."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.DEBUG)
        self.path, self.pending = path, list[str]()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.pending.append(self.format(record))
            self.flush()
        except Exception:  # logging never raises into the program
            self.handleError(record)

    def flush(self) -> None:
        if self.pending and self.path.parent.is_dir():
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(self.pending) + "\n")
            self.pending.clear()

    def close(self) -> None:
        self.flush()
        super().close()


@contextlib.contextmanager
def run_log(path: Path) -> Iterator[None]:
    """Log every record of the block, library warnings included, to ``path`` (the run
    folder's log file); only rank 0 writes under ``torchrun``."""
    if os.environ.get("RANK", "0") != "0":
        yield
        return
    handler, root, level = RunLogHandler(path), logging.getLogger(), log.level
    root.addHandler(handler)
    log.setLevel(logging.DEBUG)  # quiet warnings reach the file, not the terminal
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        log.setLevel(level)
