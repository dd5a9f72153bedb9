"""Note readers: a task reads a free-text note into the fields its target depends on.

A note-guided model is trained on notes in one canonical form; a reader turns a note written
any way (abbreviations, narrative, plans written as sentences) into the fields the task needs
and that canonical form, so the model sees the note's meaning, and a reviewer sees what was
read. Readers are plug-ins: a task registers one under its name in the ``oncoseg.note_readers``
entry-point group (pyproject.toml), so this layer never imports a task.

Example:
    >>> reading = NoteReading(fields={"side": "left"}, canonical="left side")
    >>> reading.missing(("side", "n_stage"))
    ['n_stage']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import EntryPoint, entry_points

ENTRY_POINT_GROUP = "oncoseg.note_readers"


@dataclass(frozen=True)
class NoteReading:
    """What a reader found in one note.

    ``fields``: field name -> value (only fields the note decides); ``canonical``: the note in
    the form the model was trained on; ``evidence``: field -> the words that decided it (only
    clinical words, never the note around them).
    """

    fields: dict[str, str]
    canonical: str
    evidence: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()  # the fields the task's target depends on
    # label names the note rules out (a target that is not prescribed): the predictor draws
    # none of them, whatever the image suggests (``oncoseg.infer.predictor``)
    absent: tuple[str, ...] = ()
    # the values each field can take, and the canonical note of a set of fields: what a
    # contrastive explanation edits ("if the note said right instead of left"); empty / None:
    # the reader offers no edits
    options: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    render: Callable[[dict[str, str]], str] | None = field(default=None, repr=False)

    def edited(self, name: str, value: str) -> str | None:
        """The canonical note with field ``name`` set to ``value`` (None without ``render``)."""
        return self.render({**self.fields, name: value}) if self.render else None

    def missing(self, required: Sequence[str] | None = None) -> list[str]:
        """The ``required`` fields (default: the reader's own) the note did not decide."""
        return [
            f for f in (self.required if required is None else required) if f not in self.fields
        ]

    def describe(self) -> str:
        """One line for a reviewer: ``side=left, n_stage=N2 (from "pN2a")``."""
        shown = [
            f"{k}={v}" + (f' (from "{self.evidence[k]}")' if k in self.evidence else "")
            for k, v in self.fields.items()
        ]
        missing = self.missing()
        return (
            ", ".join(shown)
            + (f"; not stated: {', '.join(missing)}" if missing else "")
            + (f"; not drawn: {', '.join(self.absent)}" if self.absent else "")
        )


NoteReader = Callable[[str], NoteReading]


@cache
def _registered() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


@cache
def _load(name: str) -> NoteReader:
    reader: NoteReader = _registered()[name].load()  # only the one asked for is imported
    return reader


def get_reader(name: str) -> NoteReader | None:
    """The reader registered as ``name`` (``""``: none, notes pass unchanged)."""
    if not name:
        return None
    readers = _registered()
    if name not in readers:
        raise ValueError(
            f"text.reader: no note reader {name!r} is installed (known: {sorted(readers)}); "
            "reinstall oncoseg (`pip install -e .`) if the entry points are missing"
        )
    return _load(name)


def canonical_notes(reader: NoteReader | None, notes: Sequence[str]) -> list[str]:
    """``notes`` in the reader's canonical form (unchanged without a reader)."""
    if reader is None:
        return list(notes)
    return [reader(n).canonical for n in notes]
