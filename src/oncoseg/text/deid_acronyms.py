"""Acronyms that stand for a found place: their letters are the place's initials.

A bracket after a found hospital or institute that holds its acronym (``Centre hospitalier de
l'Université de Montréal (CHUM)``, ``Nationales Centrum für Tumorerkrankungen (NCT)``) is the
same place, even when the acronym is also a clinical or common word (``NCT``, ``chum``). The
letters are compared with the initials of the place's words, particles left out or kept.

Example:
    >>> spells_place("CHUM", "Centre hospitalier de l'Université de Montréal")
    True
    >>> spells_place("NCT", "Ward 4")
    False
"""

from __future__ import annotations

import re

from oncoseg.text.deid_vocab import folded, is_clinical

_PARTICLES = frozenset(
    re.findall(
        r"\S+",
        """of for the and de du des la le l d di del della do da dos das der den von van für
        zu zum zur ve y und e et im am w i on at""",
    )
)
_WORD = re.compile(r"[^\W\d_]+")


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(c in it for c in short)


def spells_place(acronym: str, place: str) -> bool:
    """Whether ``acronym`` (capitals, three letters or more) is made of the initials of
    ``place``'s words, in order, the first word's included."""
    if not re.fullmatch(r"[A-Z]{3,8}", acronym):
        return False
    words = [folded(w.lower()) for w in _WORD.findall(place)]
    full = "".join(w[0] for w in words).upper()
    content = "".join(w[0] for w in words if w not in _PARTICLES).upper()
    for initials in (content, full):
        if initials[:1] == acronym[0] and _subsequence(acronym[1:], initials[1:]):
            return len(acronym) >= min(len(content), 3)
    return False


_BRACKET = re.compile(r"\(([A-Z]{3,8})\)")
_CLAUSE = re.compile(r"[^,;:()\n–—]*$")
# whole words only: "Clinical Target Volume (CTV)" and "Institutional Review Board (IRB)" hold
# no hospital word
HOSPITAL = re.compile(
    r"\b(?i:hospitals?|hospitalier|h[ôo]pital|hospice|infirmary|clini(?:c|cs|que)|cl[ií]nica|"
    r"klinik\w*|\w*klinikum|centre|center|centrum|zentrum|centro|institut[eo]?|istituto|"
    r"universit\w*|ospedale|szpital|ziekenhuis|krankenhaus|hastanesi|\w*sjukhus\w*|"
    r"\w*sykehus\w*)\b"
)
_CAP_START = re.compile(r"[A-ZÀ-ÖØ-Þ]")


def defined_places(text: str) -> list[tuple[str, int, int]]:
    """An institution defined with its acronym, ``Nationales Centrum für Tumorerkrankungen
    (NCT)``: the shortest run of words before the bracket that the acronym spells, holding a
    hospital's or institute's word, and the acronym, each a ``LOCATION``."""
    out: list[tuple[str, int, int]] = []
    for m in _BRACKET.finditer(text):
        if is_clinical(m.group(1)):  # "Central Nervous System Clinic (CNS)": the CNS
            continue
        clause = _CLAUSE.search(text, max(0, m.start() - 120), m.start())
        if clause is None:
            continue
        words = list(_WORD.finditer(text, clause.start(), m.start()))
        for k in range(len(words) - 1, -1, -1):
            first = words[k]
            if not _CAP_START.match(first.group(0)) or first.group(0)[0] != m.group(1)[0]:
                continue
            run = text[first.start() : m.start()]
            if spells_place(m.group(1), run) and HOSPITAL.search(run):
                out += [("LOCATION", first.start(), words[-1].end()), ("LOCATION", *m.span(1))]
                break
    return out
