"""``oncoseg deid FILE...``: show what the model will see of each note.

For every file: the note cleaned (text.notes.clean_note) and de-identified (text.deid), then
the number of replacements per tag. A file that is not a readable, non-empty UTF-8 text note
is refused with one line naming it (oncoseg.io.note_file, the rules every note reader
shares); the command then exits with code 2.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "n.txt"
    >>> _ = p.write_text("Seen by Dr Alice Moreau on 03/04/2023. Left breast, T2N1mi.")
    >>> print(render_note(p, read_note(p)))
    == n.txt
    Seen by [NAME] on [DATE]. Left breast, T2N1mi.
    -- replaced: DATE 1, NAME 1
    <BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from oncoseg.io.note_file import NoteFileError
from oncoseg.io.note_file import read_note_file as read_note
from oncoseg.text.deid import deidentify
from oncoseg.text.notes import clean_note


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
