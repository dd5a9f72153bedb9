"""The prediction pipeline: one case -> mask, output files, side check, volumes, provenance.

Every entry point segments through :func:`run_prediction` — ``oncoseg predict``, the review
service's jobs, the Orthanc bridge, cohort runs — so all of them write the same files and
report the same checks:

1. predict: :meth:`Predictor.predict` (the note reaches the model only if it reads text);
2. outputs: NIfTI / DICOM-SEG / RTSTRUCT on the input's grid
   (:func:`oncoseg.io.outputs.write_outputs`; DICOM outputs need the input ``series``);
3. side check: with a note, does the contour lie on the side the note names
   (:mod:`oncoseg.infer.side_check`)? Checked for every model, since a note and an image
   that do not belong together matter whether or not the model read the note;
4. volumes: foreground and per-label volume in ml on the mask's own grid;
5. provenance: the code (commit, versions) and the model settings that produced the mask.

Example:
    >>> result = run_prediction(predictor, [ct], note=text, out="out", name="case",
    ...                         formats=("nifti", "rtstruct"), series=series)  # doctest: +SKIP
    >>> result.files, result.volume_ml, result.warning  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from oncoseg.infer.explain import Explanation, explain_note, write_explanation
from oncoseg.infer.predictor import Predictor, describe
from oncoseg.infer.side_check import SideCheck, check_side
from oncoseg.io.image import Image
from oncoseg.io.outputs import write_outputs
from oncoseg.io.provenance import provenance

if TYPE_CHECKING:  # pydicom/highdicom are imported only when DICOM is used
    from oncoseg.io.dicom_series import DicomSeries


class _Plan(Protocol):
    @property
    def channel_names(self) -> dict[str, str]: ...

    @property
    def labels(self) -> dict[str, int]: ...


class SegmentModel(Protocol):
    """What the pipeline needs of a model: :class:`oncoseg.infer.Predictor` fits."""

    @property
    def uses_text(self) -> bool: ...

    @property
    def plan(self) -> _Plan: ...

    def predict(
        self, images: Sequence[Image], note: str = "", note_source: str = "note"
    ) -> Image: ...


@dataclass(frozen=True)
class PredictionResult:
    """What one prediction produced. Holds no patient identity (the note is not kept)."""

    mask: Image  # label map on the grid of the first input image
    files: tuple[Path, ...]  # written outputs, in the order of ``formats``
    side: SideCheck | None  # None when no note was given
    volume_ml: float  # all foreground
    voxels: int  # foreground voxels
    label_volumes_ml: dict[str, float]  # per foreground label name
    provenance: dict[str, Any] = field(repr=False)
    explanation: Explanation | None = None  # the clause attribution, when asked for
    # what the run's note reader read (fields, the words that decided them, fields the note
    # did not state): what the model was given, for a reviewer to check
    note_reading: dict[str, Any] | None = None

    @property
    def warning(self) -> str | None:
        """The side check's warning (note and contour on opposite sides), else None."""
        return self.side.warning if self.side is not None else None


def volume_ml(mask: Image) -> float:
    """Foreground volume in ml (cm³) on the mask's own grid."""
    return float(np.count_nonzero(mask.array)) * _voxel_ml(mask)


def label_volumes_ml(mask: Image, labels: Mapping[str, int]) -> dict[str, float]:
    """Volume in ml of each foreground label (background 0 left out)."""
    arr, voxel = np.asarray(mask.array), _voxel_ml(mask)
    return {
        name: float(np.count_nonzero(arr == int(v))) * voxel
        for name, v in labels.items()
        if int(v) != 0
    }


def run_prediction(
    predictor: SegmentModel,
    images: Sequence[Image],
    *,
    note: str = "",
    out: str | os.PathLike[str] | None = None,
    name: str = "mask",
    formats: Sequence[str] = ("nifti",),
    series: DicomSeries | None = None,
    run_name: str = "",
    note_source: str = "note",
    side_check: bool = True,
    explain: str | None = None,
) -> PredictionResult:
    """Segment one case and write its outputs (see the module's steps).

    Args:
        predictor: the loaded model (kept by the caller: it is loaded once, used many times).
        images: the case's channels, in the model's order, on one grid.
        note: the de-identified clinical note ("" for none).
        out: output folder; required when ``formats`` is not empty.
        name: file stem of the outputs (``NAME.nii.gz``, ``NAME_seg.dcm``, ...).
        formats: names from :data:`oncoseg.io.outputs.FORMATS`; empty writes nothing.
        series: the input DICOM series (DICOM outputs reference it and copy its identity).
        run_name: the training run, recorded in DICOM outputs and in the provenance.
        note_source: how to name the note (its file) in warnings about it.
        side_check: False skips step 3 (a pass over the whole image) where no one reads it.
        explain: ``"filler"``, ``"remove"``, ``"contrast"`` or ``"auto"`` (contrast where
            the model's note reader can edit the fields, else filler): also attribute the
            contour to the note's clauses (:mod:`oncoseg.infer.explain`), written as
            ``NAME_explain.json`` and ``NAME_explain.nii.gz`` (bit i: clause i changed the
            voxel) when ``out`` is given.
    """
    mask = predictor.predict(images, note if predictor.uses_text else "", note_source=note_source)
    files: list[Path] = []
    if formats:
        if out is None:
            raise ValueError("run_prediction: formats given but no output folder (out)")
        files = write_outputs(mask, out, name, formats, series, predictor.plan.labels, run_name)
    explanation = None
    if explain and note and isinstance(predictor, Predictor) and predictor.uses_text:
        explanation = explain_note(predictor, images, note, mode=explain, note_source=note_source)
        if out is not None:
            files += write_explanation(explanation, mask, out, name)
    side = None
    if note and side_check:
        side = check_side(note, np.asarray(mask.array), mask.affine, np.asarray(images[0].array))
    return PredictionResult(
        mask=mask,
        files=tuple(files),
        side=side,
        volume_ml=volume_ml(mask),
        voxels=int(np.count_nonzero(mask.array)),
        label_volumes_ml=label_volumes_ml(mask, predictor.plan.labels),
        provenance=_provenance(predictor, run_name),
        explanation=explanation,
        note_reading=_reading(predictor, note),
    )


def _reading(predictor: SegmentModel, note: str) -> dict[str, Any] | None:
    reading = predictor.read_note(note) if isinstance(predictor, Predictor) else None
    if reading is None:
        return None
    return {
        "fields": reading.fields,
        "evidence": reading.evidence,
        "not_stated": reading.missing(),
        "not_drawn": list(reading.absent),
        "model_input": reading.canonical,
    }


def _voxel_ml(mask: Image) -> float:
    return abs(float(np.linalg.det(mask.affine[:3, :3]))) / 1000.0


@functools.cache
def _code_provenance() -> dict[str, Any]:
    """Command, commit and versions: fixed for the life of a process (read once)."""
    return provenance()


def _provenance(predictor: SegmentModel, run_name: str) -> dict[str, Any]:
    model = describe(predictor) if isinstance(predictor, Predictor) else {}
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**_code_provenance(), "created_utc": now, "run": run_name, "model": model}
