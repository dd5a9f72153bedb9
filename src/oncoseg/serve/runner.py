"""One job: a stored case and a note -> mask (+ DICOM-SEG and RTSTRUCT for DICOM cases).

The model work is :meth:`oncoseg.infer.Predictor.predict`; the files are written by
:func:`oncoseg.io.outputs.write_outputs`, the same writers ``oncoseg predict`` uses, into a
temporary folder renamed into place. The result records the volume in ml (voxel count times
voxel volume on the input grid) and the side check of ``oncoseg predict``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from oncoseg.eval.side_check import check_side
from oncoseg.io.image import Image
from oncoseg.io.outputs import write_outputs
from oncoseg.serve.store import RESULT_FILES, Job, Store
from oncoseg.serve.uploads import load_case_images, read_case_series


class _Plan(Protocol):
    channel_names: dict[str, str]
    labels: dict[str, int]


class SegmentModel(Protocol):
    """What the service needs of a model: :class:`oncoseg.infer.Predictor` fits."""

    @property
    def uses_text(self) -> bool: ...

    @property
    def plan(self) -> _Plan: ...

    def predict(self, images: Sequence[Image], note: str = "") -> Image: ...


def volume_ml(mask: Image) -> float:
    """Foreground volume in ml (cm³) on the mask's own grid."""
    voxel_mm3 = abs(float(np.linalg.det(mask.affine[:3, :3])))
    return float(np.count_nonzero(mask.array)) * voxel_mm3 / 1000.0


def run_job(model: SegmentModel, store: Store, job: Job, run_name: str = "") -> dict[str, Any]:
    """Segment the job's case with the job's (de-identified) note; returns the result record."""
    case = store.case(job.case_id)
    if case is None:
        raise FileNotFoundError(f"case {job.case_id} is no longer stored")
    series = read_case_series(store, case) if case.kind == "dicom" else None
    images = [series.image] if series is not None else load_case_images(store, case)
    mask = model.predict(images, job.note if model.uses_text else "")
    formats = list(RESULT_FILES.values()) if series is not None else ["nifti"]
    with store.new_result(case.case_id, job.job_id) as tmp:
        paths = write_outputs(mask, tmp, "mask", formats, series, model.plan.labels, run_name)
        names = [_served_name(p.name) for p in paths]
        for path, name in zip(paths, names, strict=True):
            os.replace(path, tmp / name)
    warning = None
    if job.note:
        ct = np.asarray(images[0].array)
        warning = check_side(job.note, np.asarray(mask.array), mask.affine, ct).warning
    return {
        "files": {n: f"/api/cases/{case.case_id}/results/{job.job_id}/{n}" for n in names},
        "volume_ml": round(volume_ml(mask), 3),
        "voxels": int(np.count_nonzero(mask.array)),
        "labels": _label_volumes(mask, model.plan.labels),
        "warning": warning,
    }


def _served_name(written: str) -> str:
    """``mask.nii.gz`` / ``mask_seg.dcm`` / ``mask_rtstruct.dcm`` -> the served names."""
    return written.removeprefix("mask_") if written.startswith("mask_") else written


def _label_volumes(mask: Image, labels: Mapping[str, int]) -> dict[str, float]:
    voxel_ml = abs(float(np.linalg.det(mask.affine[:3, :3]))) / 1000.0
    arr = np.asarray(mask.array)
    return {
        name: round(float(np.count_nonzero(arr == int(v))) * voxel_ml, 3)
        for name, v in labels.items()
        if int(v) != 0
    }
