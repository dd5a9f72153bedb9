"""Read a breast radiotherapy note into the fields the CTV depends on.

The rule table (:mod:`oncoseg.tasks.breast_ctv.clinical`) needs the side, the surgery
(breast-conserving or mastectomy), the N stage and, for N1mi, the T stage. Clinicians write
these in many ways: "Rt", "L) breast", "left-sided", "LUOQ", "Lt WBI"; "s/p lumpectomy", "WLE",
"partial mastectomy", or only the target ("whole breast", "chest wall"); "pN2a", "T2N1M0",
"5/14 nodes positive", "4+ nodes", "four of eleven", "SLNB 0/3", "node-negative"; or only the
plan: "whole breast plus regional nodes", "breast only, no nodal RT". The reader returns those
fields and the note in the form the model was trained on, the seed's prompt
(:func:`oncoseg.tasks.breast_ctv.notes.breast_prompt`), which it returns unchanged. The rules
live in :mod:`.reader_side`, :mod:`.reader_surgery`, :mod:`.reader_nodes` and
:mod:`.reader_plan`.

Side words count only when tied to this breast cancer (a "right knee replacement" or a "benign
right breast cyst" names no target), and a stated N stage outranks counts, which outrank the
status in words, which outranks the written plan. Unticked form boxes ("[ ] Chest wall") say
nothing.

Example:
    >>> read_breast_note("Rt breast, s/p lumpectomy, 5/14 LN+, treat nodes").canonical
    'N2, breast conserving surgery, right side'
"""

from __future__ import annotations

import re

from oncoseg.tasks.breast_ctv.clinical import N_STAGES
from oncoseg.tasks.breast_ctv.notes import SURGERY_TEXT
from oncoseg.tasks.breast_ctv.reader_nodes import node_positive, read_n_stage
from oncoseg.tasks.breast_ctv.reader_plan import nodes_planned
from oncoseg.tasks.breast_ctv.reader_side import read_side
from oncoseg.tasks.breast_ctv.reader_surgery import read_surgery
from oncoseg.text.readers import NoteReading

FIELDS = ("side", "surgery", "n_stage")
# the values a contrastive explanation tries for each field (NoteReading.options)
OPTIONS = {"side": ("left", "right", "both"), "surgery": tuple(SURGERY_TEXT), "n_stage": N_STAGES}
_T_STAGE = re.compile(r"\b(?:y?p|y?c)?T([0-4]|is)[abcd]?(?=N|\b|\s)", re.I)
# an unticked option of a form: "[ ] Chest wall", "[ ] R" (up to the next box or field)
_UNTICKED = re.compile(r"\[\s?\]\s*[^\[|;\n]*?(?=\s*(?:\[|\||;|\n|$))")


def _normalise(note: str) -> str:
    """One line: a line break ends a sentence ("Laterality: LEFT\nProcedure: ..."); unticked
    boxes go."""
    lines = [line.strip() for line in note.splitlines()]
    text = " | ".join(line for line in lines if line)
    text = _UNTICKED.sub(" ", text)
    return " ".join(text.split())


def _n_stage(text: str) -> tuple[str, str] | None:
    """The N stage, else the plan's (a representative stage), else node-positive words."""
    stage = read_n_stage(text)
    if stage is not None:
        return stage
    plan = nodes_planned(text)
    if plan is not None:  # no stage written: the plan decides (a representative stage)
        return ("N2" if plan[0] else "N0"), plan[1]
    positive = node_positive(text)
    return ("N2", positive) if positive else None


def read_breast_note(note: str) -> NoteReading:
    """The side, surgery and N stage (T stage for N1mi) of a breast note, and its canonical
    prompt. A field the note does not decide is left out of both."""
    text = _normalise(note)
    fields: dict[str, str] = {}
    evidence: dict[str, str] = {}
    for name, found in (
        ("side", read_side(text)),
        ("surgery", read_surgery(text)),
        ("n_stage", _n_stage(text)),
    ):
        if found:
            fields[name], evidence[name] = found
    t = _T_STAGE.search(text)
    if t:
        fields["t_stage"] = f"T{t.group(1).lower() if t.group(1) == 'IS' else t.group(1)}"
    return NoteReading(
        fields=fields,
        canonical=_canonical(fields),
        evidence=evidence,
        required=FIELDS,
        options=OPTIONS,
        render=_canonical,
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
