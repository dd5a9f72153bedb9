"""brain_tumor: brain MRI phantoms (T1, T1ce, T2, FLAIR) whose note names the target lesion.

Module ``phantom``: the clinical record, the generator (:func:`cohort_spec`) and the notes.
"""

from __future__ import annotations

from oncoseg.tasks.brain_tumor.phantom import (
    BrainClinical,
    cohort_spec,
    make_note,
    narrative_note,
    render,
    sample_clinical,
)

__all__ = [
    "BrainClinical",
    "cohort_spec",
    "make_note",
    "narrative_note",
    "render",
    "sample_clinical",
]
