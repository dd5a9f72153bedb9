from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest

from oncoseg.io.dicom_seg import build_dicom_seg, read_dicom_seg, write_dicom_seg
from oncoseg.io.dicom_series import DicomSeries, read_dicom_series
from oncoseg.io.image import Image, load_image
from tests.io.conftest import (
    FIXTURES,
    TOTALSEG_CT,
    SeriesSpec,
    dciodvfy_errors,
    label_mask,
    onto_grid,
    tool,
)

LABELS = {"CTV_Breast": 1, "GTV": 2}


def dcmqi_masks(seg: Path, out: Path, series: DicomSeries) -> list[np.ndarray]:
    """Segments as dcmqi's segimage2itkimage reads them, placed on the series' grid."""
    out.mkdir()
    subprocess.run(
        [
            tool("segimage2itkimage"),
            "--inputDICOM",
            str(seg),
            "--outputDirectory",
            str(out),
            "-t",
            "nifti",
        ],
        check=True,
        capture_output=True,
    )
    files = sorted(out.glob("*.nii.gz"), key=lambda p: int(p.name.split(".")[0]))
    return [onto_grid(load_image(f), series.image) for f in files]


def _check_with_dcmqi(mask: Image, series: DicomSeries, tmp: Path, labels: dict[str, int]) -> None:
    path = write_dicom_seg(mask, series, tmp / "seg.dcm", labels, run_name="run-a")
    assert dciodvfy_errors(path) == []
    read = dcmqi_masks(path, tmp / "dcmqi", series)
    assert len(read) == len(labels)
    for got, value in zip(read, labels.values(), strict=True):
        mismatches = int(((got > 0) != (mask.array == value)).sum())
        print(f"dcmqi voxel mismatches, label {value}: {mismatches}")
        assert mismatches == 0
    mine = read_dicom_seg(path, series)
    for name, value in labels.items():
        assert np.array_equal(mine[name], mask.array == value)


@pytest.mark.parametrize("fields", [{}, {"rotation": tuple(map(tuple, np.eye(3)))}])
def test_seg_round_trip_through_dcmqi_is_voxel_exact(
    make_series: Callable[..., Path], tmp_path: Path, fields: dict[str, object]
) -> None:
    series = read_dicom_series(make_series(**fields))
    mask = Image(label_mask(SeriesSpec(**fields)), series.image.affine)  # type: ignore[arg-type]
    assert not mask.array[:, :, 0].any()  # empty frames at both ends are left out
    _check_with_dcmqi(mask, series, tmp_path, LABELS)


def test_seg_content(make_series: Callable[..., Path], caplog: pytest.LogCaptureFixture) -> None:
    series = read_dicom_series(make_series())
    mask = Image(label_mask(SeriesSpec()), series.image.affine)
    with caplog.at_level(logging.DEBUG):
        seg = build_dicom_seg(mask, series, {**LABELS, "PTV": 3}, run_name="run-a")
    src = series.datasets[0]
    assert seg.SegmentationType == "BINARY" and seg.Modality == "SEG"
    for kw in ("PatientName", "PatientID", "StudyInstanceUID", "AccessionNumber", "StudyID"):
        assert seg.get(kw) == src.get(kw), kw
    assert str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID) == series.series_uid
    segs = seg.SegmentSequence
    assert [s.SegmentLabel for s in segs] == ["CTV_Breast", "GTV", "PTV"]
    assert segs[0].SegmentedPropertyTypeCodeSequence[0].CodeValue == "228792002"  # CTV
    assert segs[1].SegmentedPropertyTypeCodeSequence[0].CodeValue == "228791009"  # GTV
    algo = segs[0].SegmentationAlgorithmIdentificationSequence[0]
    assert algo.AlgorithmName == "oncoseg" and "run-a" in str(algo.AlgorithmParameters)
    assert "Syn^Test" not in caplog.text and "SYN1" not in caplog.text


def test_seg_refuses_another_grid(make_series: Callable[..., Path]) -> None:
    series = read_dicom_series(make_series())
    other = Image(np.zeros((24, 20, 9), np.uint8), series.image.affine)
    with pytest.raises(ValueError, match="does not match the DICOM series"):
        build_dicom_seg(other, series, LABELS)


def test_seg_on_series_with_empty_uids(make_series: Callable[..., Path], tmp_path: Path) -> None:
    series = read_dicom_series(make_series(empty_uids=True))
    mask = Image(label_mask(SeriesSpec()), series.image.affine)
    _check_with_dcmqi(mask, series, tmp_path, LABELS)


def _fixture_series() -> DicomSeries:
    if not TOTALSEG_CT.is_dir():
        pytest.skip("../shared/data fixtures absent")
    pytest.importorskip("openjpeg", reason="pylibjpeg-openjpeg decodes JPEG 2000")
    return read_dicom_series(TOTALSEG_CT)


def fixture_mask(series: DicomSeries) -> Image:
    """Bone (> 250 HU) and air-filled lung (< -700 HU inside the body) on slices 3-16."""
    hu = series.image.array
    mask = np.zeros(hu.shape, np.uint8)
    body = hu > -500
    mask[
        (hu < -700) & np.cumsum(body, axis=0).astype(bool) & body[::-1].cumsum(0)[::-1].astype(bool)
    ] = 2
    mask[hu > 250] = 1
    mask[:, :, :3] = 0
    mask[:, :, 17:] = 0
    return Image(mask, series.image.affine)


def test_seg_on_totalsegmentator_fixture(tmp_path: Path) -> None:
    series = _fixture_series()
    mask = fixture_mask(series)
    _check_with_dcmqi(mask, series, tmp_path, {"bone": 1, "lung": 2})


def test_reads_dcmqi_fixture_seg() -> None:
    folder = FIXTURES / "dcmqi" / "data" / "segmentations"
    if not folder.is_dir():
        pytest.skip("../shared/data fixtures absent")
    series = read_dicom_series(folder / "ct-3slice")
    masks = read_dicom_seg(folder / "liver.dcm", series)
    assert list(masks) == ["Liver"]
    ref = onto_grid(load_image(folder / "liver_seg.nrrd"), series.image)
    assert masks["Liver"].sum() > 1000
    assert np.array_equal(masks["Liver"], ref > 0)
    assert pydicom.dcmread(folder / "liver.dcm").SegmentationType == "BINARY"


def test_a_label_with_no_voxel_is_an_empty_segment(
    make_series: Callable[..., Path], tmp_path: Path
) -> None:
    """An unprescribed target (all its voxels ruled out) is still a named segment, empty, so a
    planning system shows it as not drawn rather than missing."""
    series = read_dicom_series(make_series())
    arr = label_mask(SeriesSpec())
    arr[arr == 2] = 3
    labels = {"PTV70": 1, "PTV63": 2, "PTV56": 3}
    path = write_dicom_seg(Image(arr, series.image.affine), series, tmp_path / "seg.dcm", labels)
    assert dciodvfy_errors(path) == []
    assert [s.SegmentLabel for s in pydicom.dcmread(path).SegmentSequence] == list(labels)
    got = read_dicom_seg(path, series)
    assert {k: int(np.count_nonzero(v)) for k, v in got.items()} == {
        "PTV70": int(np.count_nonzero(arr == 1)),
        "PTV63": 0,
        "PTV56": int(np.count_nonzero(arr == 3)),
    }
