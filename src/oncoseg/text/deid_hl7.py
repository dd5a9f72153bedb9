"""Identifiers in HL7 v2 segments, found by the field they stand in, not by their shape.

A note pasted from an interface engine holds lines such as
``PID|1||M004471829^^^PAS^MR||MAY^APRIL^J^^MRS||19330217|F|||22 Orchard Way^^Ipswich``: the
standard says which field is a record number, a name, a date of birth, an address, a phone
number or a facility, so each is removed whole, whatever it looks like (a surname that is a
common word, a hospital's acronym, a house number). Other fields (observations, codes,
free text in ``OBX`` and ``NTE``) are left to the other layers.

Example:
    >>> t = "PV1|1|O|RTOPD^^^BLYTHE HOSP||||C4418820^FAIRBROTHER^HUGH^^^DR"
    >>> [(tag, t[s:e]) for tag, s, e in hl7_spans(t)]
    [('LOCATION', 'RTOPD'), ('LOCATION', 'BLYTHE HOSP'), ('NAME', 'C4418820'), \
('NAME', 'FAIRBROTHER'), ('NAME', 'HUGH')]
"""

from __future__ import annotations

import re

Span = tuple[str, int, int]

# segment -> {field number: tag}; MSH counts its field separator as field 1
FIELDS: dict[str, dict[int, str]] = {
    "MSH": {4: "LOCATION", 6: "LOCATION", 7: "DATE"},
    "PID": {
        2: "ID",
        3: "ID",
        4: "ID",
        5: "NAME",
        6: "NAME",
        7: "DATE",
        9: "NAME",
        11: "ADDRESS",
        12: "ADDRESS",
        13: "PHONE",
        14: "PHONE",
        18: "ID",
        19: "ID",
        20: "ID",
        21: "ID",
        23: "ADDRESS",
        29: "DATE",
    },
    "PD1": {3: "LOCATION", 4: "NAME"},
    "NK1": {2: "NAME", 4: "ADDRESS", 5: "PHONE", 6: "PHONE", 30: "NAME", 31: "PHONE"},
    "PV1": {
        3: "LOCATION",
        6: "LOCATION",
        7: "NAME",
        8: "NAME",
        9: "NAME",
        17: "NAME",
        19: "ID",
        39: "LOCATION",
        42: "LOCATION",
        44: "DATE",
        45: "DATE",
        50: "ID",
        52: "NAME",
    },
    "ORC": {
        2: "ID",
        3: "ID",
        9: "DATE",
        10: "NAME",
        11: "NAME",
        12: "NAME",
        15: "DATE",
        17: "LOCATION",
        21: "LOCATION",
        22: "ADDRESS",
        23: "PHONE",
        24: "ADDRESS",
    },
    "OBR": {
        2: "ID",
        3: "ID",
        6: "DATE",
        7: "DATE",
        8: "DATE",
        14: "DATE",
        16: "NAME",
        17: "PHONE",
        22: "DATE",
        28: "NAME",
        32: "NAME",
        33: "NAME",
        34: "NAME",
        35: "NAME",
    },
    "OBX": {14: "DATE", 16: "NAME", 19: "DATE", 23: "LOCATION", 24: "ADDRESS", 25: "NAME"},
    "IN1": {
        3: "ID",
        4: "LOCATION",
        5: "ADDRESS",
        7: "PHONE",
        16: "NAME",
        18: "DATE",
        19: "ADDRESS",
        36: "ID",
        49: "ID",
    },
    "GT1": {3: "NAME", 5: "ADDRESS", 6: "PHONE", 7: "PHONE", 8: "DATE", 12: "ID"},
}
_SEGMENT = re.compile(r"(?m)^([A-Z][A-Z0-9]{2})\|[^\n]*")
# components that are codes of the standard's tables or titles, not identifiers
_CODES = frozenset(
    [
        "MR",
        "MRS",
        "MS",
        "MISS",
        "DR",
        "PROF",
        "NH",
        "PI",
        "PT",
        "SS",
        "PN",
        "AN",
        "VN",
        "MD",
        "L",
        "D",
    ]
)


def _components(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Non-empty components and repetitions of the field ``text[s:e]``."""
    out = []
    for m in re.finditer(r"[^\^~&]+", text[s:e]):
        part = m.group(0).strip()
        if part and part not in _CODES:
            out.append((s + m.start(), s + m.end()))
    return out


def hl7_spans(text: str) -> list[Span]:
    """Spans (tag, start, end) of the identifying fields of every HL7 segment line."""
    spans: list[Span] = []
    for seg in _SEGMENT.finditer(text):
        fields = FIELDS.get(seg.group(1))
        if not fields:
            continue
        offset = 1 if seg.group(1) == "MSH" else 0  # MSH-1 is the separator itself
        start = seg.start()
        for number, field in enumerate(seg.group(0).split("|")):
            tag = fields.get(number + offset)
            if tag and field:
                spans += [(tag, *c) for c in _components(text, start, start + len(field))]
            start += len(field) + 1
    return spans
