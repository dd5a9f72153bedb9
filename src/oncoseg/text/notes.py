"""Note cleaning: unicode normalisation, control characters, whitespace, a length limit.

Example:
    >>> clean_note("  Left\\u00a0breast,\\tN1mi\\x07  \\n\\n\\n pT2 ")
    'Left breast, N1mi\\n\\npT2'
"""

from __future__ import annotations

import logging
import re
import unicodedata

log = logging.getLogger(__name__)

MAX_CHARS = 2000  # longer notes are cut with a warning (the LM context is the real limit)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_note(text: str, max_chars: int = MAX_CHARS, case_id: str = "") -> str:
    """Normalise a note for a model: NFKC, no control characters, tidy whitespace.

    Line breaks are kept (at most one blank line in a row); other whitespace runs become
    one space. Notes longer than ``max_chars`` are cut at a word boundary with a warning
    that names the case, never the note's content.
    """
    if not isinstance(text, str):
        raise TypeError(f"note must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = _SPACES.sub(" ", text.replace("\r", "\n"))
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
        log.warning(
            "note%s longer than %d characters was truncated",
            f" of case {case_id}" if case_id else "",
            max_chars,
        )
    return text
