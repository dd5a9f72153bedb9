"""Cut a note to what a text encoder reads, with a warning that names the note's file.

An encoder keeps the first ``max_tokens`` tokens of a note (after cleaning and
de-identification) and drops the rest with a warning it cannot attribute: it never sees
file names. Entry points that know the file call :func:`fit_note` first: the note is cut
after its last whole word that fits, and the warning names the file and the counts, never
the note's words (notes hold patient identity).

Example:
    >>> class Words:  # a tokenizer: one token per word
    ...     def __call__(self, text, add_special_tokens=False):
    ...         return {"input_ids": text.split()}
    >>> class Encoder:
    ...     tokenizer, max_tokens, deid = Words(), 3, False
    >>> fit_note(Encoder(), "left breast, N1 after surgery", "note.txt")
    'left breast, N1'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from oncoseg.text.encoders import prepare_note

log = logging.getLogger(__name__)
_WORD_ENDS = re.compile(r"\S+")


def _counter(encoder: Any) -> tuple[Callable[[str], int], int] | None:
    """``(tokens of a raw note as the encoder counts them, the most it reads)``, or ``None``
    for an encoder without a tokenizer or a limit. An encoder that knows a note's count
    from its cache (``token_count``) is asked first: then neither its tokenizer nor its
    model has to load for a note it has read before."""
    # a lazy encoder's tokenizer is a property that loads it: look, do not touch
    lazy = getattr(type(encoder), "tokenizer", None)
    if lazy is None and getattr(encoder, "__dict__", {}).get("tokenizer") is None:
        return None
    config = getattr(encoder, "config", None)
    limit = getattr(config, "max_tokens", None) or getattr(encoder, "max_tokens", None)
    if not isinstance(limit, int):
        return None
    specials = config is None  # SentenceEncoder counts [CLS]/[SEP]; the LM encoders do not
    deid = bool(getattr(encoder, "deid", True))
    known = getattr(encoder, "token_count", None)

    def count(text: str) -> int:
        prepared = prepare_note(text, deid)
        if known is not None and (n := known(prepared)) is not None:
            return int(n)
        return len(encoder.tokenizer(prepared, add_special_tokens=specials)["input_ids"])

    return count, limit


def fit_note(encoder: Any, note: str, source: str) -> str:
    """``note`` unchanged when ``encoder`` reads all of it, else cut after its last whole
    word that fits, with one warning naming ``source`` (never quoting the note)."""
    counter = _counter(encoder)
    if counter is None or not note.strip():
        return note
    count, limit = counter
    total = count(note)
    if total <= limit:
        return note
    ends = [m.end() for m in _WORD_ENDS.finditer(note)]
    lo, hi = 0, len(ends)  # the first lo words fit; the first hi + 1 do not
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(note[: ends[mid - 1]]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    log.warning(
        "%s: note of %d tokens is longer than the %d the model reads; its first %d of %d "
        "words are used",
        source,
        total,
        limit,
        lo,
        len(ends),
    )
    return note[: ends[lo - 1]] if lo else ""
