"""The safe-word layer's numbers (text.deid_safe): every chunk that holds a digit is masked
unless its shape or its neighbours say it is clinical (text.deid_vocab.number_is_clinical);
short digit groups beside a masked number are its parts (``0161 446 3 000``); a room, bay or
bed number is a place; initials with dots (``J.R.``) are a name.

Example:
    >>> t = "Ref 88120-4, ER 8/8, 5/14 nodes, 70 Gy. Seen on 3/4."
    >>> [(tag, t[s:e]) for tag, s, e in number_spans(t, [False] * len(t))]
    [('ID', '88120-4'), ('DATE', '3/4')]
"""

from __future__ import annotations

import re

from oncoseg.text.deid_vocab import UNIT_AFTER, is_value_label, number_is_clinical

Span = tuple[str, int, int]  # (tag, start, end)
# a chunk ends at a space, or at "." or "," before a space, the end or a capitalised word
# ("in 1997.Clinic letter" holds the year and a word, not one code)
_CHUNK = re.compile(r"(?:[^\s.,|^~]|[.,](?!\s|$|[A-Z][a-z]))+")  # | ^ ~: HL7 fields
_LEAD = "([{\"'“‘<*•·-–—"
_TRAIL = ")]}\"'”’,;:.!?>*"
_ROOM = re.compile(
    r"\b(?i:bed|bay|room|side[ \t]+room|cubicle|bedspace|flat|apt\.?|apartment)[ \t]*"
    r"(?:no\.?[ \t]*|#[ \t]*)?\d{1,4}[A-Za-z]?\b"
)
_INITIALS = re.compile(r"(?:[A-Z]\.){2,4}")
_SAFE_INITIALS = frozenset(
    re.findall(r"\S+", "U.K. U.S. U.S.A. N.B. P.S. E.G. I.E. A.M. P.M. R.I.P.")
)


def number_spans(text: str, taken: list[bool]) -> list[Span]:
    """Rooms, and every chunk with a digit outside ``taken`` that is not clinical."""
    spans: list[Span] = []
    for m in _ROOM.finditer(text):
        if not any(taken[m.start() : m.end()]) and not UNIT_AFTER.match(text, m.end()):
            spans.append(("LOCATION", *m.span()))
    chunks: list[list] = []  # [start, end, tag or None, free (not found before)]
    for m in _CHUNK.finditer(text):
        s, e = m.span()
        while s < e and text[s] in _LEAD and text[s] != "#":
            s += 1
        while e > s and text[e - 1] in _TRAIL:
            e -= 1
        core = text[s:e]
        if not any(ch.isdigit() for ch in core):
            continue
        if any(taken[s:e]):
            chunks.append([s, e, "taken", False])
            rest = "".join(ch for ch, t in zip(core, taken[s:e], strict=True) if not t)
            if _digits(core) >= 4 and re.search(r"[A-Za-z]", core) or _digits(rest) >= 1:
                spans.append(("ID", s, e))  # the rest of a code found in part: KH/ONC/44127, -4
            continue
        tag = number_is_clinical(core, text[max(0, s - 80) : s], text[e : e + 30])
        chunks.append([s, e, tag, True])
    _spread_numbers(text, chunks)
    spans += [(c[2], c[0], c[1]) for c in chunks if c[2] and c[3]]
    return spans


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _spread_numbers(text: str, chunks: list[list]) -> None:
    """Short digit groups beside a masked number are its parts (``0161 446 3 000``)."""
    changed = True
    while changed:
        changed = False
        for i, c in enumerate(chunks):
            if c[2] not in ("ID", "PHONE", "taken"):
                continue
            for j in (i - 1, i + 1):
                if not 0 <= j < len(chunks) or chunks[j][2] or not chunks[j][3]:
                    continue
                o = chunks[j]
                gap = text[o[1] : c[0]] if j < i else text[c[1] : o[0]]
                part = re.fullmatch(r"\d{1,4}", text[o[0] : o[1]])
                joins = re.fullmatch(r"[ \t]{1,2}|[ \t]?[\-.][ \t]?", gap)
                if part and joins and not UNIT_AFTER.match(text, o[1]):
                    o[2], changed = "ID" if c[2] == "taken" else c[2], True


def initials_spans(text: str, taken: list[bool]) -> list[Span]:
    """Initials with dots (``J.R.``, a couple's ``T.W. and M.W.``), less ``U.K.``-like ones."""
    return [
        ("NAME", *m.span())
        for m in _INITIALS.finditer(text)
        if m.group(0) not in _SAFE_INITIALS
        and not any(taken[m.start() : m.end()])
        and not (m.end() < len(text) and text[m.end()].isalpha())
    ]


_PHONE_RUN = re.compile(
    r"(?<![\w.,/:+\-])(?:\+\d{1,3}[ \t]?)?(?:\(\d{1,5}\)[ \t]?)?\d{1,5}"
    r"(?:(?:[ \t]|[ \t]?[\-–][ \t]?)(?:\(\d{1,5}\)[ \t]?)?\d{1,5}){1,5}"
    r"(?:[ \t]*,?[ \t]*(?i:ext|extn|x|loc|poste|wew|tst|toestel|dw|durchwahl|app|int|ramal|"
    r"anexo|interno)\.?[ \t]*\d{1,6})?(?![\w/]|[.,]?\d)"
)
_SERIES_BEFORE = re.compile(r"(?i:\b(?:days?|cycles?|fractions?|weeks?|levels?|d))[ \t:]*$")
_PHONE_LABEL = re.compile(
    r"(?i:\b(?:tel|t[ée]l|tlf|phone|ph|mob|mobile|cell|contact|fax|landline|bleep|pager|"
    r"telefon|tel[ée]fono|telefone|telefoon|bellen|bereikbaar|numer|nr|no)\b\.?|☎)[ \t:.]*"
    r"(?:\w+[ \t]+)?$"
)


def _series_before(before: str) -> bool:
    """A clinical label or a series' word before a run of pairs: ``HR 88 92 96 90``."""
    return is_value_label(before) or bool(_SERIES_BEFORE.search(before))


def phone_runs(text: str) -> list[tuple[int, int]]:
    """Phone numbers written as groups of digits (``01 46 72 18 40``, ``0 (532) 412 55 66``,
    ``514 890-8000 poste 245``): eight digits or more in three groups or more after a phone
    label, a leading 0, + or bracket, or an extension; ten or more in two groups; four pairs
    of digits or more anywhere but after a clinical label or days (``38 68 41 52``, not ``HR 88
    92 96 90``, ``days 15 16 17 18``)."""
    out = []
    for m in _PHONE_RUN.finditer(text):
        run = m.group(0)
        numbers = re.findall(r"\d+", run)
        digits, groups = _digits(run), len(numbers)
        if not 8 <= digits <= 16 or UNIT_AFTER.match(text, m.end()):
            continue
        label = _PHONE_LABEL.search(text, max(0, m.start() - 24), m.start())
        lead = run[0] in "0+(" or re.search(r"[A-Za-z]", run)
        pairs = groups >= 4 and all(len(g) == 2 for g in numbers)
        pairs = pairs and not _series_before(text[max(0, m.start() - 24) : m.start()])
        if (groups >= 3 and (label or lead)) or (groups == 2 and digits >= 10) or pairs:
            out.append(m.span())
    return out
