"""One job: a stored case and a note -> mask (+ DICOM-SEG and RTSTRUCT for DICOM cases).

The work is :func:`oncoseg.infer.pipeline.run_prediction`, the pipeline ``oncoseg predict``
uses, writing into a temporary folder renamed into place. The result records the volume in
ml (voxel count times voxel volume on the input grid) and the side check's warning.
"""

from __future__ import annotations

import os
from typing import Any

from oncoseg.infer.pipeline import SegmentModel, run_prediction
from oncoseg.serve.store import RESULT_FILES, Job, Store
from oncoseg.serve.uploads import load_case_images, read_case_series

__all__ = ["SegmentModel", "run_job"]


def run_job(model: SegmentModel, store: Store, job: Job, run_name: str = "") -> dict[str, Any]:
    """Segment the job's case with the job's (de-identified) note; returns the result record."""
    case = store.case(job.case_id)
    if case is None:
        raise FileNotFoundError(f"case {job.case_id} is no longer stored")
    series = read_case_series(store, case) if case.kind == "dicom" else None
    images = [series.image] if series is not None else load_case_images(store, case)
    formats = list(RESULT_FILES.values()) if series is not None else ["nifti"]
    with store.new_result(case.case_id, job.job_id) as tmp:
        result = run_prediction(
            model,
            images,
            note=job.note,
            out=tmp,
            formats=formats,
            series=series,
            run_name=run_name,
        )
        names = [_served_name(p.name) for p in result.files]
        for path, name in zip(result.files, names, strict=True):
            os.replace(path, tmp / name)
    return {
        "files": {n: f"/api/cases/{case.case_id}/results/{job.job_id}/{n}" for n in names},
        "volume_ml": round(result.volume_ml, 3),
        "voxels": result.voxels,
        "labels": {k: round(v, 3) for k, v in result.label_volumes_ml.items()},
        "warning": result.warning,
    }


def _served_name(written: str) -> str:
    """``mask.nii.gz`` / ``mask_seg.dcm`` / ``mask_rtstruct.dcm`` -> the served names."""
    return written.removeprefix("mask_") if written.startswith("mask_") else written
