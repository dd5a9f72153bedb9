"""The treated side of a breast note (used by :mod:`oncoseg.tasks.breast_ctv.reader`).

A side word counts only when it is tied to this breast cancer: next to the breast, its surgery,
its tumour or its radiotherapy ("Lt WBI", "left tangents", "R UOQ", "Breast: LEFT", "LT_BREAST",
"surgery was on the left side"). A side next to another body part ("right knee", "left renal
cyst"), a relative's cancer, a benign or normal finding ("benign right breast cyst", "mammogram
of the right breast normal", "contralateral reduction") or a negation ("NOT right") is skipped.
Sentences that name the tumour or its surgery count double; a tie goes to the first of them.

Example:
    >>> read_side("Right hip replacement 2015. Lt WLE, tangents.")
    ('left', 'Lt WLE')
"""

from __future__ import annotations

import re

_SIDE = {"left": "left", "lt": "left", "l": "left", "right": "right", "rt": "right", "r": "right"}
_LATIN_SIDE = {"sin": "left", "dx": "right"}
_WORD = r"(left|right|lt|rt|l|r)\b(?:(?<=t)\.)?"
_BREASTISH = (
    r"breast|chest[ -]?wall|cw\b|\w*ectomy|mastect\w*|lumpect\w*|lump'?y|wle|wide (?:local )?ex\w*|"
    r"bc[st]\b|bc\b|mrm\b|pmrt\b|axill\w*|ax\b|ca\b|cancer|carcinoma|idc|ilc|dcis|tumou?r|"
    r"quadrant\w*|[uil][io]q\b|sentinel|slnb?|snb|nipple|areola\w*|wbi|wbrt|wb\b|whole[ -]breast|"
    r"tangent\w*|boost|cavity|seroma|scar|wound|clips?\b|conserv\w*|mammoplasty|partial|"
    r"segmental|o'?clock|lump\b|mass\b|lesion|scf|scv|imn|imc|supraclav\w*"
)
# other body parts: a side before or after one names no target ("right knee", "left renal cyst")
_NON_BREAST = re.compile(
    r"\b(?:knee|hip|wrist|shoulder|elbow|ankle|hand|foot|feet|leg|arm|forearm|thigh|eye|ear|"
    r"kidney|renal|ovar\w*|lung|carpal|finger|thumb|toe|mastoid|inguinal|hernia|limb|portacath|"
    r"port|groin|jaw|retina\w*|cataract|heel|adrenal|liver|thyroid|parotid|tibia|femur|rib|"
    r"infraclavicular|pacemaker|lobe|hemithorax|pleura\w*|temporal|frontal|parietal)s?\b",
    re.I,
)
# a side word, then (within three words) something of this breast: "left breast", "Lt) WLE",
# "L-sided breast cancer", "Rt WBI", "left tangents", "right side"
_SIDE_BEFORE = re.compile(
    rf"\b(?!(?-i:RT)\b){_WORD}\)?(?:[-\s]|:\s)*(?:sided\s+)?(?:[\w/'-]+\s+){{0,2}}?(?:{_BREASTISH})",
    re.I,
)
# the breast, then the side: "breast, left", "breast (right)", "laterality: left", "BCS L"
_SIDE_AFTER = re.compile(
    r"\b(?:breast|chest wall|laterality|side|site|bcs|bct|wle|lumpectomy|quadrantectomy|"
    r"mastectomy|breast ca|idc|ilc|dcis|cancer|carcinoma|tumou?r)\s*[:(,=\-]?\s*"
    rf"(?:\[[x✓]\]\s*)?{_WORD}",
    re.I,
)
# "wide local excision on the left", "your surgery was on the left side", "BCS done on the left"
_ON_THE = re.compile(
    rf"\b(?:{_BREASTISH}|excision|surgery|operat\w*|radiation|radiotherapy|treated)[^.;]{{0,30}}?"
    r"\b(?:on|to) the (left|right)\b",
    re.I,
)
# the seed's prompt: "left side" (weaker evidence: "right side pain" also says it)
_SIDE_WORD = re.compile(r"\b(left|right)\s+side\b(?!\s+of)", re.I)
_BILATERAL = re.compile(
    r"\b(?:synchronous bilateral|both sides|both breasts)\b|\bbilateral\s+(?!breast\s+(?:mri|"
    r"imaging|mammo\w*|ultraso\w*|screening|exam\w*|us\b|usg)\b)(?:breast|cancer|carcinoma|"
    r"ca\b|disease|tumou?rs?|idc|ilc|dcis|bcs|wle|lumpectom\w*|mastectom\w*|total)|"
    r"\b(?:laterality|side)\s*[:(,=\-]?\s*(?:both|bilateral)\b",
    re.I,
)
# "ca mammae sin.", "quadrantectomy dx", "Lat: L", "[x] L", "LUOQ", "L UOQ", "left-sided"
_LATIN = re.compile(r"\b(?:mamm\w*|\w*ectomy|ca)\s+(sin|dx)\b\.?", re.I)
_LAT_FIELD = re.compile(
    r"\b(?:lat(?:erality)?|side)\s*[:=]\s*(?:\[[x✓]\]\s*)?(left|right|l|r)\b|"
    r"\b([lr])[\s-]?(?:uo|ui|lo|li)q\b|\[[x✓]\]\s*(left|right|l|r)\b",
    re.I,
)
# "left-sided", "(R)", "R. breast" (a single letter and a dot only right before the breast)
_SIDED = re.compile(
    r"\b(left|right)-sided\b|\((left|right|lt|rt|l|r)\)|\b([lr])\.\s?(?=(?:breast|chest wall|"
    r"axilla|wle|bc[st]|lumpectomy|mastectomy|tangents|wbi|wbrt)\b)",
    re.I,
)
# sentences about someone else, or about a benign finding, name no side of this cancer
# a relative's history is someone else's (reader_surgery uses the same list)
RELATIVES = r"mother|sister|aunt|daughter|grandmother|cousin|niece|father|brother|family|relative"
_NOT_THIS_CANCER = re.compile(
    rf"\b(?:{RELATIVES}|benign|fibroadenoma|cyst|reduction|symmetr\w*|prophylactic|"
    r"mastalgia|cosmetic)\b",
    re.I,
)
# the other breast named as such: "contralateral (left) mammogram", "the opposite, right breast"
_OTHER_BREAST = re.compile(r"\b(?:contralateral|opposite|other)\b\W{1,3}(?:the\s+)?$", re.I)
# imaging that found nothing: "mammogram of the right breast normal", "USG: BIRADS 2"
_NORMAL_IMAGING = re.compile(
    r"\b(?:mammo\w*|mri|ultraso\w*|usg|imag\w*|screen\w*|scan)\b[^.;]{0,40}?\b(?:normal|"
    r"unremarkable|no suspicious|no abnormalit\w*|bi-?rads:?\s*[12])\b|"
    r"\b(?:mammo\w*|mri|ultraso\w*|usg|imag\w*|scan)\s*:?\s+(?:was\s+|is\s+|were\s+)?"
    r"(?:clear|negative)\b|"
    r"\b(?:normal|unremarkable|clear)\s+(?:mammo\w*|mri|ultraso\w*|imaging)|\bbi-?rads:?\s*[12]\b",
    re.I,
)
_NEGATED = re.compile(r"\b(?:not|no|non|nor)[\s-]+(?:the\s+)?$", re.I)
_ANY_SIDE = re.compile(r"\b(?:left|right|lt|rt|l|r|sin|dx)\b", re.I)
_INITIAL = re.compile(r"\b(?:mrs?|ms|miss|mx|dr|prof)\.?\s+$", re.I)  # "Mrs R had ..."
# a side word that is a verb or adverb: "left the clinic", "was left with", "right after"
_NEVER = re.compile(r"(?!)")
_NOT_SIDE_AFTER = {
    "left": re.compile(
        r"\s+(?:the|a|an|her|his|them|us|over|behind|it|home|hospital|clinic|ward|untreated|"
        r"alone|in situ)\b",
        re.I,
    ),
    "right": re.compile(r"\s+(?:away|now|after|before|there|here|then|into|up|through)\b", re.I),
}
# words that tie a sentence to this cancer and its surgery: its side outranks a bare "breast"
_THIS_CANCER = re.compile(
    r"\b(?:carcinoma|cancer|ca|idc|ilc|dcis|tumou?r|lump\w*|wle|excision|\w*ectomy|bc[st]|"
    r"mrm|cavity|tumou?r bed|conserv\w*|mammoplasty|wbi|wbrt|tangents?)\b",
    re.I,
)


def _side_group(m: re.Match[str]) -> int:
    return next(i for i in range(1, (m.re.groups or 0) + 1) if m.group(i))


def _not_a_side(sentence: str, m: re.Match[str], before: bool) -> bool:
    """A side word that names no side of this cancer: "RT" (radiotherapy), "not right", a verb
    ("left the clinic", "right after"), an initial ("Mrs R"), the other breast ("contralateral
    left"), or a side next to another body part (``before``: also the words before the match,
    "hip surgery on the left")."""
    g = _side_group(m)
    side_at, word = m.start(g), m.group(g)
    after = sentence[m.end(g) :]
    lead = sentence[max(0, side_at - 16) : side_at]
    verb = _NOT_SIDE_AFTER.get(word.lower(), _NEVER).match(after) and not lead.endswith("the ")
    if word == "RT" or verb:
        return True
    if _NEGATED.search(lead) or _OTHER_BREAST.search(lead):
        return True
    if len(word) == 1 and _INITIAL.search(lead):
        return True
    near = " ".join(sentence[side_at:].split()[:3])
    if before:
        near += " " + " ".join(sentence[: m.start()].split()[-2:])
    return bool(_NON_BREAST.search(m.group(0)) or _NON_BREAST.search(near))


def _other_context(sentence: str) -> set[int]:
    """Side-word positions that a relative, a benign finding or normal imaging is about: each
    such phrase belongs to the nearest side word of its sentence (within 60 characters)."""
    positions = [m.start() for m in _ANY_SIDE.finditer(sentence)]
    hits = [(m.start(), m.end()) for m in _NOT_THIS_CANCER.finditer(sentence)]
    hits += [(m.start(), m.end()) for m in _NORMAL_IMAGING.finditer(sentence)]
    out = set()
    for start, end in hits:
        dist = {
            at: 0 if start <= at < end else min(abs(at - start), abs(at - end)) for at in positions
        }
        nearest = min(dist, key=lambda at: dist[at], default=None)
        if nearest is not None and dist[nearest] <= 60:
            out.add(nearest)
    return out


def _sentence_sides(sentence: str) -> list[tuple[int, str, str]]:
    """``(position, side, words)`` of each side this sentence gives this breast cancer."""
    found = []
    for pattern in (_SIDE_AFTER, _SIDE_BEFORE, _ON_THE, _LAT_FIELD, _SIDED):
        for m in pattern.finditer(sentence):
            word = m.group(_side_group(m)).lower()
            if word in _SIDE and not _not_a_side(sentence, m, pattern is _ON_THE):
                at = m.start(_side_group(m))
                found.append((m.start(), _SIDE[word], m.group(0).strip(), at))
    found += [
        (m.start(), _LATIN_SIDE[m.group(1).lower()], m.group(0), m.start(1))
        for m in _LATIN.finditer(sentence)
    ]
    skipped = _other_context(sentence)
    return sorted((pos, side, words) for pos, side, words, at in found if at not in skipped)


def _about_others(text: str, m: re.Match[str]) -> bool:
    """Whether the sentence of ``m`` is about a relative or a benign finding."""
    start = max(text.rfind(c, 0, m.start()) for c in (". ", "; ", "| ")) + 1
    ends = [i for i in (text.find(c, m.end()) for c in (". ", "; ", "| ")) if i >= 0]
    return _NOT_THIS_CANCER.search(text[start : min(ends, default=len(text))]) is not None


def _identifiers(text: str) -> str:
    """Structure names read as words: "LT_BREAST" -> "LT BREAST", "RT_BREAST" -> "Rt BREAST"
    (capital RT alone is radiotherapy), "CTV_Breast_L" -> "CTV Breast L"."""
    text = re.sub(r"\bRT_(?=[A-Za-z])", "Rt ", text)
    text = re.sub(r"(?<=[A-Za-z])_RT\b", " Rt", text)
    return re.sub(r"(?<=[A-Za-z])_(?=[A-Za-z])", " ", text)


def read_side(text: str) -> tuple[str, str] | None:
    """The treated side and the words that say it: votes of the sentences about this cancer,
    those that name its surgery or tumour counting double; a tie goes to the first mention."""
    text = _identifiers(text)
    both = next((m for m in _BILATERAL.finditer(text) if not _about_others(text, m)), None)
    if both:
        return "both", both.group(0)
    score = {"left": 0, "right": 0}
    first: dict[str, tuple[int, int, str]] = {}
    for i, sentence in enumerate(
        re.split(r"(?<=[.;|!?])(?<!\b[lr]t\.)(?<!\b[lr]\.)\s+", text, flags=re.I)
    ):
        weight = 2 if _THIS_CANCER.search(sentence) else 1
        for pos, side, words in _sentence_sides(sentence):
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
