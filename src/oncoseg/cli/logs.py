"""Logging at the command line, and Python warnings routed into it (never raw onto the
terminal).

Libraries warn about their own future (transformers' ``past_key_values``, MONAI's
deprecations): nothing a user of ``oncoseg predict`` or ``oncoseg demo`` can act on.
FutureWarning, DeprecationWarning and PendingDeprecationWarning go to the debug log
(``oncoseg -v`` shows them); any other warning becomes one WARNING log line.
"""

from __future__ import annotations

import logging
import warnings
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

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )


def route_warnings() -> None:
    """Send every Python warning through :mod:`logging` (see the module docstring)."""
    for category in QUIET:
        warnings.filterwarnings("default", category=category)  # once per place, not hidden
    shown: Any = _show
    warnings.showwarning = shown
