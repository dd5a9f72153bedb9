"""What the command modules share: the console (stderr) and option types."""

from __future__ import annotations

from enum import Enum

from rich.console import Console

console = Console(stderr=True)


class Site(str, Enum):
    internal = "internal"
    external = "external"


class NoteStyle(str, Enum):
    prompt = "prompt"
    narrative = "narrative"
    raw = "raw"
