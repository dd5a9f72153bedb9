"""Offline de-identification of clinical notes, in three layers.

Replaces, before a note reaches a model, a log or a report: people's names (with their title,
``HOLLOWAY, Margaret``, first names alone, nicknames, maiden names, initials), dates with a day
or month (``3rd March``, ``28/2``, ``Tuesday 14th``; not a bare year), record, accession and
reference numbers, phone and bleep numbers, e-mail addresses and URLs, street addresses, towns
and postcodes, hospitals, wards, beds and GP practices, and ages over 89 (HIPAA Safe Harbor).

1. Rules (``text.deid_rules`` for numbers, dates and places, ``text.deid_names`` for names)
   find what has a known shape or context and give it its tag.
2. The safe-word layer (``text.deid_safe``) turns the question around: whatever is left that
   starts with a capital or holds a digit is masked unless it is known to be safe (a common
   English word, a clinical word, a number whose shape or neighbours are clinical), so a kind
   of identifier nobody wrote a rule for is still removed.
3. The learned layer (``text.deid_learned``), a CRF trained on how the first two fared on
   notes they had never seen, decides word by word from their output: it adds what they
   missed (a ward in lower case, a foreign street) and takes back what the safe-word layer
   masked when it is sure the word is safe; of the rules' spans it takes back only a whole
   run it holds a clinical term (``Ann Arbor``), and only on texts of 80 tokens or more.

Clinical content such as ``pT2 pN1a (2/14)``, ``T2N1mi``, ``70 Gy in 35 fractions``, ``ER
8/8``, ``Ki-67 20%``, ``Paget's disease`` or ``Gleason 4+3`` is left alone. Recall and
precision on hand-marked notes are measured by ``text.deid_eval`` and reported in
docs/text.md.

Example:
    >>> deidentify("Seen by Dr. Alice Moreau on 03/04/2023, MRN 4451290.").text
    'Seen by [NAME] on [DATE], MRN [ID].'
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from oncoseg.text.deid_address import fill_address_gaps
from oncoseg.text.deid_closure import close_spans
from oncoseg.text.deid_extend import (
    acronym_places,
    extend_spans,
    field_spans,
)
from oncoseg.text.deid_hl7 import hl7_spans
from oncoseg.text.deid_keep import protected_spans
from oncoseg.text.deid_layout import address_line_spans, contact_line_spans, the_place_spans
from oncoseg.text.deid_learned import learned_spans, reaches_model
from oncoseg.text.deid_lower import lowercase_names
from oncoseg.text.deid_names import (
    NAME_RULES,
    gazetteer_names,
    given_names,
    name_words,
    repeated_names,
)
from oncoseg.text.deid_ner import ner_spans
from oncoseg.text.deid_numbers import phone_runs
from oncoseg.text.deid_rules import AGE_RULES, ID_RULES, RULES, Rule, place_is_generic
from oncoseg.text.deid_safe import safe_spans
from oncoseg.text.deid_shapes import shape_spans
from oncoseg.text.deid_signoff import login_spans, signoff_spans
from oncoseg.text.deid_vocab import is_clinical, is_common, is_medical, is_name_word

TAGS = ("NAME", "DATE", "ID", "PHONE", "EMAIL", "ADDRESS", "LOCATION", "AGE")
_TRIM = " \t\n,;:.()\"“”'’-/"


@dataclass(frozen=True)
class Redaction:
    tag: str
    start: int
    end: int


@dataclass(frozen=True)
class DeidResult:
    text: str
    redactions: list[Redaction]  # spans in the *original* text

    def counts(self) -> Counter[str]:
        """Replacements per tag, e.g. ``Counter({'NAME': 3, 'DATE': 2})``."""
        return Counter(r.tag for r in self.redactions)


class _Spans:
    """Found spans; a rule only adds the parts of its span that no earlier rule covered and
    that are not protected (eponyms such as ``Paget's disease``, tags such as ``[NAME]``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.protected = protected_spans(text)
        self.found: list[Redaction] = []

    def add(self, tag: str, s: int, e: int) -> None:
        if tag == "NAME":
            e = _name_line_end(self.text, s, e)
        pieces = [(s, e)]
        for start, end in self.protected:
            pieces = _cut(pieces, start, end)
        if tag == "NAME" and pieces != [(s, e)]:  # "Hodgkin" of "Hodgkin Reed-Sternberg"
            pieces = [(a, b) for a, b in pieces if not _all_clinical(self.text[a:b])]
        for r in self.found:
            pieces = _cut(pieces, r.start, r.end)
        for a, b in pieces:
            while a < b and self.text[a] in _TRIM:
                a += 1
            while b > a and self.text[b - 1] in _TRIM:
                b -= 1
            if any(ch.isalnum() for ch in self.text[a:b]):
                self.found.append(Redaction(tag, a, b))

    def apply(self, rules: list[Rule]) -> None:
        for tag, pattern, group in rules:
            for m in pattern.finditer(self.text):
                s, e = m.span(group)
                if tag == "LOCATION" and _own_line(self.text, s, e):
                    s = self.text.rfind("\n", s, e) + 1  # "J. Young-Park" / "Harbor Point ..."
                if tag in ("LOCATION", "ADDRESS") and place_is_generic(self.text[s:e]):
                    continue
                if tag == "NAME" and _all_medical(self.text[s:e]):
                    continue  # "CNS: Glioblastoma" is no nurse's name
                if (
                    tag == "NAME"
                    and _DIGIT_AFTER.match(self.text, e)
                    and _all_words(self.text[s:e])
                ):
                    continue  # "(Grade Group 4)," is no name before an age
                self.add(tag, s, e)


_SCORE_AFTER = re.compile(r"[ \t]+(?i:score|grade|pattern|sum|stage)?[ \t:]*\d")


def _cut(pieces: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """``pieces`` less ``[start, end)``."""
    return [p for a, b in pieces for p in ((a, min(b, start)), (max(a, end), b)) if p[0] < p[1]]


def _all_clinical(span_text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", span_text)
    return bool(words) and all(is_clinical(w) for w in words)


def _own_line(text: str, s: int, e: int) -> bool:
    """A facility that fills the line it ends on (a letterhead), reached from the line above."""
    rest = re.match(r"[ \t]*(?:\n|$)", text[e:])
    return "\n" in text[s:e] and rest is not None


def _name_line_end(text: str, s: int, e: int) -> int:
    """A name does not run on into the next line when that line goes on with a word that is
    common or clinical (``Dr Sunil Mathur`` / ``Lung adenocarcinoma``, a name / a heading)."""
    cut = text.find("\n", s, e)
    if cut < 0:
        return e
    words = re.findall(r"[^\W\d_]+", text[cut:e])
    known = [w for w in words if is_common(w.lower()) or is_clinical(w)]
    return cut if known else e


_DIGIT_AFTER = re.compile(r"[ \t]+\d")


def _all_words(span_text: str) -> bool:
    """Every word a common English word that is no name (``Grade Group``, not ``Rose Baker``)."""
    words = re.findall(r"[^\W\d_]+", span_text)
    return bool(words) and all(
        is_common(w.lower()) and not is_name_word(w.lower()) and w not in given_names()
        for w in words
    )


def _all_medical(span_text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", span_text)
    return bool(words) and all(is_medical(w) for w in words)


def find_identifiers(
    text: str, *, safe_words: bool = True, ner: bool = False, learned: bool = True
) -> list[Redaction]:
    """Spans (in ``text``) of every identifier found, sorted and non-overlapping.

    The rules run first (they give dates, IDs, phones and names their tags); then, with
    ``safe_words`` (the default), every other token not known to be safe is masked
    (text.deid_safe). ``safe_words=False`` gives the rules alone, for comparison. ``ner``
    adds spaCy's named entities, kept off clinical words (text.deid_ner; needs spaCy).
    ``learned`` (the default, with ``safe_words``): a CRF trained on how these layers fare on
    notes they never saw decides word by word from their output (text.deid_learned)."""
    if not (learned and safe_words):
        return _layers(text, safe_words=safe_words, ner=ner)
    pipeline = [(r.tag, r.start, r.end) for r in _layers(text, safe_words=True, ner=False)]
    if reaches_model(text):  # the model saw no entity layer in training
        rules = [(r.tag, r.start, r.end) for r in _layers(text, safe_words=False, ner=False)]
        found = learned_spans(text, rules, pipeline)
    else:  # a short text: the layers alone, without the rules-only pass the model reads
        found = list(pipeline)
    if ner:  # spaCy's entities after the model, kept off protected text as in the layers
        entities = _Spans(text)
        for tag, s, e in ner_spans(text):
            entities.add(tag, s, e)
        found += [(r.tag, r.start, r.end) for r in entities.found]
    return _merge(_join_tokens(found, text), text)


_JOINABLE = re.compile(r"[^\w\s]{1,3}")


def _join_tokens(spans: list[tuple[str, int, int]], text: str) -> list[Redaction]:
    """Masked tokens as redactions; two of one tag apart by up to three punctuation marks
    on one line are one (``RQ3-0045127``, ``j.smith@``); overlapping spans are one, with
    the earlier's tag."""
    out: list[Redaction] = []
    for tag, s, e in sorted(spans, key=lambda t: t[1]):
        prev = out[-1] if out else None
        if prev and s < prev.end:
            out[-1] = Redaction(prev.tag, prev.start, max(prev.end, e))
        elif prev and prev.tag == tag and _JOINABLE.fullmatch(text, prev.end, s):
            out[-1] = Redaction(tag, prev.start, e)
        else:
            out.append(Redaction(tag, s, e))
    return out


def _layers(text: str, *, safe_words: bool, ner: bool) -> list[Redaction]:
    """The rules, then (``safe_words``) the safe-word layer and the closing steps."""
    spans = _Spans(text)
    for tag, s, e in hl7_spans(text):  # fields of HL7 segments, by their position
        spans.add(tag, s, e)
    spans.apply(RULES)  # e-mail, dates, labelled numbers, phones, addresses, places
    for tag, s, e in shape_spans(text):  # other calendars, towns by shape, licence numbers
        spans.add(tag, s, e)
    for s, e in phone_runs(text) if safe_words else []:  # digit groups: 01 46 72 18 40
        spans.add("PHONE", s, e)
    for tag, s, e in field_spans(text) + acronym_places(text) + login_spans(text):
        spans.add(tag, s, e)
    spans.apply(NAME_RULES)
    for s, e in gazetteer_names(text) + lowercase_names(text):
        spans.add("NAME", s, e)
    spans.apply(AGE_RULES)
    spans.apply(ID_RULES)
    words = set().union(
        *(name_words(text[r.start : r.end]) for r in spans.found if r.tag == "NAME")
    )
    for s, e in repeated_names(text, words):
        if not (is_clinical(text[s:e]) and _SCORE_AFTER.match(text, e)):  # Dr Gleason; Gleason 3+4
            spans.add("NAME", s, e)
    if safe_words:
        names = [(r.start, r.end) for r in spans.found if r.tag == "NAME"]
        for tag, s, e in safe_spans(text, [(r.start, r.end) for r in spans.found], names):
            spans.add(tag, s, e)
    for tag, s, e in ner_spans(text) if ner else []:  # spaCy's entities, opt-in
        spans.add(tag, s, e)
    grown = extend_spans(text, [(r.tag, r.start, r.end) for r in spans.found])
    grown = fill_address_gaps(text, grown)
    if safe_words:  # a place or name found in part taken whole (text.deid_closure)
        grown = fill_address_gaps(text, grown + close_spans(text, grown))
        grown += signoff_spans(text, grown)  # initials and names by the signature's shape
        grown += contact_line_spans(text, grown)  # the rest of a contact or address line
        grown += address_line_spans(text, grown)  # house numbers between an address's parts
        grown += the_place_spans(text)  # "via The Balfour"
    found = _with_titles(_disjoint(grown, spans.protected), text)
    return _merge(_fill_gaps(found, text), text)


def _disjoint(
    spans: list[tuple[str, int, int]], protected: list[tuple[int, int]]
) -> list[Redaction]:
    """Grown spans made disjoint again (the earlier keeps its tag) and kept off protected text."""
    out: list[Redaction] = []
    for tag, s, e in sorted(spans, key=lambda t: (t[1], -t[2])):
        for ps, pe in protected:
            if ps < e and s < pe:  # a grown span stops at an eponym it reached
                s, e = (s, ps) if s < ps else (max(s, pe), e)
        if out and s < out[-1].end:
            s = out[-1].end
        if s < e:
            out.append(Redaction(tag, s, e))
    return out


_TITLE_BEFORE = re.compile(
    r"(?:\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Doctor|Sir|Dame|Rev|Revd|Herr|Frau|Mme|Mlle|"
    r"Sr|Sra|Dott|Dra|Md|Mohd|Muhd|Mst)\.?|\bM\.)[ \t]+$"
)
_PARTICLES_BEFORE = re.compile(
    r"(?:(?:\b(?:de|da|di|du|del|della|dos|das|do|van|von|der|den|la|le|los|las|bin|binti|ibn|"
    r"al|el|ben|ter|ten|te|op|het|zu|ap)|['’]t)[ \t]+)+$"
)
_APOSTROPHE_BEFORE = re.compile(r"(?:\b[A-Z]\.[ \t]*)?\b[OD]['’]$")
_THE_BEFORE = re.compile(r"(?:^|[:|])[ \t]*(The[ \t]+)$", re.M)
_POSTNOMINAL = re.compile(
    r",?[ \t]*(?:MD|DO|PhD|MBBS|MBChB|FRCR|FRCS|FRCP|FRCPath|MRCP|MRCS|RN|NP|PA-C|DNP|MSc|BSc)"
    r"(?:[ \t]*,[ \t]*(?:MD|PhD|FRCR|FRCS|FRCP|MRCP|MBBS|MSc))*\b"
)


def _with_titles(spans: list[Redaction], text: str) -> list[Redaction]:
    """A name's span takes its title and letters after it (``Dr. Jo Bloggs, MD``): a title
    says little, and a span that leaves it out can leave a name's part unmarked."""
    out = []
    for r in spans:
        s, e = r.start, r.end
        if r.tag == "NAME":
            lead = _PARTICLES_BEFORE.search(text, max(0, s - 24), s)
            s = lead.start() if lead else s  # "de la Cruz", "van der Berg"
            lead = _APOSTROPHE_BEFORE.search(text, max(0, s - 8), s)
            s = lead.start() if lead else s  # "K. O'[Malley-Reyes]"
            title = _TITLE_BEFORE.search(text, max(0, s - 16), s)
            s = title.start() if title else s
            after = _POSTNOMINAL.match(text, e)
            e = after.end() if after else e
        elif r.tag == "LOCATION":
            the = _THE_BEFORE.search(text, max(0, s - 12), s)
            s = the.start(1) if the else s  # a letterhead's "The Royal Marsden"
        out.append(Redaction(r.tag, s, e))
    return out


_GAP_CODE = re.compile(r"[ \t]*,?[ \t]*[A-Z]{2,4}[ \t]*,?[ \t]*")


def _fill_gaps(spans: list[Redaction], text: str) -> list[Redaction]:
    """A short code in capitals between two places is part of them (``Melbourne VIC 3000``)."""
    out: list[Redaction] = []
    for r in spans:
        prev = out[-1] if out else None
        places = ("ADDRESS", "LOCATION", "ID")
        joins = prev and prev.tag in places and r.tag in places
        if prev and joins and _GAP_CODE.fullmatch(text, prev.end, r.start):
            out[-1] = Redaction(prev.tag, prev.start, r.end)
            continue
        out.append(r)
    return out


def _merge(spans: list[Redaction], text: str) -> list[Redaction]:
    """Join same-tag spans that only whitespace separates (``[NAME] [NAME]`` -> ``[NAME]``)."""
    out: list[Redaction] = []
    for r in spans:
        if out and out[-1].tag == r.tag and not text[out[-1].end : r.start].strip(" \t"):
            out[-1] = Redaction(r.tag, out[-1].start, r.end)
        else:
            out.append(r)
    return out


def deidentify(text: str, *, learned: bool = True) -> DeidResult:
    """Replace each identifier with ``[TAG]`` (one of ``TAGS``); ``learned=False`` leaves
    out the learned layer (the rules and the safe-word layer alone)."""
    spans = find_identifiers(text, learned=learned)
    out, pos = [], 0
    for r in spans:
        out.append(text[pos : r.start])
        out.append(f"[{r.tag}]")
        pos = r.end
    out.append(text[pos:])
    return DeidResult("".join(out), spans)
