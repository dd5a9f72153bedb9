"""Split a note into clauses with their character offsets, and neutralise one at a time.

A clause is a run of text ended by a sentence end (``.``, ``!``, ``?`` followed by a space
or the end), a semicolon, or a comma followed by a space, outside parentheses: the units a
clinician reads as one statement ("N2", "total mastectomy", "left side"). Decimal points
("1.9 mm"), ratios ("4/9") and abbreviations with slashes ("s/p") do not split. Offsets
index the text given (the de-identified note), so a page can shade exactly those
characters.

Two ways to take a clause out of a note (:func:`neutralise`):

- ``remove``: cut the clause and the delimiter before it (after it, for the first clause);
  the rest of the note closes up.
- ``filler``: replace the clause's words by as many filler words as the clause has words
  (``"unknown"`` by default), keeping every delimiter: the note keeps its shape, and an
  encoder whose states are read by token position (the cached LM path keeps the states of
  the note's first tokens per position) sees the other clauses where it saw them before.

Example:
    >>> cs = split_clauses("N2, total mastectomy, left side")
    >>> [(c.text, c.start, c.end) for c in cs]
    [('N2', 0, 2), ('total mastectomy', 4, 20), ('left side', 22, 31)]
    >>> neutralise("N2, total mastectomy, left side", cs, 2, "remove")
    'N2, total mastectomy'
    >>> neutralise("N2, total mastectomy, left side", cs, 1, "filler")
    'N2, unknown unknown, left side'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MODES = ("remove", "filler")
FILLER = "unknown"
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Clause:
    """One clause: ``text == note[start:end]`` (no surrounding space or delimiter)."""

    index: int
    start: int
    end: int
    text: str


def _cut_points(note: str) -> list[int]:
    """Indices just after each delimiter that ends a clause."""
    cuts, depth = [], 0
    for i, ch in enumerate(note):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0:
            nxt = note[i + 1] if i + 1 < len(note) else " "
            if ch == ";" or (ch in ".!?," and nxt.isspace()):
                cuts.append(i + 1)
    return cuts


def split_clauses(note: str) -> list[Clause]:
    """The note's clauses in order; a note without delimiters is one clause."""
    clauses: list[Clause] = []
    prev = 0
    for cut in [*_cut_points(note), len(note)]:
        seg = note[prev:cut]
        body = seg.strip()
        if body[-1:] in (".", ",", ";", "!", "?"):
            body = body[:-1].rstrip()
        if body:
            start = prev + seg.index(body)
            clauses.append(Clause(len(clauses), start, start + len(body), body))
        prev = cut
    return clauses


def neutralise(note: str, clauses: Sequence[Clause], index: int, mode: str) -> str:
    """``note`` with clause ``index`` taken out (``mode`` ``remove``) or its words replaced
    by :data:`FILLER` (``mode`` ``filler``)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    c = clauses[index]
    if mode == "filler":
        words = len(_WORD.findall(c.text))
        return note[: c.start] + " ".join([FILLER] * words) + note[c.end :]
    if index > 0:  # from the previous clause's end: its delimiter goes, this one's stays
        return (note[: clauses[index - 1].end] + note[c.end :]).strip()
    if len(clauses) > 1:  # the first clause: up to the next one
        return note[clauses[1].start :].strip()
    return ""
