"""Write (and read back) a BINARY DICOM-SEG for a label map on a DICOM series' grid.

One segment per label, coded from the label name (:mod:`oncoseg.io.structure_codes`),
referencing every source slice, with the source's patient and study identity (highdicom
copies it; nothing here logs it). BINARY, not LABELMAP: PACS such as Orthanc refuse LABELMAP
over C-STORE (DESIGN §8). Empty frames are left out, but every stored frame carries its own
plane position and source-image reference, so readers place each frame where it belongs
instead of stacking frames and shifting the mask. The file is written atomically.

Example:
    >>> series = read_dicom_series("ct/")  # doctest: +SKIP
    >>> write_dicom_seg(mask, series, "out/seg.dcm", {"CTV": 1}, run_name="fold0")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom import Dataset
from pydicom.uid import generate_uid

import oncoseg
from oncoseg.io.atomic import atomic_path
from oncoseg.io.dicom_series import DicomSeries
from oncoseg.io.image import Image, same_geometry
from oncoseg.io.structure_codes import code_for, colour_for

log = logging.getLogger(__name__)
SEG_SERIES_NUMBER = 901


def default_labels(mask: Image) -> dict[str, int]:
    """``{"label_1": 1, ...}`` for the non-zero values present in ``mask``."""
    return {f"label_{int(v)}": int(v) for v in np.unique(mask.array) if v != 0}


def check_mask_on_series(mask: Image, series: DicomSeries) -> None:
    """Raise ``ValueError`` unless ``mask`` lies on the series' voxel grid."""
    if not same_geometry(mask, series.image):
        raise ValueError(
            f"mask grid {mask.shape} does not match the DICOM series in {series.folder} "
            f"{series.image.shape}: DICOM outputs need the mask in the input's geometry"
        )


def _algorithm(run_name: str) -> hd.AlgorithmIdentificationSequence:
    params = {"run": run_name[:64]} if run_name else None
    return hd.AlgorithmIdentificationSequence(
        name="oncoseg",
        family=hd.sr.CodedConcept("123110", "DCM", "Artificial Intelligence"),
        version=oncoseg.__version__,
        parameters=params,
    )


def _descriptions(labels: Mapping[str, int], run_name: str) -> list[hd.seg.SegmentDescription]:
    algorithm = _algorithm(run_name)
    out = []
    for number, name in enumerate(labels, start=1):
        code = code_for(name)
        out.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=name[:64],
                segmented_property_category=code.category,
                segmented_property_type=code.type,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
                algorithm_identification=algorithm,
                display_color=hd.color.CIELabColor.from_rgb(*colour_for(number - 1)),
            )
        )
    return out


def _segment_frames(mask: Image, labels: Mapping[str, int]) -> np.ndarray:
    """``(frames, rows, columns)`` array of segment numbers (1..S) in source slice order."""
    seg = np.zeros(mask.shape[:3], dtype=np.uint16 if len(labels) > 255 else np.uint8)
    for number, value in enumerate(labels.values(), start=1):
        seg[mask.array == value] = number
    return np.ascontiguousarray(seg.transpose(2, 1, 0))  # [i, j, k] -> [k, row=j, col=i]


def build_dicom_seg(
    mask: Image,
    series: DicomSeries,
    labels: Mapping[str, int] | None = None,
    *,
    run_name: str = "",
    series_description: str = "oncoseg segmentation",
) -> Dataset:
    """The SEG data set for ``mask`` (integer label map on ``series.image``'s grid).

    Args:
        mask: label map, same shape and affine as ``series.image``.
        series: the source series (UIDs repaired where the files had none).
        labels: label name -> value in ``mask``, in segment order; default: values present.
        run_name: training run recorded in the algorithm identification.
        series_description: SeriesDescription of the new series.
    """
    check_mask_on_series(mask, series)
    labels = dict(labels) if labels is not None else default_labels(mask)
    if not labels:
        raise ValueError("no labels to write: the mask is empty and no label names were given")
    frames = _segment_frames(mask, labels)
    seg = hd.seg.Segmentation(
        source_images=list(series.datasets),
        pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=_descriptions(labels, run_name),
        series_instance_uid=generate_uid(),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="oncoseg",
        manufacturer_model_name="oncoseg",
        software_versions=oncoseg.__version__,
        device_serial_number="none",
        series_description=series_description[:64],
        omit_empty_frames=bool(frames.any()),
    )
    return seg


def write_dicom_seg(
    mask: Image,
    series: DicomSeries,
    path: str | os.PathLike[str],
    labels: Mapping[str, int] | None = None,
    *,
    run_name: str = "",
) -> Path:
    """Build the SEG (see :func:`build_dicom_seg`) and write it atomically to ``path``."""
    seg = build_dicom_seg(mask, series, labels, run_name=run_name)
    out = Path(path)
    with atomic_path(out) as tmp:
        seg.save_as(tmp, enforce_file_format=True)
    log.info("wrote DICOM-SEG with %d segment(s): %s", len(seg.SegmentSequence), out.name)
    return out


def read_dicom_seg(path: str | os.PathLike[str], series: DicomSeries) -> dict[str, np.ndarray]:
    """Segments of a SEG file as boolean masks on ``series.image``'s grid, by segment label.

    Frames are placed by their referenced source SOP Instance UID (falling back to their plane
    position), so omitted empty frames never shift a mask.
    """
    import pydicom

    seg = hd.seg.Segmentation.from_dataset(pydicom.dcmread(path))
    k_of_sop = {str(ds.SOPInstanceUID): k for k, ds in enumerate(series.datasets)}
    shape = series.image.shape[:3]
    out: dict[str, np.ndarray] = {}
    for item in seg.SegmentSequence:
        out[str(item.SegmentLabel)] = np.zeros(shape, dtype=bool)
    labels = [str(item.SegmentLabel) for item in seg.SegmentSequence]
    shared = seg.SharedFunctionalGroupsSequence[0]
    for frame_index, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
        ident = fg.get("SegmentIdentificationSequence") or shared.SegmentIdentificationSequence
        number = int(ident[0].ReferencedSegmentNumber)
        k = _frame_slice(fg, k_of_sop, series)
        frame = seg.pixel_array[frame_index] if seg.pixel_array.ndim == 3 else seg.pixel_array
        out[labels[number - 1]][:, :, k] |= frame.T.astype(bool)
    return out


def _frame_slice(fg: Dataset, k_of_sop: Mapping[str, int], series: DicomSeries) -> int:
    for der in fg.get("DerivationImageSequence", []):
        for src in der.get("SourceImageSequence", []):
            uid = str(src.ReferencedSOPInstanceUID)
            if uid in k_of_sop:
                return k_of_sop[uid]
    pos = np.array([float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient])
    along = pos @ series.geometry.normal
    ks = [series.slice_position(k) @ series.geometry.normal for k in range(len(series.datasets))]
    k = int(np.argmin(np.abs(np.array(ks) - along)))
    if abs(ks[k] - along) > 0.01:
        raise ValueError("a SEG frame lies on no slice of the referenced series")
    return k
