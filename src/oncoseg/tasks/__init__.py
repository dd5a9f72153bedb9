"""Task plug-ins: one sub-package per task, registered in :mod:`oncoseg.tasks.registry`.

- ``breast_ctv``: breast radiotherapy CTV phantoms (CT); the target depends on side,
  surgery and nodal status in the note.
- ``brain_tumor``: brain MRI phantoms (T1, T1ce, T2, FLAIR); the note names the target.
- ``openkbp``: the OpenKBP head-and-neck cohort (converter); the prescription is the text.

Each brings what only it can: a generator or converter, its clinical record and rule
table, note templates and variants, a clinical score, counterfactual edits.
"""

from __future__ import annotations

from oncoseg.tasks.registry import TASKS, Task, get_task, note_variants_for, task_report

__all__ = ["TASKS", "Task", "get_task", "note_variants_for", "task_report"]
