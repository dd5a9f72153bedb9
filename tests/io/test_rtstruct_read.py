from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from oncoseg.io.dicom_series import read_dicom_files, read_dicom_series
from oncoseg.io.image import Image
from oncoseg.io.rtstruct import write_rtstruct
from oncoseg.io.rtstruct_read import (
    RtstructError,
    list_rois,
    referenced_series,
    roi_masks,
)
from tests.io.conftest import SeriesSpec, label_mask


def _written(make_series: Callable[..., Path], **fields: object) -> tuple[Path, np.ndarray]:
    folder = make_series(**fields)
    series = read_dicom_series(folder)
    mask = label_mask(SeriesSpec(**fields))  # type: ignore[arg-type]
    write_rtstruct(Image(mask, series.image.affine), series, folder / "rt.dcm", {"A": 1, "B": 2})
    return folder, mask


def test_roi_masks_by_number_round_trip_on_an_oblique_non_square_series(
    make_series: Callable[..., Path],
) -> None:
    folder, mask = _written(make_series)
    series = read_dicom_files(sorted(folder.iterdir()), "series")  # the RTSTRUCT is skipped
    assert referenced_series(folder / "rt.dcm") == [series.series_uid]
    only_b = roi_masks(folder / "rt.dcm", series, [2])
    assert list(only_b) == [2] and np.array_equal(only_b[2], mask == 2)
    both = roi_masks(pydicom.dcmread(folder / "rt.dcm"), series)
    assert np.array_equal(both[1], mask == 1) and int(both[1].sum()) == int((mask == 1).sum())


def test_point_contours_are_skipped_and_off_slice_contours_refused(
    make_series: Callable[..., Path],
) -> None:
    folder, mask = _written(make_series)
    series = read_dicom_series(folder)
    ds = pydicom.dcmread(folder / "rt.dcm")
    point = Dataset()
    point.ContourGeometricType, point.NumberOfContourPoints = "POINT", 1
    point.ContourData = [float(v) for v in series.slice_position(3)]
    ds.ROIContourSequence[0].ContourSequence.append(point)
    assert np.array_equal(roi_masks(ds, series)[1], mask == 1)
    contour = ds.ROIContourSequence[1].ContourSequence[0]
    pts = np.asarray([float(v) for v in contour.ContourData]).reshape(-1, 3)
    contour.ContourData = (pts + 1.0 * series.geometry.normal).ravel().tolist()  # 1 mm off
    with pytest.raises(RtstructError, match="ROI 2 has a contour off the series' slices"):
        roi_masks(ds, series, [2])
    assert list(roi_masks(ds, series, [1])) == [1]  # only the wanted ROIs are placed
    ct = pydicom.dcmread(series.files[0])
    with pytest.raises(RtstructError, match="not an RTSTRUCT"):
        list_rois(ct)
