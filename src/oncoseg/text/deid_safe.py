"""The de-identifier's first layer: keep what is known to be safe, mask every other name-like
or number-like token (the approach of Philter, Norgeot et al. 2020).

A word is kept when it is a common English word (SCOWL), a clinical word (drug and disease
names, eponyms, systems, regimens, trials, abbreviations) or has its shape (``-ectomy``, an
acronym); a number when its neighbours say it is clinical (a unit, a dose, a score, a year).
Everything else that starts with a capital or holds a digit is masked: a name, town or hospital
nobody listed is removed because it is *not* on a list. Common words that are also names (Rose,
Hope, Baker, Young) are masked where a name stands: mid-sentence and capitalised, next to
another name, after an initial, on a line of names; a German noun after its article is none.
The rules run first and give their tags; this layer tags what it adds by its neighbours.

Example:
    >>> [(t, "Seen by J. O'Neill, pN2a (5/14), ref #8812."[s:e]) for t, s, e in safe_spans(
    ...     "Seen by J. O'Neill, pN2a (5/14), ref #8812.")]
    [('NAME', "J. O'Neill"), ('ID', '#8812')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oncoseg.text.deid_cognates import is_cognate_clinical
from oncoseg.text.deid_intl import GERMAN_NOUN_BEFORE
from oncoseg.text.deid_names import TITLES, given_names
from oncoseg.text.deid_numbers import initials_spans, number_spans
from oncoseg.text.deid_rules import GENERIC
from oncoseg.text.deid_vocab import (
    STOP,
    is_acronym_like,
    is_clinical,
    is_common,
    is_medical_shape,
    is_name_word,
)

Span = tuple[str, int, int]  # (tag, start, end)
_MIXED_CASE = re.compile(
    r"(?!Mc|Mac|De|Di|Da|Le|La|Du|Van|Von|O['’])[A-Z][a-z]{1,2}[A-Z][A-Za-z]{0,2}|[A-Z]{2,4}[a-z]"
)  # IgG, MeV, DXd
_DOSE_AFTER = re.compile(  # a drug by its dose, an analyte by its unit: "Tg 2.1 ng/mL"
    r"[ \t]*\)?[ \t]*\(?[ \t]*\d+(?:[.,]\d+)*[ \t]*"
    r"(?i:mg|g|mcg|µg|ml|units?|iu|ie|gbq|mbq|mg/m2|mg/kg|auc|micrograms?|microg|"
    r"(?:ng|pg|µg|ug|mg|g|mmol|µmol|umol|nmol|pmol|u|iu|ku|miu|meq)/(?:l|dl|ml|24h|h|hr|d)|"
    r"[x×][ \t]*10)(?![a-z])"
)
TITLE_WORDS = frozenset(re.findall(r"[A-Za-z]+", TITLES))
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_FACILITY = re.compile(
    r"[ \t]+(?:Hospital|Infirmary|Hospice|Surgery|Practice|Clinic|Institute|Centre|Center|"
    r"Unit|Ward|ward|House|Trust|Health|Medical)\b"
)
_PLACE_BEFORE = re.compile(r"\b(?i:in|from|near|lives|living|at|moved)[ \t]+$")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:)]")
_PARTICLES = (
    r"(?:de|da|di|du|del|della|dos|das|do|van|von|der|den|la|le|los|las|bin|binti|ibn|al|el|"
    r"ben|ter|ten|zu|ap|ó|ní|mac|uí|y|e)"
)


@dataclass
class _Word:
    start: int
    end: int
    text: str
    # "safe", "mask", "ambiguous" (a word that is also a name), "initial", "found" (a name the
    # rules found), "caps" (an unknown word in capitals: a surname or an acronym)
    state: str


def _capitalised(w: str) -> bool:
    return w[:1].isupper()


_NAME_CAMEL = re.compile(
    r"(?:Mc|Mac|Fitz|De|Di|Da|Du|Le|La|Lo|Van|Vander|Von|Ha|Al|El|Ben|Bin|Ibn|Abu|Abd|Abdel|"
    r"Ould|Nic|Ni|San|St|Ten|Ter|Te|Ng|Ty|O['’]?(?=[A-Z][a-z]))[A-Z]"
)


def _camel(w: str) -> bool:
    """``HyperArc``, ``SpaceOAR``, ``MCPyV``, ``HBsAg``: a brand or an abbreviation in mixed
    case, two capitals or more and a small letter after one; not ``McKay``, ``LaToya``,
    ``TenBrink`` (a particle first) nor ``JaMarcus`` (a given name inside)."""
    upper = sum(c.isupper() for c in w)
    if upper < 2 or w.isupper() or not w.isalpha() or re.fullmatch(r"[A-Z]{3,}[a-z]{2,}", w):
        return False  # D'Arcy; INCan, a place's acronym with its small letters
    if not re.search(r"[A-Z][a-z]|[a-z][A-Z]", w[1:]):
        return False
    if any(p in given_names() for p in re.findall(r"[A-Z][a-z]+", w)):
        return False  # JaMarcus, JeanPaul, KeShawn: a given name inside
    return not _NAME_CAMEL.match(w) and w.capitalize() not in given_names()


def _word_state(w: str) -> str:
    """What a word is on its own (before its neighbours are looked at)."""
    if not _capitalised(w):  # a given name written in lower case ("spoke to sarah")
        low = w.lower()
        given = low.capitalize() in given_names() and len(low) > 3
        return "mask" if given and not is_common(low) and not is_clinical(low) else "safe"
    if len(w) == 1:
        return "initial"
    base = re.sub(r"['’]s?$", "", w)
    low = base.lower()
    if is_clinical(base) or base in STOP or _MIXED_CASE.fullmatch(base) or _camel(base):
        return "safe"  # IgG, MeV, HbA1c's HbA: a unit or an abbreviation, not McKay
    if base.isupper():  # an acronym unless it reads like a name in capitals
        if len(base) <= 4 or is_acronym_like(base):
            return "safe"
        return "ambiguous" if is_name_word(low) else ("safe" if is_common(low) else "caps")
    if is_name_word(low):
        return "ambiguous"
    if is_common(low) or is_medical_shape(low) or is_cognate_clinical(base):
        return "safe"  # Resektion, Pleurakatheter: a clinical word of another language
    return "mask"


def _words(text: str, taken: list[bool], names: list[bool]) -> list[_Word]:
    """The words left to judge, and (state ``found``) the words of names found before, whose
    joined neighbours the masks spread to (``[Peter] Mac``)."""
    words = []
    for m in _WORD.finditer(text):
        s, e = m.span()
        if all(names[s:e]):
            words.append(_Word(s, e, m.group(0), "found"))
            continue
        if any(taken[s:e]):
            continue
        prev = text[s - 1] if s else " "
        nxt = text[e] if e < len(text) else " "
        number = nxt == "-" and text[e + 1 : e + 2].isdigit()  # Ga-68, Lu-177
        if (
            prev.isdigit()
            or nxt.isdigit()
            or number
            or (prev == "-" and text[s - 2 : s - 1].isdigit())
        ):
            continue  # part of a number-like chunk (pT2, Ki-67): the number logic decides
        state = _word_state(m.group(0))
        if state == "mask" and _DOSE_AFTER.match(text, e):
            state = "safe"  # a drug by its dose: "Pluvicto 7.4 GBq", "Zometa 4 mg"
        if state == "mask" and GERMAN_NOUN_BEFORE.search(text, max(0, s - 40), s):
            state = "ambiguous" if m.group(0) in given_names() else "safe"  # "keine Aszites"
        if m.group(0) in _MONTH_NAMES and not _date_context(text, s, e):
            state = "ambiguous"  # "her daughter May", "Dr Stephen April"; not "in May"
        words.append(_Word(s, e, m.group(0), state))
    return words


_MONTH_NAMES = frozenset(["April", "May", "June", "August"])  # months that are given names
_DATE_BEFORE = re.compile(
    r"(?:\b(?i:in|since|during|until|till|by|from|of|early|late|mid|end|start|beginning|last|"
    r"next|this|every|each|before|after|for|through|to|and|or|between|around|about|on|the|"
    r"that|until)|\d(?:st|nd|rd|th)?)[ \t,\-/.]*$"
)
_DATE_AFTER = re.compile(r"[ \t,.\-/]*['’]?\d")


def _date_context(text: str, s: int, e: int) -> bool:
    """A month's name used as one: after ``in``, ``since``, a day, or before a number."""
    return bool(_DATE_BEFORE.search(text, max(0, s - 16), s) or _DATE_AFTER.match(text, e))


def _sentence_start(text: str, s: int) -> bool:
    """True at the start of a line or after ``.``, ``!``, ``?``, ``:`` (quotes skipped)."""
    i = s - 1
    while i >= 0 and text[i] in " \t\"'“‘(*•-–":
        i -= 1
    return i < 0 or text[i] in "\n.!?:;"


def _joined(text: str, a: _Word, b: _Word) -> bool:
    """``a`` and ``b`` are one name's parts: only spaces, a hyphen or an initial's dot between."""
    gap = text[a.end : b.start]
    if gap in ("-", "'", "’", "^"):  # Smith-Jones, O'Neill, HL7's SMITH^Jo
        return True
    if a.state == "initial" and re.fullmatch(r"\.?[ \t]+|\.", gap):
        return True
    return bool(re.fullmatch(r"[ \t]+", gap))


def _spread(text: str, words: list[_Word]) -> None:
    """Masks spread to joined neighbours that are initials, names-that-are-words or
    capitalised common words (``Royal Marsden``, ``J. O'Neill``, ``Okonedo-Hart``)."""
    changed = True
    while changed:
        changed = False
        for i, w in enumerate(words):
            if w.state not in ("mask", "found"):
                continue
            for j in (i - 1, i + 1):
                if not 0 <= j < len(words):
                    continue
                o = words[j]
                a, b = (o, w) if j < i else (w, o)
                done = o.state in ("mask", "found")
                if done or not _joined(text, a, b) or not _capitalised(o.text):
                    continue
                base = re.sub(r"['’]s?$", "", o.text)
                caps_name = base.isupper() and _given_or_name_word(base)  # LILY-ANNE HOPKINS
                if (
                    o.state in ("initial", "ambiguous")
                    or caps_name
                    or (base not in STOP and not is_clinical(base) and not base.isupper())
                ):
                    o.state, changed = "mask", True


def _trailing_titles(text: str, words: list[_Word]) -> None:
    """A title right after a name, with no name after it, is the name's last part (``Dr
    Sunita Kumari``: Kumari titles a woman before her name, and is a surname after it)."""
    for a, b in zip(words, words[1:], strict=False):
        if a.state not in ("mask", "found") or b.state != "safe" or b.text not in TITLE_WORDS:
            continue
        if _joined(text, a, b) and re.match(r"[ \t]*(?:[,;)\n]|$)", text[b.end : b.end + 4]):
            b.state = "mask"


def _given_or_name_word(word: str) -> bool:
    """``ANNE``, ``LILY``: a word in capitals that is a given name or a name-word."""
    low = word.lower()
    known = low.capitalize() in given_names() or is_name_word(low)
    return len(low) > 2 and known and word not in STOP and not is_clinical(word)


def _resolve_ambiguous(text: str, words: list[_Word]) -> None:
    """A name-that-is-a-word is a name mid-sentence, after an initial or beside a name."""
    for i, w in enumerate(words):
        if w.state != "ambiguous":
            continue
        before = [words[i - 1]] if i and _joined(text, words[i - 1], w) else []
        after = [words[i + 1]] if i + 1 < len(words) and _joined(text, w, words[i + 1]) else []
        near = before + after
        if any(
            o.state == "safe"
            and _capitalised(o.text)
            and o.text not in TITLE_WORDS
            and not _camel(o.text)  # "A. Hope PharmD"
            and o.text not in _NOT_PHRASE  # "M. Grey MD", "Tochter Lea"
            for o in near
        ):
            continue  # "Young Adult", "Baker Street": part of a phrase of words (not "Mrs")
        if not _sentence_start(text, w.start) or any(o.state != "safe" for o in near):
            w.state = "mask"
        elif _PERSON_AFTER.match(text, w.start + len(re.sub(r"['’]s$", "", w.text))):
            w.state = "mask"  # "Hope is keen to start", "Summer's mum", "Will and [Grace]"
    for w in words:  # any capitalised word before "'s husband" is a person's name
        base = re.sub(r"['’]s$", "", w.text)
        person = _RELATIVE_AFTER.match(text, w.start + len(base)) and not is_clinical(base)
        if w.state == "safe" and _capitalised(w.text) and base not in STOP and person:
            w.state = "mask"


# credentials after a name and relatives before one, in several languages: beside them a
# name-that-is-a-word is still a name
_NOT_PHRASE = frozenset(
    re.findall(
        r"\S+",
        """MD DO PhD RN NP PA MBBS FRCR FRCS FRCP MRCP DNP MSc BSc Son Daughter Wife Husband
        Mother Father Brother Sister Partner Tochter Sohn Bruder Schwester Ehemann Ehefrau
        Mutter Vater Dochter Zoon Datter Søn Dotter Fille Fils Hija Hijo Figlia Figlio Filha
        Filho""",
    )
)
_RELATIVE_AFTER = re.compile(
    r"['’]s[ \t]+(?:mum|mom|dad|husband|wife|partner|son|daughter|mother|father|carer|sister|"
    r"brother|family|GP|niece|nephew|granddaughter|grandson|boyfriend|girlfriend|fianc[ée]e?)\b"
)
# what follows a person's name at a sentence's start (a name-word there is otherwise a word)
_PERSON_AFTER = re.compile(
    rf"(?:{_RELATIVE_AFTER.pattern}|[ \t]+(?:is|was|has|had|attended|attends|called|rang|phoned|"
    r"reports|reported|says|said|came|comes|drove|lives|lived|wants|wanted|feels|felt|declined|"
    r"agreed|asked|presented|prefers|understands|knows|remains|continues|denies|describes|"
    r"tolerated|tolerates|completed|started|underwent|tells|told|would|will|and|&)[ \t]+"
    r"(?!(?:the|a|an|to|of|be|been|not|no|all|that|this|it)\b)|"
    r",[ \t]+(?:the|our|her|his|their|my|your)[ \t]+[a-z])"  # "Dawn, the district nurse"
)


def _resolve_caps(text: str, words: list[_Word]) -> None:
    """An unknown word in capitals is a surname beside a name, an initial, a given name in
    capitals, another such word or before ``, Given``, a place's acronym before a facility's
    words (``INMOL Cancer Hospital``); else an acronym (``OPSCC``, ``MASCC``)."""
    for i, w in enumerate(words):
        if w.state != "caps":
            continue
        near = [words[j] for j in (i - 1, i + 1) if 0 <= j < len(words)]
        near = [o for o in near if _joined(text, *sorted((o, w), key=lambda x: x.start))]
        namey = any(
            o.state in ("mask", "found", "initial", "ambiguous", "caps")
            or (o.text.isupper() and _given_or_name_word(o.text))
            for o in near
        )
        given_after = re.match(r",[ \t]*[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]", text[w.end : w.end + 4])
        w.state = "mask" if namey or given_after or _facility_next(text, w.end) else "safe"


def _facility_next(text: str, end: int) -> bool:
    return _facility_tail(text, end) > end or bool(_FACILITY.match(text, end))


def _repeat(words: list[_Word]) -> None:
    """A word masked once as a name is masked wherever else it is capitalised in the note
    (``Hope`` at a sentence's start, once ``her daughter Hope`` was found)."""
    masked = {w.text for w in words if w.state == "mask" and len(w.text) > 2}
    for w in words:
        if w.state not in ("mask", "found") and w.text in masked:
            base = re.sub(r"['’]s?$", "", w.text)
            if base not in STOP and not is_clinical(base):
                w.state = "mask"


def _name_lines(text: str, words: list[_Word]) -> None:
    """A line of one to four capitalised names and initials only (a signature, a header)."""
    for line in re.finditer(r"(?m)^[ \t]*([^\W\d_][^\n]*?)[ \t]*$", text):
        s, e = line.span(1)
        if not re.fullmatch(r"[^\W\d_'’.\- \t]+(?:[.'’\- \t,]+[^\W\d_'’.\-]+){0,3}\.?", text[s:e]):
            continue
        inside = [w for w in words if s <= w.start and w.end <= e]
        if inside and all(w.state != "safe" for w in inside):
            for w in inside:
                w.state = "found" if w.state == "found" else "mask"


_FACILITY_TAIL = re.compile(
    r"(?:[ \t]+[A-Z][a-z]+(?:['’]s)?){0,3}?[ \t]+(?:Hospital|Infirmary|Hospice|Clinic|Institute|"
    r"Centre|Center|Memorial|Trust|Surgery|Practice|Foundation|Klinik|Klinikum|Care|Medicine|"
    r"Pathology|Oncology|Radiology|Imaging|Diagnostics|Laborator(?:y|ies)|Labs?|Health(?:care)?|"
    r"Services|Partners|Group|Associates|Network|Specialists|Physicians|Haematology|Hematology|"
    r"Radiotherapy)\b"
)
_FUNCTION = frozenset(["The", "And", "Of", "For", "With", "To", "From", "In", "On", "At", "By"])


def _facility_tail(text: str, end: int) -> int:
    """The end of the words that make a masked name a place: ``Cancer Centre`` after ``Peter
    MacCallum``, ``Family Medicine`` after ``Riverbend``, ``Cellular Pathology``."""
    m = _FACILITY_TAIL.match(text, end)
    if not m:
        return end
    words = re.findall(r"[A-Za-z]+(?:['’]s)?", m.group(0))[:-1]
    known = all(is_common(w.lower()) or is_clinical(w) or w.lower() in GENERIC for w in words)
    return m.end() if known and not _FUNCTION.intersection(words) else end


def _word_spans(text: str, words: list[_Word]) -> list[Span]:
    spans: list[Span] = []
    for w in words:
        if w.state != "mask":
            continue
        start, end = w.start, w.end
        joined = bool(spans) and _gap_joins(text[spans[-1][2] : start])
        if joined and spans[-1][0] in ("NAME", "LOCATION", "ADDRESS"):
            tag, start, _ = spans.pop()
        else:
            tag = "NAME"
            if _PLACE_BEFORE.search(text, max(0, start - 12), start):
                tag = "ADDRESS"
        tail = _facility_tail(text, end)
        if tail > end or _FACILITY.match(text, end):
            tag, end = "LOCATION", tail  # "Peter MacCallum Cancer Centre": one place
        spans.append((tag, start, end))
    return spans


def _gap_joins(gap: str) -> bool:
    """Only a space, a hyphen, a dot or particles (``de la``, ``van der``) between two parts."""
    return bool(re.fullmatch(rf"[ \t]*[.\-'’]?[ \t]*(?:{_PARTICLES}[ \t]+)*", gap))


def safe_spans(
    text: str,
    taken_spans: list[tuple[int, int]] | None = None,
    names: list[tuple[int, int]] | None = None,
) -> list[Span]:
    """Spans of everything not known to be safe, outside ``taken_spans`` (found already);
    ``names``: the spans of those that are names, whose neighbours may be their parts."""
    taken, in_name = [False] * len(text), [False] * len(text)
    for s, e in taken_spans or []:
        taken[s:e] = [True] * (e - s)
    for s, e in names or []:
        in_name[s:e] = [True] * (e - s)
    out = initials_spans(text, taken)
    out += [("ID", *m.span()) for m in _URL.finditer(text) if not any(taken[m.start() : m.end()])]
    for _, s, e in out:
        taken[s:e] = [True] * (e - s)
    out += number_spans(text, taken)
    for _, s, e in out:
        taken[s:e] = [True] * (e - s)
    words = _words(text, taken, in_name)
    _resolve_ambiguous(text, words)
    _name_lines(text, words)
    _resolve_caps(text, words)
    _spread(text, words)
    _trailing_titles(text, words)
    _repeat(words)
    _spread(text, words)
    out += _word_spans(text, words)
    return sorted(out, key=lambda t: t[1])
