"""The de-identifier's layout layer: what a line is says what its leftover parts are.

A line that holds a phone number or an address part is a contact or address line (a
letterhead's ``Main Road, Observatory, Cape Town 7925   Tel ...``, a patient's ``[street],
Thunder Bay``); so is a line of three parts or more of which two were found whole (an address
block's ``[street], [suburb], Manila``). Its other parts, cut at commas, semicolons, wide gaps
and dashes, are address parts when every word of a part is capitalised and none is a
clinical, department or label word: a street, a suburb or a town that no list knows and whose
words are common English (``Main Road``, ``Observatory``) is still removed. Nothing here names
a place; the line's shape decides. A line with more than two words in lower case is prose,
and a line with a drug's or a disease's name is clinical: neither is such a line.

Example:
    >>> t = "Main Road, Observatory, Cape Town 7925   Tel 021 404 9111"
    >>> [t[s:e] for _, s, e in contact_line_spans(t, [("PHONE", 46, 58)])]
    ['Main Road', 'Observatory', 'Cape Town 7925']
"""

from __future__ import annotations

import re

from oncoseg.text.deid_intl import PHONE_LABEL
from oncoseg.text.deid_months import MONTH_INTL, WEEKDAY_INTL
from oncoseg.text.deid_rules import GENERIC, MONTH, WEEKDAY, place_is_generic
from oncoseg.text.deid_vocab import STOP, is_clinical, is_common, is_medical

Span = tuple[str, int, int]
_PART_GAP = re.compile(r"[ \t]*[,;|][ \t]*|[ \t]{2,}|[ \t]+[-–][ \t]+|[()]")
_TOKEN = re.compile(r"[^\s,;|()]+")
_CAP_WORD = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:['’.\-][A-ZÀ-ÖØ-Þ]?[a-zß-öø-ÿ]+)*\.?")
_NUMBER = re.compile(r"\d[\dA-Z]{0,6}")
_LABEL = re.compile(
    rf"(?:{PHONE_LABEL}|Email|E-mail|Web|Website|Ext|Bleep|Page|Room|Bed|Level|Floor|Suite|"
    rf"Ward|Dr|Prof|Mr|Mrs|Ms|Miss|{MONTH}|{WEEKDAY}|{MONTH_INTL}|{WEEKDAY_INTL})\.?",
)
_TRIGGERS = ("PHONE", "ADDRESS")
_MAX_WORDS = 5


def _masked(text: str, spans: list[Span]) -> list[bool]:
    taken = [False] * len(text)
    for _, s, e in spans:
        taken[s:e] = [True] * (e - s)
    return taken


def _is_address_part(part: str) -> bool:
    """Capitalised words (a number at most after them, a postcode), none of them clinical,
    a label or a department word: ``Observatory``, ``Cape Town 7925``, not ``Breast Unit``."""
    tokens = _TOKEN.findall(part)
    if not tokens or len(tokens) > 5 or ":" in part or "@" in part or "/" in part:
        return False
    words = [t for t in tokens if not _NUMBER.fullmatch(t)]
    if not words or any(_NUMBER.fullmatch(t) for t in tokens[: len(words)]):
        return False  # a number only at the end: "Cape Town 7925", not "Level 2"
    if not all(_CAP_WORD.fullmatch(w) for w in words):
        return False
    if any(_LABEL.fullmatch(w) or w.strip(".") in STOP for w in words):
        return False
    if place_is_generic(" ".join(words)):
        return False
    pieces = [p for w in words for p in w.strip(".").split("-")]
    return not any(is_medical(p) or is_clinical(p) for p in pieces)


def _postcode_after(part: str, cut: str) -> bool:
    """``Cape Town [7925]``, not a label before its number (``File [ID]``, ``Home [PHONE]``)."""
    if len(cut) > 8 or not any(c.isdigit() for c in cut) or " " in cut.strip():
        return False
    words = part.split()
    return len(words) > 1 or not is_common(words[0].lower().strip("."))


def _parts(text: str, start: int, end: int, taken: list[bool]) -> list[tuple[int, int]]:
    """The line's parts, each less its found ends (``Cape Town [7925]``)."""
    out, pos = [], start
    for gap in [*_PART_GAP.finditer(text, start, end), None]:
        a, b = pos, gap.start() if gap else end
        while a < b and text[a].isspace():
            a += 1
        while b > a and (taken[b - 1] or text[b - 1] in " \t."):
            b -= 1
        cut = text[b : gap.start() if gap else end].strip(" \t.")
        if a < b and (not cut or _postcode_after(text[a:b], cut)):
            out.append((a, b))  # a part cut off a found name ("Pat. [NAME]") is none
        pos = gap.end() if gap else end
    return out


def _list_like(text: str, parts: list[tuple[int, int]], taken: list[bool]) -> bool:
    """A letterhead or contact line: short parts, no sentence among them (two words in lower
    case at most on the line: ``at the clinic; will ring`` is prose)."""
    lower = 0
    for a, b in parts:
        free = "".join(" " if taken[i] else text[i] for i in range(a, b))
        tokens = _TOKEN.findall(free)
        lower += sum(t[:1].islower() for t in tokens)
        if len(tokens) > _MAX_WORDS or lower > 2 or any(_clinical_token(t) for t in tokens):
            return False
    return True


def _clinical_token(token: str) -> bool:
    """A drug, disease or clinical word that is no department's (``Herceptin``, not
    ``Oncology``): a line that holds one is clinical, not a contact line."""
    word = token.strip(".'’")
    if not word.isalpha() or word.lower() in GENERIC:
        return False
    return is_clinical(word) or is_medical(word)


def _block_line(text: str, start: int, end: int, taken: list[bool]) -> bool:
    """An address block's line: three parts or more, two of them found whole (``[street],
    [suburb], Manila``)."""
    if re.search(r"[()\[\]:]", text[start:end]):
        return False  # a plain list of parts, no bracket or label
    found = parts = 0
    pos = start
    for gap in [*_PART_GAP.finditer(text, start, end), None]:
        stop = gap.start() if gap else end
        chars = [taken[i] for i in range(pos, stop) if text[i].isalnum()]
        parts += bool(chars)
        found += bool(chars) and all(chars)
        pos = gap.end() if gap else end
    return parts >= 3 and found >= 2


def contact_line_spans(text: str, spans: list[Span]) -> list[Span]:
    """Address parts left on lines that hold a found phone number or address part, or that
    are an address block's line."""
    taken = _masked(text, spans)
    lines = {text.rfind("\n", 0, s) + 1 for tag, s, _ in spans if tag in _TRIGGERS}
    out: list[Span] = []
    for line in re.finditer(r"(?m)^.*$", text):
        start, end = line.span()
        if start not in lines and not _block_line(text, start, end, taken):
            continue
        parts = _parts(text, start, end, taken)
        if not _list_like(text, parts, taken):
            continue
        for a, b in parts:
            if not any(taken[a:b]) and _is_address_part(text[a:b]):
                out.append(("ADDRESS", a, b))
    return out


_LEFTOVER = re.compile(  # 70, 18–20, 2., X4, lgh, th., Str. (no label: Tel, Dr, DOB)
    r"\d+[A-Za-z]?(?:[–\-/]\d+[A-Za-z]?)?\.?|[a-zß-öø-ÿ]{1,4}\.?|[A-Z]\d{1,3}|[A-Z][a-z]{1,3}\."
)
_SPLIT = re.compile(r"[ \t]*,[ \t]*")


def _part_leftovers(text: str, a: int, b: int, taken: list[bool]) -> list[str] | None:
    """The tokens of a part that were not found; None when nothing in it was."""
    if not any(taken[i] for i in range(a, b) if text[i].isalnum()):
        return None
    free = "".join(" " if taken[i] else text[i] for i in range(a, b))
    return free.split()


def address_line_spans(text: str, spans: list[Span]) -> list[Span]:
    """A line of comma parts that each hold a found part, one of them an address or a postcode
    before a found town (``[Ullernchausseen] 70, [0379] [Oslo]``): its house and flat numbers
    and short words left between (``70``, ``2. th.``, ``lgh``) are the address's too."""
    taken = _masked(text, spans)
    tags = {s: tag for tag, s, _ in spans}
    out: list[Span] = []
    for line in re.finditer(r"(?m)^[^\n:]*$", text):
        bounds, pos = [], line.start()
        for gap in [*_SPLIT.finditer(text, line.start(), line.end()), None]:
            bounds.append((pos, gap.start() if gap else line.end()))
            pos = gap.end() if gap else line.end()
        rest = [_part_leftovers(text, a, b, taken) for a, b in bounds]
        if len(bounds) < 2 or any(r is None for r in rest):
            continue
        leftovers = [t for r in rest for t in r or []]
        if not all(_LEFTOVER.fullmatch(t) and not _LABEL.fullmatch(t) for t in leftovers):
            continue
        starts = [s for s in tags if line.start() <= s < line.end()]
        if any(tags[s] == "ADDRESS" for s in starts) or _POSTCODE_TOWN.search(line.group(0)):
            out += [("ADDRESS", a, b) for a, b in bounds if a < b]
    return out


_POSTCODE_TOWN = re.compile(r"\b\d{4,5}[ \t]+[A-ZÀ-ÖØ-Þ]")


_THE_NAME = re.compile(
    r"(?:(?<=[a-z][ \t])|(?<=[—–][ \t]))The[ \t]+"
    r"([A-ZÀ-Þ][a-zß-ÿ'’]+(?:[ \t]+[A-ZÀ-Þ][a-zß-ÿ'’]+){0,3})\b"
)


def the_place_spans(text: str) -> list[Span]:
    """``via The Balfour``, ``NOTE — The Christie``: a capital ``The`` mid-sentence or after a
    dash names a place (a hospital or a hospice known by one word), unless its words are
    clinical, generic or function words."""
    out: list[Span] = []
    for m in _THE_NAME.finditer(text):
        words = m.group(1).split()
        if place_is_generic(m.group(1)) or any(is_clinical(w) or w in STOP for w in words):
            continue
        out.append(("LOCATION", m.start(), m.end()))
    return out
