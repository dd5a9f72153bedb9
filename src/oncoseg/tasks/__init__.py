"""Task plug-ins: one sub-package per task, registered in :mod:`oncoseg.tasks.registry`.

- ``breast_ctv``: breast radiotherapy CTV phantoms (CT); the target depends on side,
  surgery and nodal status in the note.
- ``brain_tumor``: brain MRI phantoms (T1, T1ce, T2, FLAIR); the note names the target.
- ``openkbp``: the OpenKBP head-and-neck cohort (converter); the prescription is the text.

Each brings what only it can: a generator or converter, its clinical record and rule
table, note templates and variants, a clinical score, counterfactual edits.

The registry is imported on first use of one of its names, not with the package: a note
reader (``oncoseg.tasks.breast_ctv.reader``, loaded by ``oncoseg predict``) then does not pull
in every task's generator, report and figures.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oncoseg.tasks.registry import TASKS, Task, get_task, note_variants_for, task_report

__all__ = ["TASKS", "Task", "get_task", "note_variants_for", "task_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("oncoseg.tasks.registry"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
