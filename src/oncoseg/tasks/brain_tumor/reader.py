"""Read a brain tumour note into the fields that name the target lesion.

The label is the glioma the note names, so the model needs the target's hemisphere, lobe and
grade; a second lesion the note mentions (a stable meningioma, a treated metastasis) is not a
target and its location must not be read as the target's. Clinicians write "L frontal GBM",
"right-sided temporal lobe lesion", "WHO grade 2 astrocytoma, left parietal", "HGG", and put
other lesions in sentences that say they are not treated ("known stable meningioma in the
right parietal region; not a target"). The reader takes the location from the first sentence
(or ';' clause) that names one and is not about a non-target lesion (nor followed by a clause
that only says "not a target"), the grade from the words of the whole
note that name a grade, and returns the seed's prompt
(:func:`oncoseg.tasks.brain_tumor.phantom.brain_prompt`), which it returns unchanged.

Example:
    >>> read_brain_note("58M, Lt frontal GBM, biopsy-proven. For radical RT.").canonical
    'left frontal, high-grade glioma'
"""

from __future__ import annotations

import re

from oncoseg.tasks.brain_tumor.phantom import LOBES, brain_prompt
from oncoseg.text.readers import NoteReading

FIELDS = ("hemisphere", "lobe", "grade")
# the values a contrastive explanation tries for each field (NoteReading.options)
OPTIONS = {"hemisphere": ("left", "right"), "lobe": tuple(LOBES), "grade": ("high", "low")}
_SIDE = {"left": "left", "lt": "left", "l": "left", "right": "right", "rt": "right", "r": "right"}
_SIDE_WORD = r"(left|right|lt|rt|l|r)(?:[- ]?sided)?\.?"
_LOBE_WORD = r"(" + "|".join(LOBES) + r")(?:\s+lobe)?"
# "left frontal", "frontal lobe, left", "L) temporal", "temporal (right)"
_LOCATION = (
    re.compile(rf"\b{_SIDE_WORD}\)?\s+{_LOBE_WORD}\b", re.I),
    re.compile(rf"\b{_LOBE_WORD}\s*(?:,|\()?\s*{_SIDE_WORD}(?![\w-])", re.I),
)
# a sentence about a lesion that is not treated
_NOT_TARGET = re.compile(
    r"\bnot\s+(?:a\s+|the\s+)?target\b|\bmeningioma\b|\bmetasta|\bknown stable\b|"
    r"\bpreviously treated\b|\bno active disease\b",
    re.I,
)
_HIGH = re.compile(
    r"\bhigh[- ]grade\b|\bHGG\b|\bglioblastoma\b|\bGBM\b|\banaplastic\b|"
    r"\b(?:WHO\s+)?grade\s*(?:3|4|III|IV)\b",
    re.I,
)
_LOW = re.compile(r"\blow[- ]grade\b|\bLGG\b|\b(?:WHO\s+)?grade\s*(?:1|2|I|II)\b", re.I)
_SENTENCE = re.compile(r"(?<=[.;!?|\n])\s+")
# a clause that only says the clause before it is not treated: "...region; not a target."
_ONLY_NOT_TARGET = re.compile(r"^\W*(?:(?:but|and)\s+)?not\s+(?:a\s+|the\s+)?target\W*$", re.I)


# a lesion denied, not described: "no metastatic disease", "without meningioma"
_DENIED = re.compile(r"\b(?:no|without|not)\s+(?:\w+\s+){0,2}?(?:metasta\w*|meningioma)", re.I)


def _target_sentences(text: str) -> list[str]:
    """The note's sentences (and ';' clauses) that are not about a non-target lesion."""
    parts = _SENTENCE.split(text)
    keep = []
    for i, part in enumerate(parts):
        after = parts[i + 1] if i + 1 < len(parts) else ""
        about_other = _NOT_TARGET.search(_DENIED.sub(" ", part))
        if not about_other and not _ONLY_NOT_TARGET.match(after):
            keep.append(part)
    return keep


def _location(sentence: str) -> tuple[str, str, str] | None:
    """``(hemisphere, lobe, words)`` of the first side + lobe pair in ``sentence``."""
    hits = [m for p in _LOCATION for m in p.finditer(sentence)]
    if not hits:
        return None
    m = min(hits, key=lambda h: h.start())
    a, b = m.group(1).lower(), m.group(2).lower()
    side, lobe = (a, b) if a in _SIDE else (b, a)
    return _SIDE[side.rstrip(".")], lobe, m.group(0).strip()


def _grade(text: str) -> tuple[str, str] | None:
    """``(grade, words)``: the first grade words of the note (high before low when both)."""
    hits = [
        (m.start(), g, m.group(0))
        for g, p in (("high", _HIGH), ("low", _LOW))
        for m in p.finditer(text)
    ]
    if not hits:
        return None
    _, grade, words = min(hits)
    return grade, words


def read_brain_note(note: str) -> NoteReading:
    """The target's hemisphere, lobe and grade, and the canonical prompt. A field the note
    does not decide is left out of ``fields``; the prompt needs all three, so a note missing
    one comes back unchanged as its own canonical form."""
    text = " ".join(note.split())
    fields: dict[str, str] = {}
    evidence: dict[str, str] = {}
    sentences = _target_sentences(text)
    for sentence in sentences:
        found = _location(sentence)
        if found:
            fields["hemisphere"], fields["lobe"], evidence["hemisphere"] = found
            evidence["lobe"] = found[2]
            break
    grade = _grade(" ".join(sentences))
    if grade:
        fields["grade"], evidence["grade"] = grade
    complete = all(f in fields for f in FIELDS)
    return NoteReading(
        fields=fields,
        canonical=brain_prompt(fields) if complete else note,
        evidence=evidence,
        required=FIELDS,
        options=OPTIONS if complete else {},
        render=brain_prompt,
    )
