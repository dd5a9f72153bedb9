"""Read a head-and-neck prescription into the targets it prescribes.

OpenKBP's targets are named by their dose: PTV70, PTV63 and PTV56. Which of them a patient
has is decided by the prescription, not by anything on the CT, and a target that is not
prescribed must come out as an empty structure, never a guess. Clinicians write the
prescription as "70 Gy to PTV70; 56 Gy to PTV56", "PTV_High 69.96 Gy/33#, PTV_Low 56 Gy",
"70/63/56 Gy" or "DL1 70 Gy, DL3 56 Gy". The reader takes each dose written in Gy (or a
"70/63/56 Gy" list) and each target named as PTV70/PTV63/PTV56, maps a dose to the nearest of
the three levels when it lies within 3.5 Gy of it, and returns:

- ``fields``: ``{"PTV70": "70 Gy", ...}`` for the prescribed targets;
- ``absent``: the targets the prescription leaves out (only when the note has a
  prescription at all: a note without one rules nothing out);
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
        if name:
            found.setdefault(name, m.group(0))
    for m in _TARGET.finditer(text):
        found.setdefault(f"PTV{m.group(1)}", m.group(0))
    fields = {t: found[t] for t in TARGETS if t in found}
    if not fields:
        return NoteReading(fields={}, canonical=note, required=TARGETS[:1])
    absent = tuple(t for t in TARGETS if t not in fields)
    return NoteReading(
        fields=fields,
        canonical=prescription(list(fields)),
        evidence=dict(fields),
        required=TARGETS[:1],
        absent=absent,
    )
