"""Read a head-and-neck prescription into the targets it prescribes.

OpenKBP's targets are named by their dose: PTV70, PTV63 and PTV56. Which of them a patient
has is decided by the prescription, not by anything on the CT, and a target that is not
prescribed must come out as an empty structure, never a guess. Clinicians write the
prescription as "70 Gy to PTV70; 56 Gy to PTV56", "PTV_High 69.96 Gy/33#, PTV_Low 56 Gy",
"70/63/56 Gy" or "DL1 70 Gy, DL3 56 Gy". The reader takes each dose written in Gy (or a
"70/63/56 Gy" list) and each target named as PTV70/PTV63/PTV56, maps a dose to the nearest of
the three levels when it lies within 3.5 Gy of it, and returns:

- ``fields``: ``{"PTV70": "70 Gy", ...}`` for the prescribed targets;
- ``absent``: the targets the prescription leaves out, only where the note states a whole
  prescription (the word "prescription" or "Rx", a target named as PTVnn, or two dose levels
  or more): a note with one dose and nothing else, or none, rules nothing out. A dose after
  an organ's name or a limit word ("cord max 45 Gy", "mean < 26 Gy", "prior RT 60 Gy") is
  not a prescription;
- ``canonical``: the note in the form the models were trained on
  (:func:`oncoseg.tasks.openkbp.convert.prescription`).

Example:
    >>> r = read_prescription("Oropharynx SCC. PTV_High 69.96 Gy in 33 fractions; elective 56 Gy")
    >>> r.fields, r.absent
    ({'PTV70': '69.96 Gy', 'PTV56': '56 Gy'}, ('PTV63',))
"""

from __future__ import annotations

import re

from oncoseg.tasks.openkbp.convert import DOSES, TARGETS, prescription
from oncoseg.text.readers import NoteReading

TOLERANCE_GY = 3.5
_DOSE_LIST = re.compile(r"\b(\d{2}(?:\.\d+)?(?:\s*/\s*\d{2}(?:\.\d+)?)+)\s*Gy\b", re.I)
_DOSE = re.compile(r"\b(\d{2}(?:\.\d+)?)\s*Gy\b", re.I)
_TARGET = re.compile(r"\bPTV[\s_-]?(70|63|56)\b", re.I)
# a dose that is an organ's limit, not a prescription: "cord max 45 Gy", "mean < 26 Gy",
# "D2% 54 Gy", "brainstem 54 Gy", "previous RT 60 Gy"
_LIMIT = re.compile(
    r"(?:\bmax\w*|\bmean\b|\blimit|\bconstraint|[<>≤≥]=?|\bD\d|\bV\d|\bcord\b|"
    r"\bbrain\s?stem|\bparotid|\bmandible|\blarynx|\bcochlea|\boptic|\bchiasm|\blens\b|"
    r"\bprevious|\bprior\b|\bin\s+(?:19|20)\d\d)[^.;,]{0,20}$",
    re.I,
)
# the note states a whole prescription: only then are the dose levels it leaves out ruled out
_STATED = re.compile(r"\bprescri|\bRx\b|\bdose levels?\b", re.I)


def _level(dose: float) -> str | None:
    """The target whose dose level is within :data:`TOLERANCE_GY` of ``dose``."""
    name, level = min(DOSES.items(), key=lambda kv: abs(kv[1] - dose))
    return name if abs(level - dose) <= TOLERANCE_GY else None


def read_prescription(note: str) -> NoteReading:
    """The prescribed targets of ``note``, those it leaves out, and the canonical note."""
    found: dict[str, str] = {}
    text = " ".join(note.split())
    for m in _DOSE_LIST.finditer(text):  # "70/63/56 Gy": every level named
        for part in m.group(1).split("/"):
            name = _level(float(part))
            if name:
                found.setdefault(name, f"{part.strip()} Gy")
    text_wo_lists = _DOSE_LIST.sub(" ", text)
    for m in _DOSE.finditer(text_wo_lists):
        name = _level(float(m.group(1)))
        if name and not _LIMIT.search(text_wo_lists[: m.start()]):
            found.setdefault(name, m.group(0))
    named = False
    for m in _TARGET.finditer(text):
        found.setdefault(f"PTV{m.group(1)}", m.group(0))
        named = True
    fields = {t: found[t] for t in TARGETS if t in found}
    if not fields:
        return NoteReading(fields={}, canonical=note, required=TARGETS[:1])
    # a level left out counts only where the note states its prescription (the word, the
    # targets by name, or two levels or more); "70 Gy to the primary" alone rules nothing out
    whole = bool(_STATED.search(text)) or named or len(fields) >= 2
    absent = tuple(t for t in TARGETS if t not in fields) if whole else ()
    return NoteReading(
        fields=fields,
        canonical=prescription(list(fields)),
        evidence=dict(fields),
        required=TARGETS[:1],
        absent=absent,
    )
