"""The de-identifier's last layer: fields found by their label, and every found identifier
grown to its whole extent.

An identifier scored as removed must lose every letter and digit; a rule or the safe-word
layer often finds its core and leaves a part that is safe on its own: the prefix of a record
number (``RMH 1102934``), the district after a town (``Dublin 4``), the town after a street
(``Elm Park, Dublin 4``), the acronym of a hospital (``UMC Utrecht``), a particle or a first
part of a name (``Joost van der Linden``, ``ROSE-MARIE BAKER``, ``K. Murugesan``), the weekday
before a date (``Mi, 10.07.24``). Here each found span takes those neighbours, by their shape,
never by a list of the places or names themselves. Fields labelled as an address in any of
several languages (``Endereço:``, ``wohnhaft``, ``Lives at``) are removed whole.

Example:
    >>> t = "Hosp no RMH 1102934, seen at UMC Utrecht, Elm Park, Dublin 4."
    >>> [t[s:e] for _, s, e in extend_spans(t, [("ID", 12, 19), ("ADDRESS", 33, 40)])]
    ['RMH 1102934', 'UMC Utrecht, Elm Park, Dublin 4']
"""

from __future__ import annotations

import re

from oncoseg.text.deid_intl import (
    ADDRESS_LABEL,
    CAPW,
    GENERIC_INTL,
    PHONE_LABEL,
    PLACE_JOIN,
    PROVINCES,
)
from oncoseg.text.deid_months import MONTH_INTL, WEEKDAY_INTL, WEEKDAY_SHORT
from oncoseg.text.deid_rules import GENERIC, MONTH, WEEKDAY
from oncoseg.text.deid_vocab import STOP, UNIT_AFTER, is_clinical, is_common

Span = tuple[str, int, int]
PLACES = ("LOCATION", "ADDRESS")

# words that label a record number: a prefix like these is kept, any other is the number's
ID_LABELS = frozenset(
    re.findall(
        r"\S+",
        """
    MRN NHS URN UR CHI NHC SIP CIP CPF RG RGH SUS PESEL BSN RAMQ OHIP PHN UHID PPSN IPP NIR
    NIP NISS AHV AVS CF NSS DNI NIE CURP RUT ID SSN DOB IP CR OPD MR HC EHR EMR NO NR REF TEL
    FAX MOB PH""",
    )
)
_FIELD_END = (
    rf"(?=[ \t]{{2,}}|[ \t]*$|[ \t]*[;|]|[ \t]*,?[ \t]+(?:{PHONE_LABEL}|DOB|MRN|NHS|Email|"
    r"E-mail)\b)"
)
_ADDRESS_FIELD = re.compile(
    rf"(?m)\b{ADDRESS_LABEL}[ \t]*:[ \t]*(?:\n[ \t]*)?(\S[^\n]*?){_FIELD_END}"
)
_ADDRESS_PROSE = re.compile(
    r"\b(?:wohnhaft(?:[ \t]+in)?|wonende(?:[ \t]+(?:aan|te))?|woonachtig(?:[ \t]+(?:aan|te))?|"
    r"residente[ \t]+(?:in|a)|domicilié(?:e)?[ \t]+(?:à|au)|demeurant(?:[ \t]+à)?|"
    r"(?i:lives|living|resides|residing|resident)[ \t]+at|Village|P\.O\.|nat[ao][ \t]+a|"
    r"née?[ \t]+à|(?i:home[ \t]+community)|natural[ \t]+de|nacid[oa][ \t]+en|geboren[ \t]+in)"
    r"[ \t]*:?[ \t]*\n?[ \t]*(?=[A-ZÀ-Þ\d])"
)
_TOKEN = re.compile(
    rf"(?:{CAPW}|\d[\dA-Za-z]{{0,7}}(?:[/\-][\dA-Za-z]{{1,4}})*|[A-Z]{{1,3}}\d[\dA-Z]*|"
    rf"[A-Z]{{2,3}}|\({CAPW}\)|(?:apto|app|apt|no|nr)\.?|P\.O\.)(?![\w'’])"
)
_TOKEN_GAP = re.compile(rf"(?:[ \t](?![ \t])|[ \t]?\.[ \t]?(?=\d))(?:{PLACE_JOIN}[ \t])*")
_SEGMENT_GAP = re.compile(r"[ \t]*,[ \t]*|[ \t]+[-–][ \t]+")
_NOT_PLACE = re.compile(
    rf"(?:{MONTH}|{WEEKDAY}|{MONTH_INTL}|{WEEKDAY_INTL}|Stage|Grade|Cycle|Day|Week|Plan|"
    r"Dose|Fractions?|Level|Type|Tel|Phone|Fax|Email|Mob|Mobile|Ref|Room|Bed|Bay)"
)


def _segment(text: str, pos: int) -> tuple[int, list[str]]:
    """The end of the place-like tokens from ``pos`` on one line, and their words; a date,
    clinical or field word ends them (``Tel HaShomer March 5``: the place is two words)."""
    end, words = pos, list[str]()
    m = _TOKEN.match(text, pos)
    while m:
        if words and _word_kind(m.group(0)) == "no":
            return end, words
        end = m.end()
        words.append(m.group(0))
        gap = _TOKEN_GAP.match(text, end)
        m = _TOKEN.match(text, gap.end()) if gap else None
    return end, words


def _word_kind(w: str) -> str:
    """``place`` (a name), ``common`` (a word that could be one), ``code``, ``no``."""
    if w[0].isdigit() or re.fullmatch(r"[A-Z]{1,3}\d[\dA-Z]*|\(.*\)|P\.O\.", w):
        return "code"
    if re.fullmatch(r"[A-Z]{2,3}", w):
        return "code" if re.fullmatch(PROVINCES, w) or w.isupper() and not is_clinical(w) else "no"
    base = re.sub(r"['’]s$", "", w)
    if re.fullmatch(_NOT_PLACE, base) or base in STOP or is_clinical(base):
        return "no" if base.lower() not in ("st", "saint") else "common"
    low = base.lower()
    if low in GENERIC or low in GENERIC_INTL:
        return "generic"
    return "common" if is_common(low) else "place"


def _part(text: str, start: int, strict: bool) -> tuple[int, bool]:
    """The end of one place part at ``start`` (``start`` when there is none) and whether it
    holds only common words (then the part after it decides)."""
    seg_end, words = _segment(text, start)
    kinds = [_word_kind(w) for w in words]
    if len(words) > 1 and words[0] == "Tel" and words[1][0].isupper():
        kinds[0] = "place"  # Tel Aviv, Tel HaShomer (not "Tel 0161 ...")
    if not words or "no" in kinds:
        return start, False
    known = "place" in kinds or all(k == "code" for k in kinds)
    common = all(k == "common" for k in kinds)
    if strict and not (known or common):
        return start, False
    return seg_end, strict and common and not known


def place_run(text: str, pos: int, *, strict: bool) -> int:
    """The end of the comma-separated place parts that start at ``pos`` (``Elm Park, Dublin
    4``); ``pos`` when there is none. ``strict``: a part must hold a word no list knows (or
    be a code or number); a part of common words only is taken at the line's end or before
    such a part. Otherwise any part without a clinical, date or field word is taken (after a
    label that says an address follows)."""
    end = start = pos
    while True:
        seg_end, common = _part(text, start, strict)
        if seg_end == start:
            return end
        if common:
            at_line_end = re.match(r"[ \t]*(?:[.;]?[ \t]*$|\n)", text[seg_end:])
            if at_line_end:
                end = seg_end
        else:
            end = seg_end
        gap = _SEGMENT_GAP.match(text, seg_end)
        if not gap:
            return end
        start = gap.end()


def field_spans(text: str) -> list[Span]:
    """Addresses announced by a label: a field (``Endereço: ...``) to its end, a phrase
    (``wohnhaft Bergstraße 7, 69120 Heidelberg``) over its place-like parts."""
    out = [("ADDRESS", *m.span(1)) for m in _ADDRESS_FIELD.finditer(text)]
    for m in _ADDRESS_PROSE.finditer(text):
        end = place_run(text, m.end(), strict=False)
        if end > m.end():
            out.append(("ADDRESS", m.end(), end))
    return out


_PARTICLE = (
    r"(?:de|da|di|du|del|della|dos|das|do|van|von|der|den|la|le|ter|ten|te|['’]t|op|het|y|i|e|"
    r"bin|binti|ibn|al|el|ben|zu|ap|Mac|Ní|Nic|Ó|Uí)"
)
_INITIALS_BEFORE = re.compile(r"(?:\b[A-Z]\.[ \t]*){1,3}$")
_HYPHEN_BEFORE = re.compile(r"\b[A-ZÀ-ÖØ-Þ][^\W\d_]*-$")
_INITIAL_AFTER = re.compile(r"[ \t]+[A-Z]\b(?![\w.'’\-]|[ \t]+[a-z])")  # HOLLOWAY, Margaret A
_HYPHEN_AFTER = re.compile(r"-(?:[A-ZÀ-ÖØ-Þ][^\W\d_]*|[a-z]{2,5})\b(?!-)")  # Tai-man
_PARTICLES_AFTER = re.compile(
    rf"(?:[ \t]+(?:{_PARTICLE}|[sdwcSDWC]/[oO]))+[ \t]+[A-ZÀ-ÖØ-Þ][\w'’\-]*"
)  # "van der Linden", "Ravindran s/o Muthu"
_WORD_BEFORE = re.compile(r"(?:\b(?:[A-Z]\.){1,4}|(\S+)[ \t]+)$")
_AND_POSSESSIVE = re.compile(
    r"[ \t]+(?:and|&)[ \t]+[A-Z][a-z]+['’]s\b(?:[ \t]+(?:Hospital|Health|Cent(?:re|er)))?"
)
_DIRECTION = re.compile(
    r"[ \t]+(?:East|West|North|South|Central|Complex|Campus|General|[NSEW]{1,2}\b(?![.'’]))\b"
)  # Hospital East, ... Hospitals Complex, Airedale General, 1515 Centre St N
_FACILITY_END = re.compile(
    r"(?:Hospitals?|Cent(?:re|er)|Institute|Clinic|Unit|Trust|Foundation|Hospice|Infirmary|"
    r"Memorial|Complex|College|University)$"
)
_GENERIC_WORD = (
    r"(?:NHS|National|Regional|University|Teaching|District|General|Community|Cancer|Health|"
    r"Care|Foundation|Oncology|Specialist|Acute|Clinical|Day|Surgical|Medical|Haematology|"
    r"Chemotherapy|Infusion|Treatment|Assessment)"
)
_GENERIC_TAIL = re.compile(  # "[Queen Eleanor] University Hospitals NHS Foundation Trust"
    rf"(?:[ \t]+{_GENERIC_WORD}){{0,4}}[ \t]+(?:Trust|Program|Programme|Network|Board|"
    r"Hospitals|Partnership|Alliance|Ward|Unit|Suite|Wing|Room)\b"
)
_OF_WHAT = re.compile(
    r"[ \t]+(?:of|for)[ \t]+(?:the[ \t]+)?[A-Z][a-z]+(?:['’]s)?"
    r"(?:[ \t]+(?:(?:and|&)[ \t]+)?[A-Z][a-z]+(?:['’]s)?){0,3}"
)  # Institute of Oncology, Centre for Cancer Care, Hospital for Sick Children
_PAREN_AFTER = re.compile(r"[ \t]*\([A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+){0,2}\)")
_NUMBER_AFTER = re.compile(r"[ \t]+\d{1,3}[A-Z]?\b(?![./:]\d)")
_SLASH_ACRONYM = re.compile(r"[ \t]*/[ \t]*([A-Z]{2,6})\b")
_DATE_BEFORE = re.compile(
    rf"(?:\b(?:{WEEKDAY}|{WEEKDAY_INTL}|{WEEKDAY_SHORT})\.?,?[ \t]+)?(?:\b[Ll]e[ \t]+)?$"
)
_TIME_AFTER = re.compile(r"(?:[ \t]+|T)\d{1,2}:\d{2}(?::\d{2})?\b")  # 2024-02-03 10:42
_ID_PREFIX = re.compile(r"\b([A-Z]{2,5})[ \t]$")
_ID_SUFFIX = re.compile(r"-[A-Z\d]{1,4}\b|[ \t]\d{1,4}(?:-\d{1,3})?\b(?![./:]\d)")


def is_place_acronym(w: str) -> bool:
    """``UMC``, ``LUTH``: capitals that are no clinical abbreviation, label or numeral."""
    return (
        bool(re.fullmatch(r"[A-Z]{2,6}", w))
        and not is_clinical(w)
        and w not in ID_LABELS
        and w.capitalize() not in STOP
        and not re.fullmatch(r"[IVXLC]+", w)
    )


def _place_start(text: str, s: int) -> int:
    """Left over a hospital's acronym and generic words: ``BC Cancer [Vancouver]``."""
    line = text.rfind("\n", 0, s) + 1
    start = s
    while True:
        m = _WORD_BEFORE.search(text, line, start)
        if not m:
            return start
        w = m.group(1)
        if w is None:  # "A.C." right before "Camargo"
            start = m.start()
            continue
        base = re.sub(r"['’]s$", "", w)
        generic = base.lower() in GENERIC and base[:1].isupper() and base.lower() != "the"
        if not (is_place_acronym(base) or generic or base in ("St", "St.", "Saint", "Royal")):
            return start
        start = m.start()


def _place_end(text: str, e: int) -> int:
    """Right over ``and Women's``, ``East``, a district number, ``/ NKI`` and the comma-
    separated parts of the place that follow it (``, Elm Park, Dublin 4``)."""
    while True:
        new = e
        for pattern in (_AND_POSSESSIVE, _DIRECTION):
            m = pattern.match(text, new)
            new = m.end() if m else new
        m = _OF_WHAT.match(text, new) if _FACILITY_END.search(text, 0, new) else None
        new = m.end() if m else new
        m = _GENERIC_TAIL.match(text, new)
        new = m.end() if m else new
        m = _PAREN_AFTER.match(text, new)  # Ward 5 (Female Surgical)
        new = m.end() if m else new
        m = _NUMBER_AFTER.match(text, new)
        if m and not UNIT_AFTER.match(text, m.end()):
            new = m.end()
        m = _SLASH_ACRONYM.match(text, new)
        if m and is_place_acronym(m.group(1)):
            new = m.end()
        gap = _SEGMENT_GAP.match(text, new)
        run = place_run(text, gap.end(), strict=True) if gap else 0
        new = run if gap and run > gap.end() else new
        if new == e:
            return e
        e = new


def _name_span(text: str, s: int, e: int) -> tuple[int, int]:
    """A name with its initials, its hyphenated part, its particles and what follows them."""
    for pattern in (_INITIALS_BEFORE, _HYPHEN_BEFORE):
        m = pattern.search(text, max(0, s - 30), s)
        if m and not is_clinical(m.group(0).strip(" .-")):
            s = m.start()
    for pattern in (_HYPHEN_AFTER, _PARTICLES_AFTER, _INITIAL_AFTER):
        m = pattern.match(text, e)
        if m and not is_clinical(m.group(0).split()[-1].strip("-")):
            e = m.end()
    return s, e


_ROOM_AFTER = re.compile(r"[ \t]+\d{1,2}[A-Z]?[ \t]+(?:East|West|North|South)\b")  # Sloan 14 East
_PLACE_BEFORE = re.compile(
    r"(?:^|,[ \t]*|\b(?i:from|to|de|von|van|para|pour|an|cc)[ \t]*:[ \t]*|"
    r"\b(?:at|from|in|to|At|From|In|To)[ \t]+(?:the[ \t]+)?)([A-Z]{2,6})[ \t]+$",
    re.M,
)
_GENERIC_BEFORE = re.compile(r"\b([A-Z][a-z]+)[ \t]+$")


def _named_place(text: str, s: int) -> bool:
    """A name found after a hospital's acronym or a facility word is a place: ``UMC
    Utrecht`` at a line's start, ``at UCH Ibadan``, ``BC Cancer Vancouver``."""
    m = _PLACE_BEFORE.search(text, max(0, s - 20), s)
    if m and is_place_acronym(m.group(1)):
        return True
    m = _GENERIC_BEFORE.search(text, max(0, s - 20), s)
    if m is None:
        return False
    return m.group(1).lower() in GENERIC and m.group(1) not in ("The", "Left", "Right")


def extend_spans(text: str, spans: list[Span]) -> list[Span]:
    """Each span grown to the whole identifier its neighbours show (see the module doc)."""
    out = []
    for tag, s, e in sorted(spans, key=lambda t: t[1]):
        if tag == "ID":
            m = _ID_PREFIX.search(text, max(0, s - 7), s)
            s = m.start() if m and m.group(1) not in ID_LABELS else s
            m = _ID_SUFFIX.match(text, e)
            e = m.end() if m and not UNIT_AFTER.match(text, m.end()) else e
        elif tag == "NAME" and not _named_place(text, s):
            s, e = _name_span(text, s, e)
            m = _ROOM_AFTER.match(text, e) or _AND_POSSESSIVE.match(text, e)
            e = m.end() if m else e
            m = _SLASH_ACRONYM.match(text, e)
            e = m.end() if m and is_place_acronym(m.group(1)) else e
        elif tag in PLACES or tag == "NAME":
            tag = "LOCATION" if tag == "NAME" else tag
            s, e = _place_start(text, s), _place_end(text, e)
        elif tag == "DATE":
            m = _DATE_BEFORE.search(text, max(0, s - 20), s)
            s = m.start() if m else s
            m = _TIME_AFTER.match(text, e)
            e = m.end() if m else e
        out.append((tag, s, e))
    return out


_AT_ACRONYM = re.compile(r"\b(?:at|from|At|From)[ \t]+(?:the[ \t]+)?([A-Z]{3,6})\b(?![\-/]?\d)")


def acronym_places(text: str) -> list[Span]:
    """A hospital named by its acronym after ``at``/``from`` (``review at LUTH``)."""
    return [("LOCATION", *m.span(1)) for m in _AT_ACRONYM.finditer(text) if is_place_acronym(m[1])]
