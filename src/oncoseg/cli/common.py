"""What the command modules share: the console (stderr), option types, and how bad input
becomes one line and exit code 2.

Every command runs its work inside :func:`refusing`: an error a user can fix (a bad file,
a bad option, a missing folder: :data:`USER_ERRORS`) is printed as one ``error:`` line
that names the file or field, without a traceback, and the command exits with code 2.
``oncoseg --debug CMD`` prints the traceback as well. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from enum import Enum
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True)
# ValueError covers the package's input errors (ImageReadError, NoteFileError,
# DatasetFormatError, ConfigError); OSError covers missing, unreadable or unwritable paths
USER_ERRORS: tuple[type[Exception], ...] = (ValueError, OSError)


class _Options:
    debug = False  # --debug: show the traceback of a refused input


options = _Options()


class Site(str, Enum):
    internal = "internal"
    external = "external"


class NoteStyle(str, Enum):
    prompt = "prompt"
    narrative = "narrative"
    raw = "raw"


def fail(exc: BaseException | str) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr (the traceback too with ``--debug``)
    and exit with code 2."""
    message = str(exc) or type(exc).__name__
    if options.debug and isinstance(exc, BaseException):
        console.print("".join(traceback.format_exception(exc)), markup=False, highlight=False)
    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(2) from (exc if isinstance(exc, BaseException) else None)


@contextlib.contextmanager
def refusing(*errors: type[Exception]) -> Iterator[None]:
    """Turn ``errors`` (default :data:`USER_ERRORS`) raised in the block into :func:`fail`."""
    caught: tuple[type[Exception], ...] = errors or USER_ERRORS
    try:
        yield
    except caught as exc:
        fail(exc)
