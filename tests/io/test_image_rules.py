"""The input rules (oncoseg.io.image_rules, oncoseg.io.note_file, oncoseg.text.note_length) on
every bad category: refused with one line that starts with the file and says what was
expected."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from oncoseg.io.image import Image, ImageReadError, load_channels, load_image, save_image
from oncoseg.io.image_rules import (
    ImageLimits,
    InvalidImageError,
    check_affine,
    check_image,
    check_size,
)
from oncoseg.io.note_file import NoteFileError, read_note_file
from tests.io.bad_inputs import IMAGE_BREAKERS, NOTE_BREAKERS


def _oblique() -> np.ndarray:
    affine = np.eye(4)
    c, s = np.cos(0.3), np.sin(0.3)
    affine[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.diag([0.8, 0.9, 2.5])
    affine[:3, 3] = [10.0, -20.0, 30.0]
    return affine


@pytest.fixture
def good_image(tmp_path: Path) -> Path:
    p = tmp_path / "good" / "ct_0000.nii.gz"
    data = np.random.default_rng(0).normal(0, 100, (16, 18, 20)).astype(np.float32)
    save_image(Image(data, _oblique()), p)
    return p


def test_a_good_image_passes_with_its_geometry(good_image: Path) -> None:
    img = load_image(good_image)
    assert img.shape == (16, 18, 20) and img.source == str(good_image)
    assert np.allclose(img.spacing, (0.8, 0.9, 2.5), atol=1e-5)


@pytest.mark.parametrize("category", sorted(IMAGE_BREAKERS))
def test_each_bad_image_is_refused_naming_the_file(
    good_image: Path, tmp_path: Path, category: str
) -> None:
    breaker, words = IMAGE_BREAKERS[category]
    bad = tmp_path / f"{category}_0000.nii.gz"
    shutil.copy(good_image, bad)
    breaker(bad)
    with pytest.raises(ImageReadError) as info:
        load_image(bad)
    message = str(info.value)
    assert message.startswith(f"{bad}: ") and words in message, message
    assert "\n" not in message


def test_zero_spacing_is_what_nibabel_would_have_called_1_mm(
    good_image: Path, tmp_path: Path
) -> None:
    """The reason for reading the header ourselves: nibabel reports the fixed value."""
    bad = tmp_path / "z.nii.gz"
    shutil.copy(good_image, bad)
    IMAGE_BREAKERS["zero_spacing"][0](bad)
    logging.getLogger("nibabel.global").disabled = True  # its fix message is not ours
    try:
        assert float(nib.load(str(bad)).header.get_zooms()[2]) == 1.0
    finally:
        logging.getLogger("nibabel.global").disabled = False
    with pytest.raises(InvalidImageError, match=r"pixdim\) \(0.8, 0.9, 0\) mm"):
        load_image(bad)


def test_the_counts_of_non_finite_voxels(good_image: Path) -> None:
    img = load_image(good_image)
    arr = img.array.copy()
    arr[0, 0, :3] = np.nan
    arr[1, 1, 1] = -np.inf
    with pytest.raises(InvalidImageError, match=r"x: 4 of 5760 voxels .*\(3 NaN, 1 infinite\)"):
        check_image(arr, img.affine, "x")


def test_a_4th_axis_of_length_1_is_a_volume(tmp_path: Path) -> None:
    p = tmp_path / "t1.nii.gz"
    nib.save(nib.Nifti1Image(np.ones((6, 7, 8, 1), np.float32), np.eye(4)), str(p))
    assert load_image(p).shape == (6, 7, 8)


def test_channels_only_where_the_format_marks_them(tmp_path: Path) -> None:
    data = np.random.default_rng(1).random((6, 7, 8, 1, 2)).astype(np.float32)
    vec = nib.Nifti1Image(data, np.eye(4))
    vec.header.set_intent("vector")
    p = tmp_path / "vec.nii.gz"
    nib.save(vec, str(p))
    channels = load_channels(p)
    assert [c.shape for c in channels] == [(6, 7, 8), (6, 7, 8)]
    assert np.array_equal(channels[1].array, data[..., 0, 1])
    with pytest.raises(InvalidImageError, match=r"vec.nii.gz: 2 channels in one file"):
        load_image(p)
    plain = tmp_path / "time.nii.gz"
    nib.save(nib.Nifti1Image(data[..., 0, :], np.eye(4)), str(plain))  # no vector intent
    with pytest.raises(InvalidImageError, match=r"4D image of shape \(6, 7, 8, 2\)"):
        load_channels(plain)


def test_nrrd_through_simpleitk(tmp_path: Path) -> None:
    import SimpleITK as sitk

    flat = tmp_path / "slice.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((8, 9), np.float32)), str(flat))
    with pytest.raises(InvalidImageError, match=r"slice.nrrd: 2D image of shape \(9, 8\)"):
        load_image(flat)
    vec = tmp_path / "vec.nrrd"
    arr = np.random.default_rng(2).random((5, 6, 7, 3)).astype(np.float32)  # z, y, x, c
    sitk.WriteImage(sitk.GetImageFromArray(arr, isVector=True), str(vec))
    channels = load_channels(vec)
    assert len(channels) == 3 and channels[0].shape == (7, 6, 5)
    assert np.array_equal(channels[2].array, arr[..., 2].transpose(2, 1, 0))
    series = sitk.JoinSeries([sitk.GetImageFromArray(arr[..., c]) for c in range(2)])
    four = tmp_path / "4d.nrrd"
    sitk.WriteImage(series, str(four))
    with pytest.raises(InvalidImageError, match=r"4d.nrrd: 4D image of shape \(7, 6, 5, 2\)"):
        load_image(four)


def test_size_limits_and_affines() -> None:
    limits = ImageLimits(min_side=2, max_side=64, max_voxels=64**2 * 10)
    check_size((64, 64, 10), "ok", limits)
    for shape, words in [((64, 64, 1), "single slice"), ((65, 4, 4), "too large")]:
        with pytest.raises(InvalidImageError, match=words):
            check_size(shape, "x", limits)
    with pytest.raises(InvalidImageError, match="at most 64 voxels per axis and 40,960 in all"):
        check_size((64, 64, 11), "x", limits)
    bad_values: list[tuple[Callable[[np.ndarray], None], str]] = [
        (lambda a: a.__setitem__((0, 0), np.nan), "not a finite 4x4"),
        (lambda a: a.__setitem__((slice(None), 2), 0.0), r"\(1, 1, 0\) mm"),
    ]
    for change, words in bad_values:
        a = np.eye(4)
        change(a)
        with pytest.raises(InvalidImageError, match=words):
            check_affine(a, "x")


@pytest.mark.parametrize("category", sorted(NOTE_BREAKERS))
def test_each_bad_note_is_refused_naming_the_file(tmp_path: Path, category: str) -> None:
    breaker, words = NOTE_BREAKERS[category]
    p = tmp_path / f"{category}.txt"
    p.write_text("Left breast, pT2 N1mi, after breast conserving surgery.", encoding="utf-8")
    breaker(p)
    with pytest.raises(NoteFileError) as info:
        read_note_file(p)
    message = str(info.value)
    assert message.startswith(f"{p}: ") and words in message and "\n" not in message
    assert "Brust" not in message and "PNG" not in message  # never the note's content


def test_a_good_note_with_a_byte_order_mark(tmp_path: Path) -> None:
    p = tmp_path / "n.txt"
    p.write_bytes("\ufeffLinke Brust, N1".encode())
    assert read_note_file(p) == "Linke Brust, N1"


class _Words:
    """A tokenizer with one token per word."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[str]]:
        return {"input_ids": text.split()}


class _Encoder:
    tokenizer, max_tokens, deid = _Words(), 12, False


def test_a_long_note_is_cut_with_a_warning_that_names_the_file(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from oncoseg.text.note_length import fit_note

    note = "Left breast N1mi. " + " ".join(f"Zebedee{i}" for i in range(40))
    with caplog.at_level(logging.WARNING):
        cut = fit_note(_Encoder(), note, "/data/p7/note.txt")
        same = fit_note(_Encoder(), "short note", "/data/p7/other.txt")
    assert cut.split() == note.split()[:12] and same == "short note"
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith("/data/p7/note.txt: note of 43 tokens")
    assert "the 12 the model reads" in message and "first 12 of 43 words" in message
    assert "Zebedee" not in message and "breast" not in message
