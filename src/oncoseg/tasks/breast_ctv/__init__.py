"""breast_ctv: a chest CT whose radiotherapy target (CTV) depends on the clinical note.

Modules: ``clinical`` (the clinical record and rule table), ``notes`` (prompt, narrative
and raw notes), ``phantom`` (the image generator, :func:`cohort_spec`), ``variants`` (other
N stages and sides: the trainer's note-variant hook), ``score`` (clinical accuracy from
region coverage), ``counterfactual`` (edited notes on the same image).

Names are imported on first use (PEP 562), so loading one module of the package (the note
reader, in ``oncoseg predict``) does not import the phantom generator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oncoseg.tasks.breast_ctv.clinical import (
        REGIONS,
        BreastClinical,
        ctv_components,
        sample_clinical,
    )
    from oncoseg.tasks.breast_ctv.phantom import cohort_spec, render

_HOME = {
    "REGIONS": "clinical",
    "BreastClinical": "clinical",
    "ctv_components": "clinical",
    "sample_clinical": "clinical",
    "cohort_spec": "phantom",
    "render": "phantom",
}
__all__ = [
    "REGIONS",
    "BreastClinical",
    "cohort_spec",
    "ctv_components",
    "render",
    "sample_clinical",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
