"""Clinical words of other European languages by their English cognate (issue #33).

German, Dutch, Nordic, Turkish, French and Spanish notes capitalise nouns that the English
lists do not hold: ``Resektion``, ``Melanoom``, ``Herzinsuffizienz``, ``Pleurakatheter``. A word is
taken as clinical here when a regular change of spelling (``k``/``z`` -> ``c``, ``f`` ->
``ph``, ``oo`` -> ``o``, accents dropped) and of ending (``-ie`` -> ``-y``, ``-om`` ->
``-oma``, ``-id`` -> ``-ide``, ``-ese`` -> ``-esis``, ``-yum`` -> ``-ium``, a final ``-e``
dropped) gives a drug, disease or clinical word, or a common English word of eight letters or
more; or, for a compound of nine letters or more, when its last part is such a word of six
letters or more and no common word under eight (``Pleura|katheter``, not ``Toll|cross``).
A given name is never one (``Martine`` is no ``martin``).

Example:
    >>> [w for w in ("Resektion", "Melanoom", "Pleurakatheter", "Kowalski", "Lindqvist")
    ...  if is_cognate_clinical(w)]
    ['Resektion', 'Melanoom', 'Pleurakatheter']
"""

from __future__ import annotations

from functools import cache

from oncoseg.text.deid_names import given_names
from oncoseg.text.deid_vocab import (
    _MEDICAL_SUFFIX,
    folded,
    is_clinical,
    is_common,
    is_medical_listed,
)

_LETTERS = (
    ("k", "c"), ("z", "c"), ("z", "s"), ("f", "ph"), ("oo", "o"), ("ij", "y"), ("rr", "r"),
)  # fmt: skip
_ENDINGS = (
    ("", ""), ("ie", "y"), ("om", "oma"), ("ose", "osis"), ("ese", "esis"), ("ologie", "ology"),
    ("e", ""), ("ik", "ic"), ("iv", "ive"), ("id", "ide"), ("in", "ine"), ("yp", "ype"),
    ("enz", "ency"), ("anz", "ance"), ("itat", "ity"), ("isch", "ic"), ("yum", "ium"),
    ("ismus", "ism"), ("en", ""), ("er", ""), ("es", ""), ("a", ""), ("o", ""), ("", "e"),
    ("", "a"),
)  # fmt: skip
_ROMANCE = (
    ("ia", "y"), ("cion", "tion"), ("cao", "tion"), ("zione", "tion"), ("ica", "ic"),
    ("ico", "ic"), ("idad", "ity"), ("ita", "ity"), ("oso", "ous"), ("osa", "ous"), ("ina", "in"),
    ("sion", "ssion"), ("om", "ome"),
)  # fmt: skip  # Spanish, Portuguese, Italian: colonoscopia, progresión, ematologia
_SHAPE_ENDINGS = 7  # the first seven keep a word's shape: its ending or a common word counts


def _spellings(low: str, endings: tuple[tuple[str, str], ...]) -> set[str]:
    out = {folded(low).replace("œ", "oe").replace("æ", "ae").replace("ø", "o")}
    for a, b in _LETTERS:
        out |= {w.replace(a, b) for w in out if a in w}
    return {w[: len(w) - len(a)] + b for w in out for a, b in endings if w.endswith(a)}


def _clinical_form(low: str, shortest: int = 4) -> bool:
    """A drug, disease or clinical word by a listed cognate (``shortest`` letters or more, and
    no common word under eight); by a medical ending or a common word of eight letters or
    more only where the ending kept its shape (not ``Adeyem|ia``)."""
    for w in _spellings(low, _ENDINGS + _ROMANCE):
        short_common = shortest > 4 and len(w) < 8 and is_common(w)
        if len(w) >= shortest and (is_clinical(w) or is_medical_listed(w)) and not short_common:
            return True
    shaped = _ENDINGS[:_SHAPE_ENDINGS]
    if any(_MEDICAL_SUFFIX.fullmatch(w) for w in _spellings(low, shaped + _ROMANCE)):
        return True
    # a common word by a Romance ending is no evidence: Presentación, Felicidad are names
    return any(len(w) >= 8 and is_common(w) for w in _spellings(low, shaped))


@cache
def is_cognate_clinical(word: str) -> bool:
    """Whether ``word`` (six letters or more, no given name) is a clinical word of another
    language by its cognate, whole or as the last part of a compound."""
    if len(word) < 6 or not word.isalpha() or word.capitalize() in given_names():
        return False
    low = word.lower()
    if _clinical_form(low):
        return True
    if len(low) < 9:
        return False
    return any(_clinical_form(low[i:], 6) for i in range(4, len(low) - 4))  # not Toll|cross
