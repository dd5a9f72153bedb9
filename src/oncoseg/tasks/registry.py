"""The task registry: what each task plugs into the generic packages.

A task is named in its datasets' ``dataset.json`` (``"task"``). Generic code never imports
a task by name: the trainer is handed :attr:`Task.note_variants`, evaluation gets
:attr:`Task.case_score` and the report sections of :attr:`Task.report`, and the experiment
runner asks :func:`get_task` for the rest.

Example:
    >>> sorted(TASKS)
    ['brain_tumor', 'breast_ctv', 'openkbp']
    >>> get_task("brain_tumor").note_variants is None
    True
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import read_clinical_csv, read_info
from oncoseg.data.loader import NoteVariants
from oncoseg.data.phantom_cohort import CohortSpec
from oncoseg.eval.sections import TaskReport
from oncoseg.infer import Predictor
from oncoseg.tasks.brain_tumor import phantom as brain_phantom
from oncoseg.tasks.brain_tumor.score import lesion_breakdown, lesion_score
from oncoseg.tasks.brain_tumor.variants import add_brain_variants
from oncoseg.tasks.breast_ctv import phantom as breast_phantom
from oncoseg.tasks.breast_ctv.clinical import BreastClinical
from oncoseg.tasks.breast_ctv.counterfactual import breast_counterfactual
from oncoseg.tasks.breast_ctv.heldout import heldout_phrasings
from oncoseg.tasks.breast_ctv.report import breast_report
from oncoseg.tasks.breast_ctv.score import clinical_score
from oncoseg.tasks.breast_ctv.variants import add_note_variants
from oncoseg.tasks.openkbp.breakdown import prescription_breakdown
from oncoseg.tasks.openkbp.counterfactual import prescription_counterfactual
from oncoseg.tasks.openkbp.report import openkbp_report

CaseScore = Callable[[Any, np.ndarray], dict[str, Any]]  # (case, predicted labels) -> fields
Rows = dict[str, dict[str, list[dict[str, Any]]]]  # model -> site -> per-case rows


@dataclass(frozen=True)
class Task:
    """One task's plug-ins; ``None`` where the task has none."""

    name: str
    # phantom generator for oncoseg.data.phantom_cohort.write_cohort (None: converted real data)
    cohort_spec: Callable[[], CohortSpec] | None = None
    # the trainer's hook for train.note_swap / train.side_swap
    note_variants: NoteVariants | None = None
    # dataset -> per-case extra fields of an evaluation row (e.g. the clinical score)
    case_score: Callable[[Path], CaseScore] | None = None
    # counterfactual notes (the ``counterfactual`` experiment)
    counterfactual: Callable[..., dict[str, Any]] | None = None
    counterfactual_on_validation: bool = False  # also on each run's validation cases
    # (predictor, dataset, held-out notes file) -> follow-rates of notes in unseen phrasings
    phrasings: Callable[..., dict[str, Any]] | None = None
    # (rows, dataset) -> extra result table of the ``compare`` experiment, stored in its
    # results.json under ``breakdown_key``
    breakdown: Callable[[Rows, Path], dict[str, Any]] | None = None
    breakdown_key: str = "breakdown"
    # (results.json, figure dir) -> the report sections and figures of what the task's
    # own plug-ins added to the results (counterfactual, breakdown); eval renders them
    report: Callable[[dict[str, Any], Path], TaskReport] | None = None


def _breast_score(dataset: Path) -> CaseScore:
    """The clinical score (2/1/0) of each breast_ctv prediction, from its region map."""
    clinical = read_clinical_csv(dataset)

    def extra(case: Any, pred: np.ndarray) -> dict[str, Any]:
        if case.regions is None:
            return {}
        row = BreastClinical.from_row(clinical[case.case_id])
        s = clinical_score(pred > 0, np.asarray(case.regions.array), row)
        return {k: s[k] for k in ("score", "side_ok", "primary_ok", "nodal_mismatches")}

    return extra


def _openkbp_counterfactual(
    predictor: Predictor, dataset: Path, *, split: str = "Ts", **_: Any
) -> dict[str, Any]:
    return prescription_counterfactual(predictor, dataset, split=split)


TASKS: dict[str, Task] = {
    "breast_ctv": Task(
        name="breast_ctv",
        cohort_spec=breast_phantom.cohort_spec,
        note_variants=add_note_variants,
        case_score=_breast_score,
        counterfactual=breast_counterfactual,
        counterfactual_on_validation=True,
        phrasings=heldout_phrasings,
        report=breast_report,
    ),
    # no counterfactual: its report is the generic one; which lesion each model drew
    "brain_tumor": Task(
        name="brain_tumor",
        cohort_spec=brain_phantom.cohort_spec,
        note_variants=add_brain_variants,
        case_score=lesion_score,
        breakdown=lesion_breakdown,
        breakdown_key="by_lesion",
    ),
    "openkbp": Task(
        name="openkbp",
        counterfactual=_openkbp_counterfactual,
        breakdown=prescription_breakdown,
        breakdown_key="by_prescription",
        report=openkbp_report,
    ),
}


def get_task(name: str) -> Task:
    """The registered task ``name``; an unregistered name gets a task with no plug-ins."""
    return TASKS.get(name, Task(name=name))


def task_report(doc: dict[str, Any], fig_dir: Path) -> TaskReport:
    """The sections and figures that ``doc``'s task (``doc["dataset"]``) adds to its report
    (:func:`oncoseg.eval.report.write_reports`); empty for a task without a report hook."""
    hook = get_task(doc["dataset"]).report
    return hook(doc, fig_dir) if hook is not None else TaskReport()


def note_variants_for(dataset: str | os.PathLike[str]) -> NoteVariants | None:
    """The note-variant hook of ``dataset``'s task (``None`` if it has none)."""
    return get_task(read_info(dataset).task).note_variants
