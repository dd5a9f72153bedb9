from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oncoseg.io.atomic import atomic_path
from oncoseg.io.image import Image, ImageReadError, load_image, same_geometry, save_image


def _oblique_affine() -> np.ndarray:
    theta = np.deg2rad(20)
    rot = np.array(
        [[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]]
    )
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag([0.8, 1.2, 3.0])
    affine[:3, 3] = [-100.5, 20.25, 7.0]
    return affine


def test_round_trip_keeps_geometry_and_dtype(tmp_path: Path) -> None:
    arr = np.random.default_rng(0).integers(-1000, 1000, (5, 6, 7)).astype(np.int16)
    img = Image(arr, _oblique_affine())
    save_image(img, tmp_path / "a.nii.gz")
    back = load_image(tmp_path / "a.nii.gz")
    assert back.array.dtype == np.int16 and np.array_equal(back.array, arr)
    assert np.allclose(back.affine, img.affine, atol=1e-5)
    assert np.allclose(back.spacing, (0.8, 1.2, 3.0))
    assert same_geometry(img, back)


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="missing.nii.gz: file not found"):
        load_image(tmp_path / "missing.nii.gz")
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"garbage")
    with pytest.raises(ImageReadError, match="bad.nii.gz: not a readable NIfTI"):
        load_image(bad)
    with pytest.raises(ValueError, match="ending in .nii.gz"):
        save_image(Image(np.zeros((2, 2, 2)), np.eye(4)), tmp_path / "x.png")


def test_atomic_write_keeps_old_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "result.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_nrrd_through_simpleitk_is_in_ras(tmp_path: Path) -> None:
    import SimpleITK as sitk

    arr = np.zeros((4, 5, 6), np.int16)  # ITK array order z, y, x
    arr[1, 2, 3] = 7
    itk = sitk.GetImageFromArray(arr)
    itk.SetSpacing((0.5, 0.7, 2.0))
    itk.SetOrigin((10.0, 20.0, 30.0))
    sitk.WriteImage(itk, str(tmp_path / "a.nrrd"))
    img = load_image(tmp_path / "a.nrrd")
    assert img.shape == (6, 5, 4) and img.array[3, 2, 1] == 7
    assert np.allclose(img.spacing, (0.5, 0.7, 2.0))
    assert np.allclose(img.origin, (-10.0, -20.0, 30.0))  # LPS -> RAS
