"""One job: a stored case and a note -> mask (+ DICOM-SEG and RTSTRUCT for DICOM cases).

The work is :func:`oncoseg.infer.pipeline.run_prediction`, the pipeline ``oncoseg predict``
uses, writing into a temporary folder renamed into place. The result records the volume in
ml (voxel count times voxel volume on the input grid) and the side check's warning.

When the job asks for it (``job.explain``, off by default: it costs about 2.8 predictions)
and the model reads the note, the pipeline also attributes the contour to the note's
clauses (``explain``: ml each clause moved, where); the page shades the words with it and
draws a clause's region from ``explain_view.json`` (the clause bitmask, bits 0-7, on the
page's display grid). Without it ``result["explain"]`` is ``None`` and no explain file is
written.
"""

from __future__ import annotations

import os
from typing import Any

from oncoseg.infer.pipeline import SegmentModel, run_prediction
from oncoseg.io.atomic import write_json
from oncoseg.io.image import Image, load_image
from oncoseg.serve.store import RESULT_FILES, Job, Store
from oncoseg.serve.uploads import load_case_images, read_case_series
from oncoseg.serve.views import display_mask

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
            explain="auto" if job.explain else None,
        )
        names = [_served_name(p.name) for p in result.files]
        for path, name in zip(result.files, names, strict=True):
            os.replace(path, tmp / name)
        if "explain.nii.gz" in names:
            bits = load_image(tmp / "explain.nii.gz")
            low = Image((bits.array & 0xFF).astype("uint8"), bits.affine)  # clauses 0-7
            write_json(tmp / "explain_view.json", display_mask(low))  # for the page only
    explanation = result.explanation.to_json() if result.explanation is not None else None
    return {
        "files": {n: f"/api/cases/{case.case_id}/results/{job.job_id}/{n}" for n in names},
        "volume_ml": round(result.volume_ml, 3),
        "voxels": result.voxels,
        "labels": {k: round(v, 3) for k, v in result.label_volumes_ml.items()},
        "warning": result.warning,
        "explain": explanation,
        "note_reading": result.note_reading,
    }


def _served_name(written: str) -> str:
    """``mask.nii.gz`` / ``mask_seg.dcm`` / ``mask_rtstruct.dcm`` -> the served names."""
    return written.removeprefix("mask_") if written.startswith("mask_") else written
