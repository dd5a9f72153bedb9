"""Identifier shapes the first rules (text.deid_rules) do not know, found by shape or label
(issue #33), never by a list of the places or people themselves:

- dates in other calendars (``15 Rajab 1447``, ``3 Tishrei 5786``, ``12 Mehr 1404``), a
  month in lower case before a year (``finished nov 2025``), a day with a dot before an
  abbreviated month (``17. Feb. 2026``), a Persian month that is also a word only before a
  year (``3 Dey 1403``), Thai months (``10 ก.พ. 68``), a German calendar week (``ab KW 45``);
- a day and a month with their dots (``24.2.``, ``3. 2.``, ``4.–7. 2.``) in a note that
  writes its decimals with a comma and a unit (``Hb 10,2 g/dl``) or its full dates with dots
  (``17.02.2025``); not at a line's start (a list's numbers), after ``RECIST`` nor after a lab
  or score label (``Lactate 1.4.`` ends a sentence on a decimal);
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
from oncoseg.text.deid_vocab import UNIT_AFTER, is_value_label

Span = tuple[str, int, int]
_CALENDAR_MONTH = (  # Hijri, Hebrew and Persian (Solar Hijri) months
    r"(?i:muharram|safar|rabi['’]?[ \t\-]?(?:al|ul)?[ \t\-]?(?:awwal|thani|akhir)|"
    r"jumad[ae]?[ \t\-]?(?:al|ul)?[ \t\-]?(?:awwal|ula|thani|akhir(?:ah)?|ukhra)|rajab|"
    r"sha['’]?ban|rama[dz]an|shaww?al|dhu?[ \t\-]?al[ \t\-]?(?:qi['’]?dah|qa['’]?dah|hijjah)|"
    r"dhul[ \t\-]?(?:qi['’]?dah|qa['’]?dah|hijjah)|tishrei|cheshvan|heshvan|kislev|tevet|"
    r"shevat|adar|nisan|iyar|sivan|tammuz|elul|farvardin|ordibehesht|khordad|mordad|"
    r"shahrivar|mehr|aban|azar|bahman|esfand)"
)
_THAI_MONTH = (
    r"(?:ม\.ค\.|ก\.พ\.|มี\.ค\.|เม\.ย\.|พ\.ค\.|มิ\.ย\.|ก\.ค\.|ส\.ค\.|ก\.ย\.|ต\.ค\.|พ\.ย\.|ธ\.ค\.|"
    r"มกราคม|กุมภาพันธ์|มีนาคม|เมษายน|พฤษภาคม|มิถุนายน|กรกฎาคม|สิงหาคม|กันยายน|ตุลาคม|"
    r"พฤศจิกายน|ธันวาคม)"
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
    ("DATE", re.compile(r"\b\d{1,2}[ \t]+(?i:dey|tir)[ \t,]+1[34]\d\d\b")),
    ("DATE", re.compile(r"\bKW[ \t]?(?:[1-4]\d|5[0-3]|0?[1-9])(?:/(?:19|20)?\d\d)?\b")),
    ("DATE", re.compile(rf"(?<!\d)\d{{1,2}}[ \t]*{_THAI_MONTH}(?:[ \t]*(?:25\d\d|\d\d))?(?!\d)")),
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
_DAY_MONTH = re.compile(
    r"(?<![\w.,/:\-])(?:[12]\d|3[01]|0?[1-9])\.(?:[–\-](?:[12]\d|3[01]|0?[1-9])\.)?[ \t]?"
    r"(?:1[0-2]|0?[1-9])\.(?![ \t]?\d)(?!\w)"
)
_DECIMAL_COMMA = re.compile(r"(?<![\d.,])\d{1,3},\d{1,2}(?![\d,])")
_DOTTED_DATE = re.compile(r"(?<![\d.])\d{1,2}\.[ \t]?\d{1,2}\.[ \t]?(?:19|20)\d\d")
_NOT_DATE_BEFORE = re.compile(r"(?:^[ \t]*|\b(?i:recist|ctcae))[ \t]*$")  # and is_value_label


def _day_months(text: str) -> list[Span]:
    """Days and months with their dots where the note's decimals have commas or its dates
    dots."""
    commas = (m for m in _DECIMAL_COMMA.finditer(text) if UNIT_AFTER.match(text, m.end()))
    if not (_DOTTED_DATE.search(text) or next(commas, None)):
        return []
    out = []
    for m in _DAY_MONTH.finditer(text):
        line = text[text.rfind("\n", 0, m.start()) + 1 : m.start()]
        if not (_NOT_DATE_BEFORE.search(line) or is_value_label(line)):
            out.append(("DATE", *m.span()))
    return out


def shape_spans(text: str) -> list[Span]:
    """The spans of the shapes above, by their start, none inside another."""
    found = _day_months(text)
    for tag, pattern in _RULES:
        for m in pattern.finditer(text):
            s, e = m.span(m.lastindex or 0)
            found.append((tag, s + len(text[s:e]) - len(text[s:e].lstrip()), e))
    out: list[Span] = []
    for span in sorted(found, key=lambda t: (t[1], -t[2])):
        if not out or span[2] > out[-1][2]:
            out.append(span)
    return out
