"""breast_ctv: a chest CT whose radiotherapy target (CTV) depends on the clinical note.

Modules: ``clinical`` (the clinical record and rule table), ``notes`` (prompt, narrative
and raw notes), ``phantom`` (the image generator, :func:`cohort_spec`), ``variants`` (other
N stages and sides: the trainer's note-variant hook), ``score`` (clinical accuracy from
region coverage), ``counterfactual`` (edited notes on the same image).
"""

from __future__ import annotations

from oncoseg.tasks.breast_ctv.clinical import (
    REGIONS,
    BreastClinical,
    ctv_components,
    sample_clinical,
)
from oncoseg.tasks.breast_ctv.phantom import cohort_spec, render

__all__ = [
    "REGIONS",
    "BreastClinical",
    "cohort_spec",
    "ctv_components",
    "render",
    "sample_clinical",
]
