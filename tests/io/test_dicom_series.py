from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest

from oncoseg.io.dicom_series import (
    DicomSeriesError,
    list_series,
    load_dicom_image,
    read_dicom_series,
)
from tests.io.conftest import TOTALSEG_CT, SeriesSpec, hu_volume, rotation, sitk_image

AXIAL = tuple(map(tuple, np.eye(3)))


def _files(folder: Path) -> list[tuple[Path, pydicom.Dataset]]:
    """Files with their headers, sorted along the slice normal."""
    items = [(p, pydicom.dcmread(p)) for p in folder.iterdir()]
    return sorted(items, key=lambda it: int(it[1].InstanceNumber))


@pytest.mark.parametrize(
    "fields",
    [
        {},  # oblique, rows != columns, row spacing != column spacing, unsigned + rescale
        {"rotation": AXIAL, "step": 4.0},
        {"rotation": tuple(map(tuple, rotation((0, 0, 1), 90))), "slope": 0.5},
        {"rotation": tuple(map(tuple, -np.eye(3)[:, [1, 0, 2]]))},  # normal along -z
    ],
)
def test_geometry_and_values_equal_simpleitk(
    make_series: Callable[..., Path], fields: dict[str, object]
) -> None:
    folder = make_series(**fields)
    spec = SeriesSpec(**fields)  # type: ignore[arg-type]
    series = read_dicom_series(folder)
    ref = sitk_image(folder)
    assert series.image.shape == (spec.columns, spec.rows, spec.slices)
    assert np.allclose(series.image.affine, ref.affine, atol=1e-5)
    assert np.allclose(series.image.spacing, (spec.col_spacing, spec.row_spacing, spec.step))
    assert np.array_equal(series.image.array, hu_volume(spec))
    assert np.array_equal(series.image.array, ref.array)  # GDCM applies the rescale too
    assert series.image.array.dtype == (np.int16 if spec.slope == 1 else np.float32)
    # headers follow the slice order: InstanceNumber increases along the normal
    assert [int(d.InstanceNumber) for d in series.datasets] == list(range(1, spec.slices + 1))
    assert series.repaired == ()


def test_empty_uids_are_repaired_deterministically(
    make_series: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    folder = make_series(empty_uids=True)
    with caplog.at_level(logging.WARNING):
        a, b = read_dicom_series(folder), read_dicom_series(folder)
    assert "StudyInstanceUID" in caplog.text and "will not attach" in caplog.text
    for secret in ("Syn^Test", "SYN1", "ACC1", str(folder)):
        assert secret not in caplog.text
    assert a.repaired == ("SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID")
    assert a.series_uid == b.series_uid and a.study_uid == b.study_uid
    meta_uids = {str(pydicom.dcmread(p).file_meta.MediaStorageSOPInstanceUID) for p in a.files}
    assert {str(d.SOPInstanceUID) for d in a.datasets} == meta_uids


def test_several_series_are_listed_and_chosen(make_series: Callable[..., Path]) -> None:
    root = make_series("both/a", seed=1).parent
    make_series("both/b", seed=2, slices=6, rotation=AXIAL)
    infos = list_series(root)
    assert [s.slices for s in infos] == [10, 6] and infos[0].modality == "CT"
    with pytest.raises(DicomSeriesError, match=r"2 series found.*\n.*10 slices\n.*6 slices"):
        read_dicom_series(root)
    assert load_dicom_image(root, infos[1].uid).shape == (24, 20, 6)
    with pytest.raises(DicomSeriesError, match="no series 1.2.3"):
        read_dicom_series(root, "1.2.3")


def _break(folder: Path, how: str) -> None:
    items = _files(folder)
    if how == "missing":
        items[4][0].unlink()
        return
    for n, (path, ds) in enumerate(items):
        if how == "tilt":
            ds.ImagePositionPatient = [
                float(ds.ImagePositionPatient[0]) + 0.5 * n,
                *ds.ImagePositionPatient[1:],
            ]
        elif how == "uneven" and n >= 6:
            ds.ImagePositionPatient = [
                *ds.ImagePositionPatient[:2],
                float(ds.ImagePositionPatient[2]) + 1.0,
            ]
        elif how == "orientation" and n == 3:
            ds.ImageOrientationPatient = [0, 1, 0, 1, 0, 0]
        elif how == "localizer" and n == 0:
            ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
        elif how == "nopixels" and n == 2:
            del ds.PixelData
        elif how == "duplicate" and n == 2:
            ds.ImagePositionPatient = items[1][1].ImagePositionPatient
        else:
            continue
        ds.save_as(path)


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing", r"1 slice\(s\) missing between"),
        ("uneven", "uneven slice spacing"),
        ("tilt", "gantry tilt"),
        ("orientation", "mixed orientations"),
        ("localizer", "localizer"),
        ("nopixels", "has no pixel data"),
        ("duplicate", "two slices at the same position"),
    ],
)
def test_bad_series_errors_name_the_folder(
    make_series: Callable[..., Path], how: str, message: str
) -> None:
    folder = make_series(rotation=AXIAL)
    _break(folder, how)
    with pytest.raises(DicomSeriesError, match=message) as err:
        read_dicom_series(folder)
    assert str(folder) in str(err.value)


def test_no_dicom_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not dicom")
    with pytest.raises(DicomSeriesError, match="no DICOM image files found"):
        read_dicom_series(tmp_path)
    with pytest.raises(DicomSeriesError, match="not a folder"):
        read_dicom_series(tmp_path / "absent")


def test_totalsegmentator_fixture_series() -> None:
    """Real CT, JPEG 2000 lossless, with empty UIDs in the data sets (DESIGN §8)."""
    if not TOTALSEG_CT.is_dir():
        pytest.skip("../shared/data fixtures absent")
    pytest.importorskip("openjpeg", reason="pylibjpeg-openjpeg decodes JPEG 2000")
    series = read_dicom_series(TOTALSEG_CT)
    ref = sitk_image(TOTALSEG_CT)
    assert series.image.shape == (512, 512, 20) and series.modality == "CT"
    assert np.allclose(series.image.affine, ref.affine, atol=1e-5)
    assert np.array_equal(series.image.array, ref.array)  # SimpleITK applies the rescale too
    assert series.image.array.min() == -1024
    assert set(series.repaired) == {
        "SOPClassUID",
        "SOPInstanceUID",
        "SeriesInstanceUID",
        "StudyInstanceUID",
    }
    assert all(
        p.name == f"CT.{d.SOPInstanceUID}"
        for p, d in zip(series.files, series.datasets, strict=True)
    )
