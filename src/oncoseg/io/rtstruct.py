"""Write an RT Structure Set for a label map on a DICOM series' grid.

Written with pydicom, not rt-utils (1.2.7 swaps PixelSpacing on non-square series and breaks
the DS length rule, DESIGN §8). Each label becomes one ROI; each slice's regions become
CLOSED_PLANAR contours traced on voxel boundaries (:mod:`oncoseg.io.contours`), holes and
islands as separate contours combined by the even-odd rule. Points go to patient coordinates
through each slice's own ImagePositionPatient with the series' direction cosines and
``PixelSpacing`` in DICOM order (row spacing along the column direction), so non-square,
anisotropic and oblique series come out right. Contour Data numbers are at most 16
characters. Patient/study identity is copied from the source and never logged. Reading
(ROIs, masks) lives in :mod:`oncoseg.io.rtstruct_read`; its names are re-exported here.

Example:
    >>> series = read_dicom_series("ct/")  # doctest: +SKIP
    >>> write_rtstruct(mask, series, "out/rtstruct.dcm", {"CTV": 1})  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ImplicitVRLittleEndian, generate_uid

import oncoseg
from oncoseg.io.atomic import atomic_path
from oncoseg.io.contours import format_ds, mask_polygons
from oncoseg.io.dicom_identity import copy_identity
from oncoseg.io.dicom_seg import check_mask_on_series, default_labels
from oncoseg.io.dicom_series import DicomSeries
from oncoseg.io.image import Image
from oncoseg.io.rtstruct_read import CONTOUR_DATA, RoiInfo, list_rois, read_rtstruct
from oncoseg.io.structure_codes import code_for, colour_for

log = logging.getLogger(__name__)
__all__ = ["RoiInfo", "build_rtstruct", "list_rois", "read_rtstruct", "write_rtstruct"]
RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
RTSTRUCT_SERIES_NUMBER = 902


def _image_ref(ds: Dataset) -> Dataset:
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    return ref


def _frame_of_reference(series: DicomSeries) -> Sequence:
    """Referenced Frame of Reference -> study -> series -> every contour image."""
    ser = Dataset()
    ser.SeriesInstanceUID = series.series_uid
    ser.ContourImageSequence = Sequence([_image_ref(ds) for ds in series.datasets])
    study = Dataset()
    study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"  # Detached Study Management
    study.ReferencedSOPInstanceUID = series.study_uid
    study.RTReferencedSeriesSequence = Sequence([ser])
    frame = Dataset()
    frame.FrameOfReferenceUID = series.frame_of_reference_uid
    frame.RTReferencedStudySequence = Sequence([study])
    return Sequence([frame])


def _contour_data(points: np.ndarray) -> RawDataElement:
    """Contour Data as an already encoded element.

    pydicom validates every DS value of a Contour Data list one by one (seconds for a CT
    mask); the values are valid by construction (:func:`format_ds`), so they are written as
    they are. Implicit VR files have 4-byte lengths, so long contours (> 64 KiB) fit.
    """
    raw = "\\".join(format_ds(points)).encode("ascii")
    if len(raw) % 2:
        raw += b" "
    return RawDataElement(CONTOUR_DATA, "DS", len(raw), raw, 0, True, True)


def _keep_encoded(ds: Dataset) -> None:
    """Mark each contour item as encoded the way the file is written (implicit VR, little
    endian, the item's character set): pydicom then writes the item's elements as they are,
    where otherwise it would decode every Contour Data value and validate it again (about as
    long as tracing the contours, for a CT-size mask)."""
    for roi in ds.get("ROIContourSequence", []):
        for item in roi.get("ContourSequence", []):
            item.set_original_encoding(True, True, item._character_set)


def _slice_contours(mask2d: np.ndarray, series: DicomSeries, k: int) -> list[Dataset]:
    """CLOSED_PLANAR contour items for one slice ``mask2d`` (``[i, j]``) of slice ``k``."""
    origin = series.slice_position(k)
    items = []
    for poly in mask_polygons(mask2d):
        pts = series.geometry.pixel_to_lps(origin, poly[:, 0], poly[:, 1])
        item = Dataset()
        item.ContourImageSequence = Sequence([_image_ref(series.datasets[k])])
        item.ContourGeometricType = "CLOSED_PLANAR"
        item.NumberOfContourPoints = len(pts)
        item[CONTOUR_DATA] = _contour_data(pts)
        items.append(item)
    return items


def _roi_contour(mask: np.ndarray, series: DicomSeries, number: int) -> Dataset:
    roi = Dataset()
    roi.ROIDisplayColor = list(colour_for(number - 1))
    contours: list[Dataset] = []
    for k in np.nonzero(mask.any(axis=(0, 1)))[0].tolist():
        contours.extend(_slice_contours(mask[:, :, k], series, k))
    if contours:  # Contour Sequence is type 3: left out for an empty ROI
        roi.ContourSequence = Sequence(contours)
    roi.ReferencedROINumber = number
    return roi


def _structure_set_roi(name: str, number: int, frame_uid: str, run_name: str) -> Dataset:
    item = Dataset()
    item.ROINumber = number
    item.ReferencedFrameOfReferenceUID = frame_uid
    item.ROIName = name[:64]
    item.ROIGenerationAlgorithm = "AUTOMATIC"
    item.ROIGenerationDescription = f"oncoseg {oncoseg.__version__} {run_name}".strip()[:64]
    return item


def _observation(name: str, number: int) -> Dataset:
    obs = Dataset()
    obs.ObservationNumber = number
    obs.ReferencedROINumber = number
    obs.RTROIInterpretedType = code_for(name).rt_type
    obs.ROIInterpreter = ""
    return obs


def _header(series: DicomSeries, description: str) -> Dataset:
    """SOP common, patient, study, RT series, equipment, frame of reference, structure set."""
    src, now = series.datasets[0], dt.datetime.now()
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = RTSTRUCT_SOP_CLASS, generate_uid()
    copy_identity(src, ds)
    ds.Modality, ds.SeriesInstanceUID = "RTSTRUCT", generate_uid()
    ds.SeriesNumber, ds.InstanceNumber = RTSTRUCT_SERIES_NUMBER, 1
    ds.SeriesDescription = description[:64]
    ds.OperatorsName = ""
    ds.FrameOfReferenceUID = series.frame_of_reference_uid
    ds.PositionReferenceIndicator = src.get("PositionReferenceIndicator", "")
    ds.Manufacturer, ds.ManufacturerModelName = "oncoseg", "oncoseg"
    ds.SoftwareVersions = oncoseg.__version__
    ds.StructureSetLabel = "oncoseg"
    ds.StructureSetDate, ds.StructureSetTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.InstanceCreationDate, ds.InstanceCreationTime = ds.StructureSetDate, ds.StructureSetTime
    ds.ApprovalStatus = "UNAPPROVED"
    return ds


def build_rtstruct(
    mask: Image,
    series: DicomSeries,
    labels: Mapping[str, int] | None = None,
    *,
    run_name: str = "",
    series_description: str = "oncoseg contours",
) -> Dataset:
    """The RTSTRUCT data set for ``mask`` (an :class:`Image` on ``series.image``'s grid).

    Args:
        mask: label map :class:`~oncoseg.io.image.Image`, same grid as ``series.image``.
        series: the source series; every contour references its slice.
        labels: ROI name -> label value, in ROI order; default: values present in ``mask``.
        run_name: training run, recorded in each ROI's generation description.
        series_description: SeriesDescription of the new series.
    """
    check_mask_on_series(mask, series)
    labels = dict(labels) if labels is not None else default_labels(mask)
    ds = _header(series, series_description)
    ds.ReferencedFrameOfReferenceSequence = _frame_of_reference(series)
    frame_uid = series.frame_of_reference_uid
    ds.StructureSetROISequence = Sequence(
        [_structure_set_roi(n, i, frame_uid, run_name) for i, n in enumerate(labels, 1)]
    )
    ds.ROIContourSequence = Sequence(
        [_roi_contour(mask.array == v, series, i) for i, v in enumerate(labels.values(), 1)]
    )
    ds.RTROIObservationsSequence = Sequence([_observation(n, i) for i, n in enumerate(labels, 1)])
    return ds


def write_rtstruct(
    mask: Image,
    series: DicomSeries,
    path: str | os.PathLike[str],
    labels: Mapping[str, int] | None = None,
    *,
    run_name: str = "",
) -> Path:
    """Build the RTSTRUCT (see :func:`build_rtstruct`) and write it atomically to ``path``."""
    ds = build_rtstruct(mask, series, labels, run_name=run_name)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ImplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    _keep_encoded(ds)
    out = Path(path)
    with atomic_path(out) as tmp:
        ds.save_as(tmp, enforce_file_format=True)
    log.info("wrote RTSTRUCT with %d ROI(s): %s", len(ds.StructureSetROISequence), out.name)
    return out
