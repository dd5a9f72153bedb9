from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from oncoseg.data.dataset import image_path, label_path, note_path
from oncoseg.data.dataset_check import check_dataset

CASE = "bctv_int_0001"


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "broken"
    shutil.copytree(src, dst)
    return dst


def _missing_channel(d: Path) -> None:
    image_path(d, CASE, 0).unlink()


def _geometry_mismatch(d: Path) -> None:
    p = label_path(d, CASE)
    nii = nib.load(str(p))
    affine = nii.affine.copy()
    affine[0, 0] *= 1.5
    nib.save(nib.Nifti1Image(np.asarray(nii.dataobj), affine), str(p))


def _shape_mismatch(d: Path) -> None:
    p = label_path(d, CASE)
    nii = nib.load(str(p))
    nib.save(nib.Nifti1Image(np.asarray(nii.dataobj)[:-2], nii.affine), str(p))


def _label_out_of_range(d: Path) -> None:
    p = label_path(d, CASE)
    nii = nib.load(str(p))
    arr = np.asarray(nii.dataobj).copy()
    arr[0, 0, 0] = 7
    nib.save(nib.Nifti1Image(arr, nii.affine), str(p))


def _missing_note(d: Path) -> None:
    note_path(d, CASE).unlink()


def _non_utf8_note(d: Path) -> None:
    note_path(d, CASE).write_bytes("Linke Brust, Mastektomie".encode("latin-1") + b"\xe4\xff")


def _empty_note(d: Path) -> None:
    note_path(d, CASE).write_text("  \n", encoding="utf-8")


def _split_case_missing(d: Path) -> None:
    splits = json.loads((d / "splits.json").read_text())
    splits[0]["val"].append("bctv_int_9999")
    (d / "splits.json").write_text(json.dumps(splits))


def _num_training(d: Path) -> None:
    info = json.loads((d / "dataset.json").read_text())
    info["numTraining"] = 99
    (d / "dataset.json").write_text(json.dumps(info))


def _missing_key(d: Path) -> None:
    info = json.loads((d / "dataset.json").read_text())
    del info["channel_names"]
    (d / "dataset.json").write_text(json.dumps(info))


def _corrupt_image(d: Path) -> None:
    image_path(d, CASE, 0).write_bytes(b"not a nifti file")


def _stray_file(d: Path) -> None:
    (d / "imagesTr" / "README.txt").write_text("hello")


@pytest.mark.parametrize(
    ("breaker", "file_part", "message_part"),
    [
        (_missing_channel, f"imagesTr/{CASE}_0000.nii.gz", "channel 0000 missing"),
        (_geometry_mismatch, f"labelsTr/{CASE}.nii.gz", "geometry"),
        (_shape_mismatch, f"labelsTr/{CASE}.nii.gz", "does not match the image"),
        (_label_out_of_range, f"labelsTr/{CASE}.nii.gz", "[7]"),
        (_missing_note, f"notesTr/{CASE}.txt", "note missing"),
        (_non_utf8_note, f"notesTr/{CASE}.txt", "note: not UTF-8 text"),
        (_empty_note, f"notesTr/{CASE}.txt", "note: empty note"),
        (_split_case_missing, "splits.json", "bctv_int_9999"),
        (_num_training, "dataset.json", "numTraining is 99"),
        (_missing_key, "dataset.json", "channel_names"),
        (_corrupt_image, f"imagesTr/{CASE}_0000.nii.gz", "not a readable NIfTI"),
        (_stray_file, "imagesTr/README.txt", "unexpected file"),
    ],
)
def test_each_error_is_reported_with_its_file(
    breast_dataset: Path,
    tmp_path: Path,
    breaker: Callable[[Path], None],
    file_part: str,
    message_part: str,
) -> None:
    assert check_dataset(breast_dataset).ok
    broken = _copy(breast_dataset, tmp_path)
    breaker(broken)
    report = check_dataset(broken)
    assert not report.ok
    hits = [p for p in report.problems if p.path == file_part and message_part in p.message]
    assert hits, [str(p) for p in report.problems]


def test_every_problem_is_listed_not_just_the_first(breast_dataset: Path, tmp_path: Path) -> None:
    broken = _copy(breast_dataset, tmp_path)
    _empty_note(broken)
    _label_out_of_range(broken)
    _split_case_missing(broken)
    assert len(check_dataset(broken).problems) == 3


def test_valid_dataset_summary(breast_dataset: Path) -> None:
    report = check_dataset(breast_dataset)
    s = report.summary
    assert report.ok and s["training_cases"] == 8 and s["test_cases"] == 2
    assert s["channels"] == {"0": "CT"} and s["site"] == "internal"
    assert 100 < s["label_volume_ml"]["ctv"]["median"] < 3000
    assert s["note_chars"]["min"] > 20
