"""Identifier shapes the first rules (text.deid_rules) do not know, found by shape or label
(issue #33), never by a list of the places or people themselves:

- dates in other calendars (``15 Rajab 1447``, ``3 Tishrei 5786``, ``12 Mehr 1404``), a
  month in lower case before a year (``finished nov 2025``), a day with a dot before an
  abbreviated month (``17. Feb. 2026``);
- towns whose name is words hyphened by a particle (``Ivry-sur-Seine``, ``Stoke-on-Trent``,
  ``Châlons-en-Champagne``, ``Frankfurt-am-Main``), an Irish county (``Co. Cork``);
- a bleep number of four digits or more after ``bp`` or ``bleep`` (``FY1 bp 74431``; a
  blood pressure has a slash);
- a doctor's registration number after a licensing body's label (``CRM-SP 145.882``,
  ``MN 112.874``, ``GMC 4455667``, ``RPPS 10101234567``).

Example:
    >>> t = "Seen 15 Rajab 1447 at Ivry-sur-Seine; CRM-SP 145.882; finished nov 2025."
    >>> [(tag, t[s:e]) for tag, s, e in shape_spans(t)]  # doctest: +NORMALIZE_WHITESPACE
    [('DATE', '15 Rajab 1447'), ('ADDRESS', 'Ivry-sur-Seine'), ('ID', 'CRM-SP 145.882'),
     ('DATE', 'nov 2025')]
"""

from __future__ import annotations

import re

from oncoseg.text.deid_rules import MONTH

Span = tuple[str, int, int]
_CALENDAR_MONTH = (  # Hijri, Hebrew and Persian (Solar Hijri) months
    r"(?i:muharram|safar|rabi['’]?[ \t\-]?(?:al|ul)?[ \t\-]?(?:awwal|thani|akhir)|"
    r"jumad[ae]?[ \t\-]?(?:al|ul)?[ \t\-]?(?:awwal|ula|thani|akhir(?:ah)?|ukhra)|rajab|"
    r"sha['’]?ban|rama[dz]an|shaww?al|dhu?[ \t\-]?al[ \t\-]?(?:qi['’]?dah|qa['’]?dah|hijjah)|"
    r"dhul[ \t\-]?(?:qi['’]?dah|qa['’]?dah|hijjah)|tishrei|cheshvan|heshvan|kislev|tevet|"
    r"shevat|adar|nisan|iyar|sivan|tammuz|elul|farvardin|ordibehesht|khordad|mordad|"
    r"shahrivar|mehr|aban|azar|bahman|esfand)"
)
_LOWER_MONTH = (
    r"(?:january|february|march|april|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)"
)
_PARTICLE = (
    r"(?:sur|sous|l[èe]s|lez|en|le|la|les|de|du|des|aux?|am|an|im|bei|ob|upon|on|in|under|"
    r"by|the|di|del|della|do|da|dos|das|op|aan|ter)"
)
_TOWN = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+"
_LICENCE = (
    r"(?:CRM|CRO|CRF|COREN|CREFITO|CRN|MN|MP|CMP|CMC|RNE|GMC|IMC|MCI|NMC|HCPC|AHPRA|CPSO|"
    r"RPPS|ADELI|LANR|BIG|NPI|DEA|SMC|KMA|MMC)"
)
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("DATE", re.compile(rf"\b\d{{1,2}}[ \t]+{_CALENDAR_MONTH}(?:[ \t,]+\d{{4}})?(?:[ \t]*AH)?\b")),
    ("DATE", re.compile(rf"\b{_CALENDAR_MONTH}[ \t]+(?:1[34]\d\d|5[78]\d\d)\b")),
    ("DATE", re.compile(rf"\b{_LOWER_MONTH}\.?[ \t]+(?:19|20)\d\d\b(?![.,/]\d)")),
    ("DATE", re.compile(rf"\b\d{{1,2}}\.[ \t]*{MONTH}[ \t]*(?:19|20)\d\d\b")),
    ("PHONE", re.compile(r"\b(?i:bp|bleep|blp|pager|pgr)[ \t.:#]*(\d{4,6})\b(?![/.,]\d)")),
    ("ADDRESS", re.compile(rf"\b{_TOWN}(?:-{_PARTICLE})+-{_TOWN}(?:-{_TOWN})*\b")),
    ("ADDRESS", re.compile(rf"(?m)(?:^|(?<=[,(]))[ \t]*\b(Co\.?[ \t]+{_TOWN})\b")),
    (
        "ID",
        re.compile(
            rf"\b{_LICENCE}(?:[\-/][A-Z]{{2}})?\.?[ \t]*(?:(?i:no|nr|n[º°])\.?[ \t]*)?[:#]?[ \t]*"
            r"\d[\d.\-/]{2,14}\d\b(?![ \t]*(?:/|%|[a-zµ]))"
        ),
    ),
]


def shape_spans(text: str) -> list[Span]:
    """The spans of the shapes above, by their start, none inside another."""
    found = []
    for tag, pattern in _RULES:
        for m in pattern.finditer(text):
            s, e = m.span(m.lastindex or 0)
            found.append((tag, s + len(text[s:e]) - len(text[s:e].lstrip()), e))
    out: list[Span] = []
    for span in sorted(found, key=lambda t: (t[1], -t[2])):
        if not out or span[2] > out[-1][2]:
            out.append(span)
    return out
