"""Turn a clinical.csv row into text: the row as a note, one field checked.

Each task's own prompt template lives with the task (``oncoseg.tasks.breast_ctv.notes``,
``oncoseg.tasks.brain_tumor.phantom``).

Example:
    >>> raw_note({"age": "54", "n_stage": "N0"}, ["age", "n_stage"])
    'age: 54; n_stage: N0'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def clinical_field(row: Mapping[str, Any], key: str) -> str:
    """``row[key]`` as text; a missing or empty field is an error naming it."""
    if key not in row or row[key] in (None, ""):
        raise KeyError(f"clinical row is missing field {key!r} (has {sorted(row)})")
    return str(row[key])


def raw_note(row: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The table row as text, ``"key: value; ..."`` in the order of ``fields``."""
    return "; ".join(f"{k}: {row[k]}" for k in fields if k in row)
