from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from oncoseg.data.dataset import (
    DatasetFormatError,
    dataset_hash,
    kfold_splits,
    list_cases,
    read_case,
    read_clinical_csv,
    read_info,
    read_splits,
)
from oncoseg.data.phantom_cohort import write_cohort
from oncoseg.tasks import breast_ctv


def test_nnunet_format(breast_dataset: Path, brain_dataset: Path) -> None:
    for root, n_ch in ((breast_dataset, 1), (brain_dataset, 4)):
        raw = json.loads((root / "dataset.json").read_text())
        for key in ("channel_names", "labels", "numTraining", "file_ending"):
            assert key in raw
        assert raw["file_ending"] == ".nii.gz" and raw["labels"]["background"] == 0
        assert raw["notes_dir"] == "notesTr" and raw["task"] and raw["site"] == "internal"
        cases = list_cases(root)
        assert len(cases) == raw["numTraining"]
        for p in (root / "imagesTr").iterdir():
            assert re.fullmatch(r"[a-z]+_[a-z]{3}_\d{4}_\d{4}\.nii\.gz", p.name), p.name
        for p in (root / "labelsTr").iterdir():
            assert re.fullmatch(r"[a-z]+_[a-z]{3}_\d{4}\.nii\.gz", p.name), p.name
        assert len(list((root / "imagesTr").iterdir())) == n_ch * len(cases)


def test_round_trip_case_and_csv(breast_dataset: Path) -> None:
    info = read_info(breast_dataset)
    case = read_case(breast_dataset, "bctv_int_0000")
    assert len(case.images) == info.num_channels == 1
    assert case.label is not None and case.label.shape == case.images[0].shape == (32, 32, 32)
    assert case.regions is not None
    rows = read_clinical_csv(breast_dataset)
    assert len(rows) == 10 and rows["bctv_int_0000"]["split"] == "Tr"
    assert {"laterality", "n_stage", "surgery", "t_stage"} <= set(rows["bctv_int_0000"])
    assert read_case(breast_dataset, "bctv_int_0008", "Ts").label is not None


def test_splits_cover_every_training_case_once(breast_dataset: Path) -> None:
    splits = read_splits(breast_dataset)
    cases = list_cases(breast_dataset)
    assert len(splits) == 5
    vals = [c for fold in splits for c in fold["val"]]
    assert sorted(vals) == cases
    for fold in splits:
        assert not set(fold["train"]) & set(fold["val"])
    with pytest.raises(ValueError, match="k must be"):
        kfold_splits(cases, k=1)


def test_generation_is_deterministic_and_refuses_to_clobber(tmp_path: Path) -> None:
    spec = breast_ctv.cohort_spec()
    a = write_cohort(tmp_path / "a", spec, cases=3, size=32, seed=5, style="narrative")
    b = write_cohort(tmp_path / "b", spec, cases=3, size=32, seed=5, style="narrative")
    assert dataset_hash(a) == dataset_hash(b)
    c = write_cohort(tmp_path / "c", spec, cases=3, size=32, seed=6, style="narrative")
    assert dataset_hash(a) != dataset_hash(c)
    with pytest.raises(FileExistsError, match="not empty"):
        write_cohort(a, spec, cases=3, size=32, seed=5)
    assert dataset_hash(a) == dataset_hash(b)  # untouched
    assert not list(tmp_path.glob(".a.*"))  # no build folder left behind


def test_read_info_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match="dataset.json: not found"):
        read_info(tmp_path)
    (tmp_path / "dataset.json").write_text("{not json")
    with pytest.raises(DatasetFormatError, match="dataset.json: not valid"):
        read_info(tmp_path)
    (tmp_path / "dataset.json").write_text(
        json.dumps(
            {
                "channel_names": {"0": "CT"},
                "labels": {"ctv": 1},
                "numTraining": 1,
                "file_ending": ".nii.gz",
            }
        )
    )
    with pytest.raises(DatasetFormatError, match="background: 0"):
        read_info(tmp_path)
