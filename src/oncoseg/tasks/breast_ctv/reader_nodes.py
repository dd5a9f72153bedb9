"""The nodal status of a breast note (used by :mod:`oncoseg.tasks.breast_ctv.reader`).

In order of trust: a pathological N stage as written ("pN2a", "T2N1M0", "ypN0(sn)", "N-stage=N2",
"Pathological N: 2a"); micrometastases (N1mi); the count of positive nodes ("6/14", "5 of 17
nodes involved", "7+/12", "4+ nodes", "four of eleven", "nine positive nodes", "axilla involved,
8 nodes"); the status in words ("node negative", "SLNB clear", "no cancer in the lymph nodes");
a clinical stage ("cN0"). Counts are read only next to the nodes (not "ER 8/8", "40 Gy/15",
"on 2/9"); a count in a clause that calls the nodes negative ("negative (3/3)") is none
positive. Numbers may be written as words.

Example:
    >>> read_n_stage("Breast WLE. Four of eleven axillary nodes contained metastases.")
    ('N2', 'Four of eleven')
"""

from __future__ import annotations

import re

_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_NUMBERS += ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
_NUMBERS += ["seventeen", "eighteen", "nineteen", "twenty"]
_VALUE = {w: i for i, w in enumerate(_NUMBERS)} | {"nought": 0, "naught": 0, "none": 0}
_WORDS = "|".join([*_NUMBERS, "nought", "naught"])
_NUM = rf"(?<![\d.,/])\b(\d{{1,2}}|{_WORDS})\b(?!\.\d)"
_OF_NUM = rf"\b(\d{{1,2}}|{_WORDS})\b(?!\.\d)"  # the second number of "a/b"
_NODE = r"(?:(?:lymph|axillary|sentinel|regional)\s+)*(?:nodes?|lns?|slns?|sns?)\b"
_NODE_BEFORE = (
    r"\b(?:nodes?|nodal|lns?|slnb?s?|snb|sns?|sentinel\w*|alnd|axill\w*|clearance|dissection)\b"
)
_STAGE = (
    r"(?:\b(?:y?[pcr])?|(?<=T[0-4])|(?<=T[0-4][a-d])|(?<=Tis)|(?<=T[0-4]mi))N([0-3])"
    r"(mi|a|b|c)?(?:\s?\((?:sn|i[+-]|mol[+-]|f)\))?(?:(?=M[01x])|(?![\w+]))"
)
_N_STAGE = re.compile(_STAGE, re.I)
# "N-stage=N2", "N stage: 2a", "pN: 0", "Pathological N: 2a (8 positive)"
_N_FIELD = re.compile(
    r"(?:^|(?<=[\s|;,(]))(?:(?:y?p|path\w*|pathological|clinical|c)\s*)?N(?:[- ]?(?:stage|"
    r"status|category))?\s*[:=]\s*(?:y?[pc]?N)?([0-3])(mi|a|b|c)?\b",
    re.I,
)
# "cN0", "cT2N0", "clinical N: 0" (not "T1cN0": c is the T's subgroup there)
_CLINICAL = re.compile(r"(?:^|[^y\d])c\s*n?\s*$|\bcT(?:[0-4][a-d]?|is)\s*n?$|clinical", re.I)
_MICRO = re.compile(
    r"(?<!no )(?<!without )\b(?:micro[- ]?meta\w*|micrometastatic|micromets?)\b", re.I
)
_POS_WORD = (
    r"positive|pos\b|\+\s*ve\b|\+ve\b|\+|involved|metasta\w*|macromet\w*|cancer|carcinoma|"
    r"tumou?r|disease|deposits?"
)
_POS_BEFORE = (
    r"\b(?:positive|pos|involved|metasta\w*|macromet\w*|cancer|carcinoma|deposits?|disease)\b"
)
_POS_NEAR = _POS_BEFORE + r"|^\s*\+|\+\s*(?:ve\b)?$"
_NEG_WORD = (
    r"(?:negative|neg|-\s*ve|clear|free|uninvolved|not\s+(?:involved|affected)|benign|reactive|"
    r"no\s+(?:evidence|metasta\w*|"
    r"tumou?r|cancer|disease|malignancy))\b"
)
# negative words that are about receptors or margins, not the nodes
_NOT_NODAL_WORDS = r"(?:margins?|er|pr|pgr|her-?2|triple|receptors?|hormone|brca\d?|lvi|fish|ihc)"
_NOT_NODAL = re.compile(rf"\b{_NOT_NODAL_WORDS}\b\W*(?:\w+\W+)?$", re.I)
# "a/b", "a of b", "a out of b", "7+/12", "none of the 3"
_FRACTION = re.compile(
    rf"{_NUM}\s*\+?\s*(?:(?:positive|involved|pos)\s+)?(?:/|of|out of|from)\s*"
    rf"(?:her|your|the|his|their)?\s*{_OF_NUM}|"
    rf"\bnone of (?:the|her|your)\s+{_NUM}\b",
    re.I,
)
# "6 positive nodes", "4+ nodes", "9 nodes involved", "7 of your lymph nodes", "8 nodes +",
# "nodes positive x5"
_N_NODES = re.compile(
    rf"{_NUM}\s*(?:\+\s*)?(?:(?:positive|involved|metastatic|pos|macrometastatic)\s+)?"
    rf"(?:of\s+(?:her|your|the|his|their)\s+)?{_NODE}|"
    rf"(?:{_NODE}\s*(?:positive|involved|\+)|positive\s+{_NODE})\s*(?:[x×]|[:=])?\s*"
    r"(\d{1,2})\b(?!\s*(?:/|of\b|out\b|mm\b|cm\b|\.\d))",
    re.I,
)
_NOT_A_COUNT = re.compile(
    r"\b(?:on|er|pr|pgr|her2|ki-?67|allred|score|gy|grade|gr|x)\s*:?\s*$|\bdated?\s*$", re.I
)
_NEGATIVE = re.compile(
    rf"\bnodes?[- ]?(?:neg(?:ative)?|-\s*ve)\b|\bN\s*-\s*ve\b|{_NODE_BEFORE}"
    rf"[\s:=]+(?:(?!{_NOT_NODAL_WORDS}\b)[\w()/-]+[\s:=]+){{0,3}}?(?:was\s+|were\s+|is\s+|are\s+)?"
    rf"(?:{_NEG_WORD})(?!\s*(?:rt|radio\w*|irradiat\w*|fields?|volumes?|treatment)\b)|"
    r"\bno\s+(?:evidence\s+of\s+)?(?:cancer|tumou?r|disease|metastas\w+|malignancy|spread)\s+"
    r"(?:was\s+)?(?:found\s+|seen\s+)?in\s+(?:the|her|any|your|his)?\s*(?:\w+\s+)?(?:lymph\s+)?"
    r"nodes?|\bno\s+(?:evidence\s+of\s+)?(?:nodal|axillary|lymph\s+node)\w*\s+(?:involvement|"
    r"disease|metastas\w+|spread|deposits?)|\bwithout\s+(?:lymph\s+)?(?:nodal|node|axillary)\s+"
    r"(?:involvement|disease|metastas\w+)|\bnone\s+of\s+(?:the|her|your|his|their)\s+"
    r"(?:\d+\s+|\w+\s+)?(?:\w+\s+)?"
    r"(?:lymph\s+)?nodes\b|\bisolated tumou?r cells\b|\bitcs?\b(?!\s*(?:and|with))|"
    rf"{_NODE_BEFORE}[^.;|]{{0,40}}\b(?:both|all)\s+(?:\w+\s+)?(?:were\s+|are\s+)?"
    r"(?:negative|clear|benign|uninvolved|free)\b",
    re.I,
)
_POSITIVE = re.compile(
    r"\bnodes?[- ]?positive\b|\bN\+|\bnodal (?:disease|involvement|metastas\w+)\b|"
    r"\b(?:axilla\w*|nodes?)\s+(?:(?:was|were|is|are|heavily|extensively)\s+)*(?:involved|positive)"
    r"|\bpositive (?:axillary |lymph |sentinel )*nodes\b|\bextra-?nodal extension\b(?! absent)|"
    r"\bene\s*(?:\+|present|positive|yes)|\b(?:nodal|nodes?|axillary|ln)\s+status\s*[:=]?\s*"
    r"positive\b",
    re.I,
)


def _stage_from_count(positive: int) -> str:
    if positive == 0:
        return "N0"
    return "N1" if positive <= 3 else ("N2" if positive <= 9 else "N3")


def _value(word: str) -> int:
    return int(word) if word.isdigit() else _VALUE[word.lower()]


def _clause(text: str, start: int, end: int) -> str:
    """The clause around ``text[start:end]`` (up to the nearest ``. ; |`` or dash)."""
    lo = max(text.rfind(c, 0, start) for c in (". ", "; ", "|", " - ", "\n")) + 1
    his = [i for i in (text.find(c, end) for c in (". ", "; ", "|", " - ")) if i >= 0]
    return text[lo : min(his) if his else len(text)]


def _stated(text: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Stages as written: (pathological or unmarked, clinical), each ``(stage, words)``."""
    path: list[tuple[int, str, str]] = []
    clinical: list[tuple[int, str, str]] = []
    for pattern in (_N_STAGE, _N_FIELD):
        for m in pattern.finditer(text):
            stage = "N1mi" if (m.group(2) or "").lower() == "mi" else f"N{m.group(1)}"
            prefix = text[max(0, m.start() - 12) : m.start(1)].lower()
            is_clinical = _CLINICAL.search(prefix) is not None
            (clinical if is_clinical else path).append((m.start(), stage, m.group(0).strip()))
    return [s[1:] for s in sorted(path)], [s[1:] for s in sorted(clinical)]


def _fraction_count(text: str, m: re.Match[str]) -> int | None:
    """The positive nodes of an "a/b" next to the nodes (none if it is not about them)."""
    groups = [g for g in m.groups() if g is not None]
    if m.group(0).lower().startswith("none"):
        return 0
    a, b = _value(groups[0]), _value(groups[1])
    if a > b or b > 60 or _NOT_A_COUNT.search(text[max(0, m.start() - 12) : m.start()]):
        return None
    before = text[max(0, m.start() - 30) : m.start()]
    after = text[m.end() : m.end() + 40]
    near_before = re.search(rf"(?:{_NODE_BEFORE}|\btotal)\D{{0,25}}$", before, re.I)
    near_after = re.match(rf"\s*\)?\s*(?:\w+\s+){{0,2}}?(?:{_NODE}|{_POS_WORD})", after, re.I)
    if not (near_before or near_after):
        return None
    clause = _clause(text, m.start(), m.end())
    at = clause.find(m.group(0))
    near = clause[max(0, at - 40) : at] + " " + clause[at + len(m.group(0)) :][:30]
    if _nodal_negative(near) and not re.search(_POS_BEFORE, near, re.I):
        return 0  # "sentinel nodes negative (3/3)", "0/3 LN free"
    return a


def _nodal_negative(words: str) -> bool:
    """Whether ``words`` call something negative that is not a receptor or a margin ("ER
    negative", "triple negative", "margins clear" say nothing of the nodes)."""
    return any(
        not _NOT_NODAL.search(words[max(0, n.start() - 15) : n.start()])
        for n in re.finditer(rf"(?:\b|(?=-)){_NEG_WORD}", words, re.I)
    )


def _nodes_count(text: str, m: re.Match[str]) -> int | None:
    """The positive nodes of "N nodes" when the words next to it say they are positive
    ("9 nodes involved", "axilla involved, 8 nodes"); none when they say negative."""
    if _NOT_A_COUNT.search(text[max(0, m.start() - 12) : m.start()]):
        return None
    clause = _clause(text, m.start(), m.end())
    at = clause.find(m.group(0))
    before, after = clause[max(0, at - 30) : at], clause[at + len(m.group(0)) :][:30]
    neg_after = re.match(rf"\s*(?:\w+\s+){{0,2}}?{_NEG_WORD}", after, re.I)
    if re.search(r"\b(?:no|none|without|nil)\b[^,]{0,30}$", before, re.I) or (
        neg_after and _nodal_negative(after[: neg_after.end()])
    ):
        return 0  # "no metastatic disease in 13 nodes", "two sentinel nodes were clear"
    if (
        re.search(_POS_BEFORE, m.group(0), re.I)
        or re.search(_POS_NEAR, after[:25], re.I)
        or re.search(rf"(?:{_POS_BEFORE})\W*(?:\w+\W+){{0,3}}$", before, re.I)
        or "+" in m.group(0)
    ):
        return _value(next(g for g in m.groups() if g))
    return None


def _counted(text: str) -> tuple[int, str] | None:
    """The largest count of positive nodes the note gives, and its words."""
    fractions = list(_FRACTION.finditer(text))
    counts = [(_fraction_count(text, m), m) for m in fractions]
    counts += [
        (_nodes_count(text, m), m)
        for m in _N_NODES.finditer(text)
        if not any(f.start() <= m.start() < f.end() for f in fractions)  # "5 of 17 nodes"
    ]
    found = [(n, m.group(0)) for n, m in counts if n is not None]
    return max(found, key=lambda nm: nm[0]) if found else None


def read_n_stage(text: str) -> tuple[str, str] | None:
    """``(stage, words)``: the N stage as written, else as the counts or words say."""
    path, clinical = _stated(text)
    if path:
        return path[-1]  # pathological staging follows clinical staging in a note
    micro = _MICRO.search(text)
    if micro:
        return "N1mi", micro.group(0)
    counted = _counted(text)
    if counted and counted[0] > 0:
        return _stage_from_count(counted[0]), counted[1]
    negative = _NEGATIVE.search(text)
    if negative:
        return "N0", negative.group(0)
    if counted:
        return "N0", counted[1]
    if clinical:
        return clinical[-1]
    return None


def node_positive(text: str) -> str | None:
    """Words saying the nodes are involved without a count ("node-positive", "ENE present")."""
    m = _POSITIVE.search(text)
    return m.group(0) if m else None
