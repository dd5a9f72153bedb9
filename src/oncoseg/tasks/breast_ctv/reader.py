"""Read a breast radiotherapy note into the fields the CTV depends on.

The rule table (:mod:`oncoseg.tasks.breast_ctv.clinical`) needs the side, the surgery
(breast-conserving or mastectomy), the N stage and, for N1mi, the T stage. Clinicians write
these in many ways: "Rt", "L) breast", "left-sided"; "s/p lumpectomy", "WLE", "partial
mastectomy"; "pN2a", "T2N1M0", "5/14 nodes positive", "4+ nodes", "SLNB 0/3", "node-negative";
or only the plan: "whole breast plus regional nodes", "breast only, no nodal RT". The reader
returns those fields and the note in the form the model was trained on, the seed's prompt
(:func:`oncoseg.tasks.breast_ctv.notes.breast_prompt`), which it returns unchanged.

Side words count only next to the breast (a "right knee replacement" names no target), and a
stated N stage outranks counts, which outrank the written plan.

Example:
    >>> read_breast_note("Rt breast, s/p lumpectomy, 5/14 LN+, treat nodes").canonical
    'N2, breast conserving surgery, right side'
"""

from __future__ import annotations

import re

from oncoseg.tasks.breast_ctv.notes import SURGERY_TEXT
from oncoseg.text.readers import NoteReading

FIELDS = ("side", "surgery", "n_stage")
_SIDE = {"left": "left", "lt": "left", "l": "left", "right": "right", "rt": "right", "r": "right"}
_BREASTISH = (
    r"breast|chest[ -]?wall|mastectomy|lumpectomy|wle|wide local|bcs|axilla\w*|"
    r"ca\b|cancer|carcinoma|idc|ilc|dcis|tumou?r|quadrant|sentinel|slnb|nipple|bc\b"
)
# a side word, then (within three words) something of the breast: "left breast",
# "Lt) WLE", "L-sided breast cancer", "right side"
_SIDE_BEFORE = re.compile(
    rf"\b(?!(?-i:RT)\b)(left|right|lt|rt|l|r)\b\)?[-\s]*(?:[\w/-]+\s+){{0,2}}?(?:{_BREASTISH})",
    re.I,
)
# the breast, then the side: "breast, left", "breast (right)", "laterality: left"
_SIDE_AFTER = re.compile(
    r"\b(?:breast|chest wall|laterality|side|bcs|wle|lumpectomy|quadrantectomy|mastectomy)"
    r"\s*[:(,\-]?\s*(left|right|lt|rt|l|r|bilateral|both)\b",
    re.I,
)
# "wide local excision on the left", "the breast on the right"
_ON_THE = re.compile(rf"(?:{_BREASTISH}|excision)[^.;]{{0,30}}?\bon the (left|right)\b", re.I)
# the seed's prompt: "left side" (weaker evidence: "right side pain" also says it)
_SIDE_WORD = re.compile(r"\b(left|right)\s+side\b(?!\s+of)", re.I)
_BILATERAL = re.compile(r"\b(bilateral|both sides|synchronous bilateral)\b", re.I)
_MASTECTOMY = re.compile(
    r"(?<!partial )(?<!segmental )(?<!not a post-)(?<!not a )(?<!no )\b(mastectomy|mrm|"
    r"chest[ -]?wall)\b",
    re.I,
)
_CONSERVING = re.compile(
    r"\b(breast[ -]conserv\w*|bcs|bct|lumpectomy|wle|wide local ex\w*ision|partial mastectomy|"
    r"segmental mastectomy|quadrantectomy|segmentectomy|whole[ -]breast|conserved breast|"
    r"breast conservation|conservative surgery|operated conservative\w*|kept (?:her|the) breast|"
    r"residual breast|lump'?y|lumpect\w*|whole (?:left |right |l |r )?breast|seroma|"
    r"(?:lumpectomy |excision )?cavity|tumou?r[- ]bed boost|boost to the tumou?r bed|"
    r"(?:treat|outline|target|contour|irradiate)\w*[^.;]{0,25}\bbreast)\b",
    re.I,
)
_N_STAGE = re.compile(
    r"(?:\b(?:y?p|y?c)?|(?<=T[0-4isabcd]))N([0-3])(mi|a|b|c)?(?:\(\w+[+-]?\))?(?![\w+])", re.I
)
_T_STAGE = re.compile(r"\b(?:y?p|y?c)?T([0-4]|is)[abcd]?(?=N|\b|\s)", re.I)
_MICRO = re.compile(r"\bmicro[- ]?meta\w*|\bmicrometastatic\b|\bN1mi\b", re.I)
# counts that say they are positive: "5/14 nodes positive", "5 of 14 LN involved", "5/14 LN+"
_POS_COUNT = re.compile(
    r"\b(\d{1,2})\s*(?:/|of|out of|from)\s*(?:her |your |the |his )?(\d{1,2})\b\s*"
    r"(?:[a-z]+\s+){0,3}?"
    r"(?:positive|involved|pos\b|\+|ln\s*\+|nodes?\s*\+|metastatic)",
    re.I,
)
_POS_WORDS = re.compile(
    r"(?<!no )\b(?:cancer|metastas\w+|tumou?r)\s+(?:was\s+)?(?:found\s+)?in\s+(\d{1,2})\s+"
    r"(?:of\s+(?:her|your|the|his)\s+)?(?:\d{1,2}\s+)?(?:\w+\s+)?(?:lymph\s+)?nodes|"
    r"\b(\d{1,2})\s*(?:\+\s*)?(?:positive|involved|metastatic)\s+(?:axillary\s+)?(?:lymph\s+)?"
    r"(?:nodes?|ln)\b|\b(\d{1,2})\s*\+\s*(?:positive\s+)?(?:nodes?|ln)\b",
    re.I,
)
# counts next to the nodes that do not say which way: "SLNB 0/3", "LN 5/14", "5/14 nodes"
_COUNT = re.compile(
    r"\b(\d{1,2})\s*(?:/|of|out of|from)\s*(?:her |your |the |his )?(\d{1,2})\s+"
    r"(?:[a-z]+\s+){0,2}?(?:nodes?|ln)\b|"
    r"\b(?:nodes?|ln|slnb?|snb|sns?|sentinel\w*|alnd)\D{0,25}?(?<!on )\b(\d{1,2})\s*/\s*"
    r"(\d{1,2})\b",
    re.I,
)
_NEGATIVE = re.compile(
    r"\bnode[- ]?negative\b|\bnodes? -?ve\b|"
    r"\baxilla\w* (?:nodes? )?(?:negative|clear|uninvolved)\b|\bsentinel (?:nodes? )?negative\b|"
    r"\b(?:sentinel |axillary |lymph )?nodes? (?:was|were|is|are) (?:clear|negative|uninvolved)\b|"
    r"\bwithout (?:lymph )?(?:nodal|node|axillary) (?:involvement|disease|metastas\w+)|"
    r"\b(?:slnb?|snb) (?:negative|clear)\b|\bnone of the (?:\d+ )?(?:\w+ )?(?:lymph )?nodes\b|"
    r"\bno (?:evidence of )?(?:nodal|axillary|lymph node)\w* (?:involvement|disease|"
    r"metastas\w+|spread)|\b(?:axillary |sentinel |lymph )?nodes? (?:were |are )?(?:clear|negative|"
    r"uninvolved|benign)\b|\bnodes? neg\b",
    re.I,
)
_POSITIVE = re.compile(r"\bnode[- ]?positive\b|\bnodal (?:disease|involvement|metastas\w+)\b", re.I)
_PLAN_NODES = re.compile(
    r"\b(?:regional (?:nodes?|nodal|lymph)|nodal (?:rt|irradiation|radiotherapy|volumes?)|"
    r"(?:treat|include|includ\w+|plus|and|with|\+)\s+(?:the\s+)?(?:regional\s+)?(?:nodes|nodal|"
    r"scf|imc|imn|axilla|supraclav\w*|internal mammary)|rni\b|\bscf\b|\bimc\b|\bimn\b|"
    r"supraclavicular|internal mammary|rni\s*[:=]\s*yes)",
    re.I,
)
_PLAN_NO_NODES = re.compile(
    r"\b(?:no (?:nodal|regional|axillary) (?:rt|irradiation|radiotherapy|treatment|volumes?)|"
    r"breast[- ]only|(?:whole )?breast alone|without (?:nodal|regional)|omit\w* (?:the )?"
    r"(?:nodal|regional|nodes)|no nodal fields?|tangents only|"
    r"(?:nodal|regional) (?:rt|irradiation|radiotherapy|fields?) (?:is |are )?not (?:indicated|"
    r"required|needed|recommended)|(?:do not|don't) (?:want|treat|include) (?:the )?nodes|"
    r"nodes? (?:are )?not (?:to be )?(?:treated|included)|no rni\b|rni\s*[:=]\s*no\b|"
    r"(?:axilla|nodal regions?|nodes) not (?:to be )?(?:treated|included|contoured)|"
    r"only the (?:residual |whole )?breast)",
    re.I,
)
_NEGATED_PLAN = re.compile(r"\b(?:no|not|without|omit\w*)\b[^.;]{0,20}$", re.I)


def _sided(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """``pattern``'s matches whose side word is a side: "RT" in capitals is radiotherapy."""
    return [m for m in pattern.finditer(text) if m.group(1) != "RT"]  # "LUOQ": group 2


# sentences about someone else, or about a benign finding, name no side of this cancer
_NOT_THIS_CANCER = re.compile(
    r"\b(?:mother|sister|aunt|daughter|grandmother|cousin|niece|father|brother|family|"
    r"relative|benign|fibroadenoma|cyst)\b",
    re.I,
)
# words that tie a sentence to this cancer and its surgery: its side outranks a bare "breast"
_THIS_CANCER = re.compile(
    r"\b(?:carcinoma|cancer|ca|idc|ilc|dcis|tumou?r|lump\w*|wle|excision|\w*ectomy|bcs|"
    r"cavity|tumou?r bed)\b",
    re.I,
)
# "ca mammae sin.", "quadrantectomy dx", "Lat: L", "left-sided"
_LATIN = re.compile(r"\b(?:mamm\w*|\w*ectomy|ca)\s+(sin|dx)\b\.?", re.I)
_LAT_FIELD = re.compile(
    r"\b(?:lat(?:erality)?|side)\s*[:=]\s*(?:\[[x✓]\]\s*)?(left|right|l|r)\b|"
    r"\b([lr])(?:uo|ui|lo|li)q\b|\[[x✓]\]\s*(left|right|l|r)\b",
    re.I,
)
_SIDED = re.compile(
    r"\b(left|right)-sided\b(?!\s+(?:knee|hip|wrist|shoulder|ankle|elbow|hand|eye|leg|arm|foot))",
    re.I,
)
_LATIN_SIDE = {"sin": "left", "dx": "right"}


def _side_word(m: re.Match[str]) -> str:
    return next((g for g in m.groups() if g), "").lower()


def _sentence_sides(sentence: str) -> list[tuple[int, str, str]]:
    """``(position, side, words)`` of each side this sentence gives the breast."""
    found = [
        (m.start(), _SIDE[_side_word(m)], m.group(0))
        for pattern in (_SIDE_AFTER, _SIDE_BEFORE, _ON_THE, _LAT_FIELD, _SIDED)
        for m in _sided(pattern, sentence)
        if _side_word(m) in _SIDE
    ]
    found += [
        (m.start(), _LATIN_SIDE[m.group(1).lower()], m.group(0)) for m in _LATIN.finditer(sentence)
    ]
    return sorted(found)


def _side(text: str) -> tuple[str, str] | None:
    """The treated side: votes of the sentences about this cancer, those that name its
    surgery or tumour counting double; a tie goes to the first such mention."""
    both = _BILATERAL.search(text) or re.search(
        r"\b(?:laterality|side)\s*[:(,\-]?\s*(?:both|bilateral)\b", text, re.I
    )
    if both:
        return "both", both.group(0)
    score = {"left": 0, "right": 0}
    first: dict[str, tuple[int, int, str]] = {}
    for i, sentence in enumerate(re.split(r"(?<=[.;|!?])\s+|\n", text)):
        weight = 2 if _THIS_CANCER.search(sentence) else 1
        for pos, side, words in _sentence_sides(sentence):
            if _NOT_THIS_CANCER.search(sentence[max(0, pos - 40) : pos + len(words) + 40]):
                continue  # a relative's cancer, a benign lump on the other side
            score[side] += weight
            first.setdefault(side, (-weight, i * 10_000 + pos, words))
    if not first:
        weak = _SIDE_WORD.search(text)
        return (weak.group(1).lower(), weak.group(0)) if weak else None
    if score["left"] != score["right"]:
        side = max(score, key=lambda k: score[k])
    else:
        side = min(first, key=lambda k: first[k][:2])
    return side, first[side][2]


def _surgery(text: str) -> tuple[str, str] | None:
    conserving, mastectomy = _CONSERVING.search(text), _MASTECTOMY.search(text)
    if conserving and mastectomy and "chest" in mastectomy.group(0).lower():
        # "the whole breast to the chest wall": a volume's edge, not the surgery
        mastectomy = next(
            (m for m in _MASTECTOMY.finditer(text) if "chest" not in m.group(0).lower()), None
        )
    if conserving and mastectomy:  # "chest wall" in a plan after a mastectomy, or BCS then
        # completion mastectomy: the later statement is the current one
        last = max((conserving, mastectomy), key=lambda m: m.start())
        return ("BCS" if last is conserving else "mastectomy"), last.group(0)
    if conserving:
        return "BCS", conserving.group(0)
    if mastectomy:
        return "mastectomy", mastectomy.group(0)
    return None


def _stage_from_count(positive: int) -> str:
    if positive == 0:
        return "N0"
    return "N1" if positive <= 3 else ("N2" if positive <= 9 else "N3")


def _count(m: re.Match[str]) -> tuple[int, int] | None:
    groups = [g for g in m.groups() if g is not None]
    if len(groups) == 2 and int(groups[1]) >= int(groups[0]):
        return int(groups[0]), int(groups[1])
    return None


def _n_stage(text: str) -> tuple[str, str] | None:
    """The N stage as written, else as its counts or words say (in that order of trust)."""
    stated = list(_N_STAGE.finditer(text))
    if stated:
        m = stated[-1]  # pathological staging follows clinical staging in a note
        return ("N1mi" if (m.group(2) or "").lower() == "mi" else f"N{m.group(1)}"), m.group(0)
    micro = _MICRO.search(text)
    if micro:
        return "N1mi", micro.group(0)
    for m in _POS_COUNT.finditer(text):
        counted = _count(m)
        if counted:
            return _stage_from_count(counted[0]), m.group(0)
    words = _POS_WORDS.search(text)
    if words:
        count = next(g for g in words.groups() if g)
        return _stage_from_count(int(count)), words.group(0)
    negative = _NEGATIVE.search(text)
    if negative:
        return "N0", negative.group(0)
    for m in _COUNT.finditer(text):
        counted = _count(m)
        if counted:
            return _stage_from_count(counted[0]), m.group(0)
    return None


def _nodes_planned(text: str) -> tuple[bool, str] | None:
    """Whether the plan treats the nodes, when the note says so."""
    no = _PLAN_NO_NODES.search(text)
    if no:
        return False, no.group(0)
    for m in _PLAN_NODES.finditer(text):
        if not _NEGATED_PLAN.search(text[max(0, m.start() - 30) : m.start()]):
            return True, m.group(0)
    if _POSITIVE.search(text):
        return True, _POSITIVE.search(text).group(0)  # type: ignore[union-attr]
    return None


def read_breast_note(note: str) -> NoteReading:
    """The side, surgery and N stage (T stage for N1mi) of a breast note, and its canonical
    prompt. A field the note does not decide is left out of both."""
    text = " ".join(note.split())
    fields: dict[str, str] = {}
    evidence: dict[str, str] = {}
    for name, found in (("side", _side(text)), ("surgery", _surgery(text))):
        if found:
            fields[name], evidence[name] = found
    stage = _n_stage(text)
    if stage is None:
        plan = _nodes_planned(text)
        if plan is not None:  # no stage written: the plan decides (a representative stage)
            stage = ("N2" if plan[0] else "N0"), plan[1]
    if stage:
        fields["n_stage"], evidence["n_stage"] = stage
    t = _T_STAGE.search(text)
    if t:
        fields["t_stage"] = f"T{t.group(1).lower() if t.group(1) == 'IS' else t.group(1)}"
    return NoteReading(
        fields=fields, canonical=_canonical(fields), evidence=evidence, required=FIELDS
    )


def _canonical(fields: dict[str, str]) -> str:
    parts = []
    if "n_stage" in fields:
        n = fields["n_stage"]
        parts.append(f"{fields['t_stage']} {n}" if n == "N1mi" and "t_stage" in fields else n)
    if "surgery" in fields:
        parts.append(SURGERY_TEXT[fields["surgery"]])
    if "side" in fields:
        parts.append("both sides" if fields["side"] == "both" else f"{fields['side']} side")
    return ", ".join(parts)
