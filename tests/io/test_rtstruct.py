from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest

from oncoseg.io.contours import format_ds, mask_polygons, polygons_to_mask
from oncoseg.io.dicom_series import DicomSeries, read_dicom_series
from oncoseg.io.image import Image, load_image
from oncoseg.io.rtstruct import build_rtstruct, list_rois, read_rtstruct, write_rtstruct
from tests.io.conftest import (
    FIXTURES,
    SeriesSpec,
    dciodvfy_errors,
    dice,
    label_mask,
    onto_grid,
    rotation,
    tool,
)
from tests.io.test_dicom_seg import _fixture_series, fixture_mask

LABELS = {"CTV_Breast": 1, "GTV": 2}
SPECS = [
    {},  # oblique, rows != columns, row spacing 0.8 != column spacing 1.3, slices 2.5 mm
    {"rotation": tuple(map(tuple, np.eye(3))), "row_spacing": 1.7, "col_spacing": 0.6},
    {"rotation": tuple(map(tuple, rotation((0, 1, 0), 90))), "step": 3.3},  # sagittal-like
]


def plastimatch_masks(rt: Path, series: DicomSeries, out: Path) -> dict[str, np.ndarray]:
    """ROIs rasterised by ``plastimatch convert`` (its default union rule), on our grid.

    plastimatch reads the CT folder itself; where it cannot (a series whose UIDs are empty in
    the data sets), it rasterises onto SimpleITK's reading of the series (``--fixed``).
    """
    import SimpleITK as sitk

    if series.repaired:
        fixed = out.parent / "ct_simpleitk.nii.gz"
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series.folder)))
        sitk.WriteImage(reader.Execute(), str(fixed))
        reference = ["--fixed", str(fixed)]
    else:
        reference = ["--referenced-ct", str(series.folder)]
    subprocess.run(
        [
            tool("plastimatch"),
            "convert",
            "--input",
            str(rt),
            *reference,
            "--output-prefix",
            str(out),
            "--prefix-format",
            "nii.gz",
        ],
        check=True,
        capture_output=True,
    )
    return {
        p.name[: -len(".nii.gz")]: onto_grid(load_image(p), series.image) > 0
        for p in out.glob("*.nii.gz")
    }


def _check_with_plastimatch(
    mask: Image, series: DicomSeries, tmp: Path, labels: dict[str, int]
) -> None:
    path = write_rtstruct(mask, series, tmp / "rtstruct.dcm", labels, run_name="run-a")
    assert dciodvfy_errors(path) == []
    got = plastimatch_masks(path, series, tmp / "plastimatch")
    assert sorted(got) == sorted(labels)
    for name, value in labels.items():
        d = dice(got[name], mask.array == value)
        wrong = int((got[name] != (mask.array == value)).sum())
        print(f"plastimatch {name}: Dice {d:.4f}, voxel mismatches {wrong}")
        assert d >= 0.95
    mine = read_rtstruct(path, series)
    for name, value in labels.items():
        assert np.array_equal(mine[name], mask.array == value)


@pytest.mark.parametrize("fields", SPECS)
def test_rtstruct_rasterised_by_plastimatch(
    make_series: Callable[..., Path], tmp_path: Path, fields: dict[str, object]
) -> None:
    series = read_dicom_series(make_series(**fields))
    mask = Image(label_mask(SeriesSpec(**fields)), series.image.affine)  # type: ignore[arg-type]
    _check_with_plastimatch(mask, series, tmp_path, LABELS)


def test_rtstruct_content(
    make_series: Callable[..., Path], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    series = read_dicom_series(make_series())
    mask = Image(label_mask(SeriesSpec()), series.image.affine)
    with caplog.at_level(logging.DEBUG):
        path = write_rtstruct(mask, series, tmp_path / "rt.dcm", {**LABELS, "PTV": 3})
    ds = pydicom.dcmread(path)
    src = series.datasets[0]
    for kw in ("PatientName", "PatientID", "StudyInstanceUID", "AccessionNumber", "StudyID"):
        assert ds.get(kw) == src.get(kw), kw
    assert ds.FrameOfReferenceUID == series.frame_of_reference_uid
    rois = list_rois(path)
    assert [(r.name, r.rt_type) for r in rois] == [
        ("CTV_Breast", "CTV"),
        ("GTV", "GTV"),
        ("PTV", "PTV"),
    ]
    assert rois[2].contours == 0 and rois[0].contours > 0
    colours = [tuple(r.ROIDisplayColor) for r in ds.ROIContourSequence]
    assert len(set(colours)) == 3
    sops = {str(d.SOPInstanceUID) for d in series.datasets}
    raw = path.read_bytes()
    for roi in ds.ROIContourSequence[:2]:
        for c in roi.ContourSequence:
            assert str(c.ContourImageSequence[0].ReferencedSOPInstanceUID) in sops
            assert len(c.ContourData) == 3 * int(c.NumberOfContourPoints)
            assert max(len(str(v)) for v in c.ContourData) <= 16
    assert b"Syn^Test" in raw  # identity copied into the file ...
    assert "Syn^Test" not in caplog.text and "SYN1" not in caplog.text  # ... never logged


def test_rtstruct_refuses_another_grid(make_series: Callable[..., Path]) -> None:
    series = read_dicom_series(make_series())
    with pytest.raises(ValueError, match="does not match the DICOM series"):
        build_rtstruct(Image(np.zeros((20, 24, 10), np.uint8), series.image.affine), series)


def test_contours_rasterise_back_exactly_under_both_rules() -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        m = rng.random((19, 23)) < 0.5
        polys = mask_polygons(m)
        union = np.zeros_like(m)
        for p in polys:
            union |= polygons_to_mask([p], m.shape)
        assert np.array_equal(polygons_to_mask(polys, m.shape), m)  # even-odd
        assert np.array_equal(union, m)  # union (plastimatch's default)


def test_ds_strings_stay_within_16_characters() -> None:
    values = np.array([-123456.78901234, 0.1 + 0.2, -1e-9, 12345678.9, 3e12, -0.0])
    out = format_ds(values)
    assert all(len(s) <= 16 for s in out)
    assert np.allclose([float(s) for s in out], values, rtol=1e-6, atol=1e-6)


def test_rtstruct_on_totalsegmentator_fixture(tmp_path: Path) -> None:
    series = _fixture_series()
    mask = fixture_mask(series)
    assert (mask.array == 1).sum() > 10_000 and (mask.array == 2).sum() > 10_000
    _check_with_plastimatch(mask, series, tmp_path, {"bone": 1, "lung": 2})


def test_reads_real_rtstruct_fixtures() -> None:
    rtss = FIXTURES / "dicompyler-core" / "tests" / "testdata" / "example_data" / "rtss.dcm"
    mock = FIXTURES / "rt-utils" / "tests" / "mock_data"
    if not rtss.exists() or not mock.is_dir():
        pytest.skip("../shared/data fixtures absent")
    rois = list_rois(rtss)
    assert len(rois) == 10
    assert {r.name for r in rois} >= {"BODY", "Breast", "Tumor Bed", "Heart", "Lt Lung"}
    assert all(r.contours > 0 for r in rois if r.name in ("BODY", "Heart"))
    series = read_dicom_series(mock)  # two CT slices + the RTSTRUCT beside them
    masks = read_rtstruct(mock / "rt.dcm", series)
    assert list(masks) == [r.name for r in list_rois(mock / "rt.dcm")]
    assert all(m.any() for m in masks.values())
