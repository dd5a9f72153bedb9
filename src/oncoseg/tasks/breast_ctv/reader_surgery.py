"""The surgery of a breast note (used by :mod:`oncoseg.tasks.breast_ctv.reader`).

A named operation decides: breast-conserving ("WLE", "wide excision", "lumpectomy", "partial
mastectomy", "quadrantectomy", "tumourectomy", "therapeutic mammoplasty", "BCS", "BCT",
"conserved") or mastectomy ("mastectomy", "MRM", "PMRT", "post-mastectomy"); a mastectomy that
was declined, avoided or negated ("no mastectomy", "not a post-mastectomy case") is none. When
both are named the later one is the current one (BCS, then completion mastectomy). Without a
named operation the radiotherapy target decides: the breast ("whole breast", "WBI", "breast
only", "tangents", "RT to the breast", "Breast: LEFT", a cavity or tumour-bed boost) means the
breast was kept; the chest wall as a target means a mastectomy.

Example:
    >>> read_surgery("Lt WBI 26Gy/5, boost to bed")
    ('BCS', 'WBI')
"""

from __future__ import annotations

import re

from oncoseg.tasks.breast_ctv.reader_side import RELATIVES

_CONSERVING = re.compile(
    r"\b(breast[ -]conserv\w*|breast conservation|conserv(?:ed|ing|ative)(?: breast| surgery)?|"
    r"bc[st]|lumpect\w*|lump'?y|wle|wide (?:local )?ex\w*ision|local excision|re-?excision|"
    r"(?:partial|segmental) mastectomy|quadrantectom\w*|segmentectom\w*|tumou?rectom\w*|"
    r"(?:therapeutic |oncoplastic )mammoplasty|oncoplastic (?:surgery|resection)|"
    r"operated conservative\w*|kept (?:her|the) breast|excision of the (?:breast )?(?:tumou?r|"
    r"lump|cancer|lesion)|(?:tumou?r|lump|cancer) (?:was )?(?:widely |locally )?excised)\b",
    re.I,
)
_MASTECTOMY = re.compile(
    r"(?<!partial )(?<!segmental )\b((?:post[ -])?mastect\w*|mrm|pmrt|"
    r"modified radical)\b",
    re.I,
)
# a mastectomy that did not happen: "declined mastectomy", "no mastectomy", "not a post-..."
_NOT_DONE = re.compile(
    r"\b(?:no|not|not a|non|declined?|refused|avoid\w*|instead of|rather than|without|"
    r"spared?|offered|considered|discussed|wish\w* to avoid)\b[\s-]*(?:an?\s+)?$",
    re.I,
)
_SOMEONE_ELSE = re.compile(rf"\b(?:{RELATIVES})\b", re.I)
_OTHER_BREAST = re.compile(
    r"\b(?:contralateral|prophylactic|risk[- ]reducing|other breast)\b[^.;|]{0,25}$", re.I
)
_MASTECTOMY_NOT_DONE_AFTER = re.compile(r"^\s*(?:was |were )?(?:declined|avoided|not )", re.I)
# the breast as the radiotherapy target (the breast was kept)
_BREAST_TARGET = re.compile(
    r"\b(whole[ -]breast|wbi|wbrt|wb\b|tangent\w*|residual breast|conserved breast|"
    r"breast[ -](?:only|alone|ctv|ptv|rt|radio\w*|irradiation|volumes?|tangents?|\+|plus)|"
    r"(?:cavity|tumou?r[- ]bed|bed) boost|boost (?:to|on) (?:the )?(?:tumou?r |cavity |clipped )?"
    r"(?:bed|cavity|clips)|seroma|(?:lumpectomy |excision )cavity|"
    r"(?:(?-i:RT)|radio\w*|radiation|irradiat\w*|treat\w*|plan\w*|cover\w*|contour\w*|outline\w*|"
    r"target\w*|volumes?|rx|ctv|ptv|site|organ)\b[^.;|]{0,20}?\bbreast\b(?!\s*(?:cancer|ca\b|"
    r"carcinoma|board|clinic|surgeon|team|nurse|cns|mdt|imaging|mri|mammo\w*))|"
    r"breast\s*[:=]\s*(?:left|right|l|r)\b)",
    re.I,
)
# a sided breast that is not a diagnosis: "Rt breast set-up" (not "Rt breast IDC")
_SIDED_BREAST = re.compile(
    r"\b(?:left|right|lt|rt|l|r)\b\.?\)?\s+breast\b(?!\s*(?:cancer|ca\b|carcinoma|idc|ilc|dcis|"
    r"tumou?r|mass|lump|lesion|biopsy|primary|malignancy|neoplasm|disease|\w+oma\b|invasive|"
    r"ductal|lobular|was|had|in\b|at\b|\d))",
    re.I,
)
_NOT_THIS_BREAST = re.compile(r"\b(?:contralateral|opposite|other)\s+$", re.I)
# the chest wall as the target, not a volume's edge ("whole breast to the chest wall")
_CHEST_WALL = re.compile(r"\b(chest[ -]?wall|cw)\b", re.I)
_UNTICKED = re.compile(r"\[\s?\]\s*$")
_EDGE = re.compile(r"\bbreast\b[^.;|]{0,25}\b(?:to|on|over|from|above)\s+(?:the\s+)?$", re.I)


def _sentence(text: str, m: re.Match[str]) -> str:
    start = max(text.rfind(c, 0, m.start()) for c in (". ", "; ", "| ")) + 1
    ends = [i for i in (text.find(c, m.end()) for c in (". ", "; ", "| ")) if i >= 0]
    return text[start : min(ends, default=len(text))]


def _done(text: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """``pattern``'s matches that are this patient's operations, not declined or negated,
    not a relative's ("her mother had a mastectomy") or the other breast's."""
    found = []
    for m in pattern.finditer(text):
        if _SOMEONE_ELSE.search(_sentence(text, m)):
            continue
        if _OTHER_BREAST.search(text[max(0, m.start() - 30) : m.start()]):
            continue
        if _NOT_DONE.search(text[max(0, m.start() - 25) : m.start()]):
            continue
        if _MASTECTOMY_NOT_DONE_AFTER.search(text[m.end() : m.end() + 20]):
            continue
        found.append(m)
    return found


def _target(text: str) -> tuple[str, str] | None:
    """The surgery the radiotherapy target implies: the breast (first: a kept breast's note
    may name the chest wall as a volume's edge or a symptom), else the chest wall, else a
    sided breast named as the site ("Rt breast set-up", "L breast + nodes")."""
    for m in _BREAST_TARGET.finditer(text):
        if not _NOT_THIS_BREAST.search(text[max(0, m.start() - 15) : m.start()]):
            return "BCS", m.group(0)
    for m in _CHEST_WALL.finditer(text):
        lead = text[max(0, m.start() - 40) : m.start()]
        if not (_EDGE.search(lead) or _NOT_DONE.search(lead[-15:]) or _UNTICKED.search(lead)):
            return "mastectomy", m.group(0)
    sided = _SIDED_BREAST.search(text)
    return ("BCS", sided.group(0)) if sided else None


def read_surgery(text: str) -> tuple[str, str] | None:
    """``("BCS" | "mastectomy", words)``: the named operation (the later of two), else the
    target."""
    named = [("BCS", m) for m in _done(text, _CONSERVING)]
    named += [("mastectomy", m) for m in _done(text, _MASTECTOMY)]
    if named:
        surgery, m = max(named, key=lambda sm: sm[1].start())
        return surgery, m.group(0)
    return _target(text)
