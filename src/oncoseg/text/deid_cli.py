"""``oncoseg deid FILE...``: show what the model will see of each note.

For every file: the note cleaned (text.notes.clean_note) and de-identified (text.deid), then
the number of replacements per tag. A file that is not a readable, non-empty UTF-8 text note
is refused with one line naming it; the command then exits with code 2.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "n.txt"
    >>> _ = p.write_text("Seen by Dr Alice Moreau on 03/04/2023. Left breast, T2N1mi.")
    >>> print(render_note(p, read_note(p)))
    == n.txt
    Seen by Dr [NAME] on [DATE]. Left breast, T2N1mi.
    -- replaced: DATE 1, NAME 1
    <BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from oncoseg.text.deid import deidentify
from oncoseg.text.notes import clean_note

MAX_NOTE_BYTES = 1_000_000  # a clinical note is a few kB; anything this big is not one


class NoteFileError(ValueError):
    """A note file that cannot be used; the message names the file and what was expected."""


def read_note(path: Path) -> str:
    """The text of a note file, or ``NoteFileError`` naming the file and the problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NoteFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > MAX_NOTE_BYTES:
        raise NoteFileError(f"{path}: {len(data)} bytes, expected a text note under 1 MB")
    if b"\x00" in data:
        raise NoteFileError(f"{path}: binary file (NUL bytes), expected a UTF-8 text note")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NoteFileError(
            f"{path}: not UTF-8 text (invalid byte at offset {exc.start}), expected UTF-8"
        ) from exc
    if not text.strip():
        raise NoteFileError(f"{path}: empty note, expected some text")
    return text


def render_note(path: Path, text: str) -> str:
    """The block printed for one note: its name, the model's view, replacements per tag."""
    result = deidentify(clean_note(text, case_id=path.name))
    counts = result.counts()
    summary = ", ".join(f"{tag} {counts[tag]}" for tag in sorted(counts)) or "none"
    return f"== {path.name}\n{result.text}\n-- replaced: {summary}\n"


def deid_files(
    paths: Sequence[Path], out: Callable[[str], None], err: Callable[[str], None]
) -> int:
    """Print every readable note through ``out``, one line per refused file through ``err``.

    Returns:
        the exit code: 0 when every file was shown, 2 when any was refused.
    """
    code = 0
    for path in paths:
        try:
            out(render_note(path, read_note(path)))
        except NoteFileError as exc:
            err(f"error: {exc}")
            code = 2
    return code
