"""Turn a clinical.csv row into a note: the seed's one-line prompt, or the row as text.

The prompt template (breast) is ``"{N}, {surgery}, {side} side"``, e.g.
``"N1mi, breast conserving surgery, left side"``: the N stage as written, the surgery
spelled out, the laterality (``both`` gives ``"both sides"``).

Example:
    >>> breast_prompt({"n_stage": "N1mi", "surgery": "BCS", "laterality": "left"})
    'N1mi, breast conserving surgery, left side'
    >>> raw_note({"age": "54", "n_stage": "N0"}, ["age", "n_stage"])
    'age: 54; n_stage: N0'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SURGERY_TEXT = {"BCS": "breast conserving surgery", "mastectomy": "total mastectomy"}


def _field(row: Mapping[str, Any], key: str) -> str:
    if key not in row or row[key] in (None, ""):
        raise KeyError(f"clinical row is missing field {key!r} (has {sorted(row)})")
    return str(row[key])


def breast_prompt(row: Mapping[str, Any]) -> str:
    """The seed's structured prompt for a breast case: ``"N2, total mastectomy, left side"``.

    For N1mi the T stage is added (``"T3 N1mi, ..."``): the CTV rule treats the nodes of an
    N1mi case only with T3/T4, so without T the prompt would not decide the target.
    """
    surgery = _field(row, "surgery")
    if surgery not in SURGERY_TEXT:
        raise ValueError(f"field 'surgery' must be one of {sorted(SURGERY_TEXT)}, got {surgery!r}")
    side = _field(row, "laterality")
    side_text = "both sides" if side == "both" else f"{side} side"
    n_stage = _field(row, "n_stage")
    if n_stage == "N1mi":  # whether N1mi is treated depends on T (the rule table): state it
        n_stage = f"{_field(row, 't_stage')} {n_stage}"
    return f"{n_stage}, {SURGERY_TEXT[surgery]}, {side_text}"


def brain_prompt(row: Mapping[str, Any]) -> str:
    """A one-line prompt for a brain case: ``"left frontal, high-grade glioma"``."""
    grade = "high-grade" if _field(row, "grade") == "high" else "low-grade"
    return f"{_field(row, 'hemisphere')} {_field(row, 'lobe')}, {grade} glioma"


def raw_note(row: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The table row as text, ``"key: value; ..."`` in the order of ``fields``."""
    return "; ".join(f"{k}: {row[k]}" for k in fields if k in row)
