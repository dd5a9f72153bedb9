"""Rule-based, offline de-identification of clinical notes.

Replaces, before a note reaches a model, a log or a report: names after titles or labels
(``Dr. Smith``, ``Patient: Jane Doe``), dates with a day or month (not a bare year),
record/accession/ID numbers, phone numbers, e-mail addresses, street addresses and
postcodes, and ages over 89 (HIPAA Safe Harbor). Clinical content such as ``pT2 pN1a (2/14)``,
``70 Gy in 35 fractions`` or ``ER 8/8`` is left alone. Recall and precision on a planted
corpus are measured in ``tests/text/test_deid.py`` and reported in docs/text.md.

Example:
    >>> deidentify("Seen by Dr. Alice Moreau on 03/04/2023, MRN 4451290.").text
    'Seen by Dr. [NAME] on [DATE], MRN [ID].'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# a capitalised word of unicode letters, with O'Neil / Smith-Jones forms
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ](?:[^\W\d_]+|'[A-Z][^\W\d_]+)(?:['\-][^\W\d_]+)*\b"
_NAME = rf"(?:{_NAME_WORD}\.?\s+)?(?:[A-Z]\.\s*)?{_NAME_WORD}(?:[ \-]{_NAME_WORD})?"
_TITLES = r"(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Doctor|Sister|Nurse)\.?"
_LABELS = (
    r"(?:Patient(?:\s+name)?|Pt(?:\s+name)?|Name|Surname|Referring(?:\s+physician|"
    r"\s+doctor|\s+clinician)?|Consultant|Surgeon|Oncologist|GP|Physician|Signed(?:\s+by)?|"
    r"Dictated(?:\s+by)?|Seen\s+by|cc|Attending|Next\s+of\s+kin|NOK|Daughter|Son|"
    r"Husband|Wife|Partner|Contact)"
)
_STREET = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Boulevard|Blvd|Court|Ct|Way|"
    r"Place|Pl|Terrace|Close|Crescent|Square|Sq|Highway|Hwy|Parkway|Gardens)\.?"
)

# (tag, pattern, group holding the identifier); applied in order.
RULES: list[tuple[str, re.Pattern[str], int]] = [
    ("EMAIL", re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b"), 0),
    ("DATE", re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"), 0),
    ("DATE", re.compile(r"\b\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})\b"), 0),
    (
        "DATE",
        re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{2,4}}\b", re.I),
        0,
    ),
    ("DATE", re.compile(rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b", re.I), 0),
    ("DATE", re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?![a-z])", re.I), 0),
    ("DATE", re.compile(rf"\b{_MONTH}\s+\d{{4}}\b", re.I), 0),
    (
        "ID",
        re.compile(
            r"\b(?:MRN|Hosp(?:ital)?\s*(?:no|number|#)|Medical\s+record(?:\s+number)?|"
            r"Record\s*(?:no|number|#)|Accession(?:\s*(?:no|number|#))?|Acc(?:\.|#)|"
            r"NHS(?:\s+(?:no|number))?|SSN|Patient\s+ID|ID|Case\s*(?:no|#)|"
            r"Encounter|Study\s+ID)\.?\s*(?:#|no\.?|number)?\s*[:=]?\s*"
            r"([A-Z]{0,3}[\-]?\d[\d \-]{3,}\d|[A-Z]{1,3}\d{4,})",
            re.I,
        ),
        1,
    ),
    ("PHONE", re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s.\-]\d{1,5}){2,5}\b"), 0),  # international
    (
        "PHONE",
        re.compile(
            r"(?<![\w/])(?:\+\d{1,3}[\s\-.]?)?(?:\(\d{2,5}\)\s?|\d{2,5}[\s\-.])"
            r"\d{3,4}[\s\-.]?\d{3,4}\b"
        ),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,5}}[A-Za-z]?\s+(?:{_NAME_WORD}\s+){{1,3}}{_STREET}"
            rf"(?:,\s*{_NAME_WORD}(?:\s+{_NAME_WORD})?)?"
            r"(?:,?\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
        ),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,5}},?\s+(?:Rue|Avenue|Boulevard|Via|Viale|Calle|Plaza|Piazza|"
            rf"Rua|Praça|Chemin|Place)\s+(?:[\w']+\s+){{0,3}}{_NAME_WORD}"
            rf"(?:,?\s*\d{{4,5}}\s+{_NAME_WORD})?"
        ),
        0,
    ),  # continental style
    ("ADDRESS", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"), 0),  # UK postcode
    ("ADDRESS", re.compile(r"\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"), 0),  # US state + ZIP
    ("NAME", re.compile(rf"\b{_TITLES}\s+({_NAME})"), 1),
    ("NAME", re.compile(rf"\b{_LABELS}\s*[:\-]\s*({_NAME})"), 1),
    (
        "NAME",
        re.compile(
            rf"\b(?:[Ss]on|[Dd]aughter|[Hh]usband|[Ww]ife|[Pp]artner|[Bb]rother|"
            rf"[Ss]ister|[Mm]other|[Ff]ather|[Cc]arer|[Ff]riend)\s+({_NAME})"
        ),
        1,
    ),
    (
        "NAME",
        re.compile(rf"\b(?:Signed|Dictated|Seen|Reviewed|Discussed\s+with)\s+by\s+({_NAME})"),
        1,
    ),
    (
        "AGE",
        re.compile(r"\b(9\d|1[01]\d)(?=(?:\s*|-)(?:years?|yrs?|y/?o|y\b|-year|F\b|M\b))", re.I),
        1,
    ),
    ("AGE", re.compile(r"\b(?:aged?)\s*[:=]?\s*(9\d|1[01]\d)\b", re.I), 1),
    ("ID", re.compile(r"(?<![\w/.])\d{7,}(?![\w/])"), 0),
]


@dataclass(frozen=True)
class Redaction:
    tag: str
    start: int
    end: int


@dataclass(frozen=True)
class DeidResult:
    text: str
    redactions: list[Redaction]  # spans in the *original* text


def find_identifiers(text: str) -> list[Redaction]:
    """Spans (in ``text``) of every identifier found; overlapping spans are merged."""
    spans: list[Redaction] = []
    for tag, pattern, group in RULES:
        for m in pattern.finditer(text):
            s, e = m.span(group)
            if s < e and not any(r.start < e and s < r.end for r in spans):
                spans.append(Redaction(tag, s, e))
    return sorted(spans, key=lambda r: r.start)


def deidentify(text: str) -> DeidResult:
    """Replace each identifier with ``[TAG]`` (NAME, DATE, ID, PHONE, EMAIL, ADDRESS, AGE)."""
    spans = find_identifiers(text)
    out, pos = [], 0
    for r in spans:
        out.append(text[pos : r.start])
        out.append(f"[{r.tag}]")
        pos = r.end
    out.append(text[pos:])
    return DeidResult("".join(out), spans)
