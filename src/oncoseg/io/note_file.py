"""Read a clinical note file, refusing what is not a usable note.

A note must be UTF-8 text (a byte-order mark is allowed), hold no NUL byte (a binary file),
have something besides whitespace, and stay under :data:`MAX_NOTE_BYTES` (a clinical note
is a few kB). Every refusal is a :class:`NoteFileError` whose one-line message names the
file and what was expected; it never quotes the note (notes hold patient identity).
Notes longer than a model reads are cut later, where the model's limit is known
(``oncoseg.text.note_length``).

Used by every reader of user notes: the dataset reader and checker, ``oncoseg predict``,
``oncoseg deid``.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "n.txt"
    >>> _ = p.write_bytes(b"  \\n\\t ")
    >>> read_note_file(p)
    Traceback (most recent call last):
    ...
    oncoseg.io.note_file.NoteFileError: ...n.txt: empty note (only whitespace), expected some text
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_NOTE_BYTES = 1_000_000  # a clinical note is a few kB; anything this big is not one


class NoteFileError(ValueError):
    """A note file that cannot be used; the message names the file and what was expected."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = str(path), reason


def decode_note(data: bytes, source: str | os.PathLike[str]) -> str:
    """The text of a note's bytes, or :class:`NoteFileError` naming ``source``."""
    if len(data) > MAX_NOTE_BYTES:
        raise NoteFileError(source, f"{len(data)} bytes, expected a text note under 1 MB")
    if b"\x00" in data:
        raise NoteFileError(source, "binary file (NUL bytes), expected a UTF-8 text note")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NoteFileError(
            source, f"not UTF-8 text (invalid byte at offset {exc.start}), expected UTF-8"
        ) from exc
    if not text.strip():
        what = "empty file" if not text else "only whitespace"
        raise NoteFileError(source, f"empty note ({what}), expected some text")
    return text


def read_note_file(path: str | os.PathLike[str]) -> str:
    """The text of the note at ``path``; :class:`NoteFileError` when it is not a usable note."""
    p = Path(path)
    if not p.exists():
        raise NoteFileError(p, "file not found, expected a UTF-8 text note")
    if p.is_dir():
        raise NoteFileError(p, "a folder, expected a UTF-8 text note")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise NoteFileError(p, f"cannot read ({exc.strerror or exc})") from exc
    return decode_note(data, p)
