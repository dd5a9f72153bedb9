"""Whether a breast note's plan treats the regional nodes (used by
:mod:`oncoseg.tasks.breast_ctv.reader` when the note gives no nodal status).

Nodes treated: "breast + SCF/ax", "RNI", "regional nodal irradiation", "supraclavicular",
"IMN", "levels 1-4", "nodal PTV", "matched SCF field", "nodal basins", "regional lymphatics",
"lymph nodes above the collarbone", "Nodal RT: yes". Not treated: "breast only", "whole
breast alone", "tangents only", "no nodal RT", "nil nodal", "nodes not treated", "RNI: no",
"Regional nodes: not to be treated", "no SCF". A nodal target negated ("no SCF", "without
nodal fields", "SCF: not indicated") counts as not treated; any nodal target left un-negated
decides (a plan may list what it treats and what it leaves out: "WB + SCF + ax, no IMN").

Example:
    >>> nodes_planned("Plan: WBI (no SCF).")
    (False, 'no SCF')
"""

from __future__ import annotations

import re

_NODAL_TARGET = re.compile(
    r"\b(?:regional (?:nodes?|nodal|lymph\w*)|nodal (?:rt|irradiation|radiotherapy|volumes?|"
    r"fields?|ctvs?|ptv|basins?|regions?|areas?|treatment)|nodal\b(?=\s*(?:,|\.|;|$|\d))|"
    r"(?:lymph )?nodal basins?|rni|scf|scv|imc|imn|ax(?:illa)?\s*(?:i{1,3}|[1-3])\b|"
    r"supraclav\w*|internal mammary|levels? (?:[1-4i]+)(?:\s*[-–]\s*(?:[1-4iv]+))?|"
    r"lymph node (?:areas?|regions?)|lymph nodes above|lymphatics\b|lymphatic drainage|"
    r"(?:full|comprehensive) nodal|periclavicular|(?:4|four)[- ]field|"
    r"(?:regional\s+)?(?:lymph\s+)?nodes?\s+(?:to be|will be|should be|are to be)\s+(?:treated|"
    r"included|irradiated|covered)|"
    r"(?:\+|plus|and|with|add|include\w*|treat)\s+(?:the\s+)?(?:regional\s+)?(?:lymph\s+)?"
    r"(?:nodes|nodal|axilla|axillary (?:nodes|fields?)|ax\b))",
    re.I,
)
_NOT_NODAL = re.compile(
    r"\b(?:breast[- ](?:only|alone)|(?:whole |residual |conserved )?breast (?:only|alone)|"
    r"tangents only|just the breast|(?:keep|confined?|limit\w*) (?:it )?to the breast|"
    r"only the (?:residual |whole |conserved )?breast|breast itself and not|"
    r"(?:nil|no) nodal\b|no nodes\b|no (?:nodal|regional|axillary) (?:rt|irradiation|radiotherapy|"
    r"treatment|volumes?|fields?|ctvs?)|nodes? (?:are |were |will )?not (?:to )?(?:be )?"
    r"(?:treated|included|targeted|contoured|irradiated))|"
    r"nodal\s*[:=]\s*(?:\[[x✓]\]\s*)?(?:nil|none|no)\b|"
    r"(?:do not|don't|not) (?:want|treat|include|cover)\w* (?:the )?(?:regional )?nodes|"
    r"(?:axilla|nodes|nodal (?:regions?|areas?)|regional nodes|lymph nodes|scf)\s+(?:do(?:es)?\s+"
    r"not|don't|doesn't|need\s+not|will\s+not|won't|should\s+not)\s+(?:need|require|warrant|be)\b",
    re.I,
)
# a nodal target negated before it ("no SCF", "without nodal fields", "do not include the
# axilla") or after it ("nodal RT: no", "RNI not indicated", "nodes: not to be treated")
_NEGATED_BEFORE = re.compile(
    r"\b(?:no|not|nil|without|omit\w*|exclud\w*|never|nor)\b[^.,;|:]{0,25}$", re.I
)
_NEGATED_AFTER = re.compile(
    r"^[^.;|]{0,12}?(?:\s*[:=]\s*(?:no|nil|none|not)\b|\s*(?:is |are |will be )?not\b|"
    r"\s*[:=]?\s*\[\s?\])",
    re.I,
)

_LIST = re.compile(r"\s*(?:,|/|\bor\b|\bnor\b|\band\b|&)?\s*(?:the\s+)?", re.I)


def nodes_planned(text: str) -> tuple[bool, str] | None:
    """Whether the plan treats the nodes, and the words that say it, when the note says."""
    negated: re.Match[str] | None = None
    last_end = -1  # end of the last negated target: "no SCF, IMC or axilla" negates all three
    for m in _NODAL_TARGET.finditer(text):
        before = text[max(0, m.start() - 30) : m.start()]
        listed = last_end >= 0 and _LIST.fullmatch(text[last_end : m.start()]) is not None
        if listed or _NEGATED_BEFORE.search(before) or _NEGATED_AFTER.search(text[m.end() :][:25]):
            negated, last_end = negated or m, m.end()
            continue
        return True, m.group(0)
    no = _NOT_NODAL.search(text)
    if no:
        return False, no.group(0)
    if negated:
        cue = _NEGATED_BEFORE.search(text[max(0, negated.start() - 30) : negated.start()])
        return False, (cue.group(0) if cue else "") + negated.group(0)
    return None
