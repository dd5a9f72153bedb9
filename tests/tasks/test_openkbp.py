"""OpenKBP converter on two real patients from ../shared (skipped when absent)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from oncoseg.data.dataset import read_case, read_clinical_csv, read_info
from oncoseg.data.dataset_check import check_dataset
from oncoseg.tasks.openkbp.convert import OARS, TARGETS, affine_for, convert_openkbp, prescription

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "openkbp"
needs_data = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/openkbp absent")


def _rows(path: Path) -> int:
    with gzip.open(path, "rt") as fh:
        return sum(1 for line in fh if line.strip()) - 1  # minus the header


def _copy(tmp: Path, group: str, patients: list[str]) -> Path:
    src = tmp / "src"
    for p in patients:
        shutil.copytree(SHARED / group / p, src / group / p)
    return src


@needs_data
def test_two_real_patients_keep_counts_and_spacing(tmp_path: Path) -> None:
    src = _copy(tmp_path, "train-pats", ["pt_1", "pt_10"])
    report = convert_openkbp(src, tmp_path / "ds")
    assert report.converted["train-pats"] == ["kbp_pt_1", "kbp_pt_10"] and not report.skipped
    assert check_dataset(tmp_path / "ds").ok
    info = read_info(tmp_path / "ds")
    assert info.labels == {"background": 0, "PTV70": 1, "PTV63": 2, "PTV56": 3}
    for pt in ("pt_1", "pt_10"):
        folder = SHARED / "train-pats" / pt
        case = read_case(tmp_path / "ds", f"kbp_{pt}")
        assert case.label is not None and case.regions is not None
        with gzip.open(folder / "voxel_dimensions.csv.gz", "rt") as fh:
            spacing = [float(x) for x in fh.read().split()]
        assert np.allclose(case.images[0].spacing, spacing)
        assert np.allclose(case.label.spacing, spacing)
        lab, reg = np.asarray(case.label.array), np.asarray(case.regions.array)
        # PTV70 wins every overlap, so its voxel count is exactly the CSV's row count
        assert int((lab == 1).sum()) == _rows(folder / "PTV70.csv.gz")
        masks = {}
        for t in TARGETS:  # each PTV's own voxels: union with the higher doses it lost to
            f = folder / f"{t}.csv.gz"
            if f.exists():
                with gzip.open(f, "rt") as fh:
                    idx = np.loadtxt(fh, delimiter=",", skiprows=1, usecols=0, ndmin=1)
                m = np.zeros(128**3, bool)
                m[idx.astype(int)] = True
                masks[t] = m.reshape(128, 128, 128)
                assert int(masks[t].sum()) == _rows(f)
        for value, t in enumerate(TARGETS, start=1):
            if t in masks:  # where the label is t, the CSV has it; higher doses take the rest
                higher = np.isin(lab, list(range(1, value)))
                assert np.array_equal(lab == value, masks[t] & ~higher)
        for value, oar in enumerate(OARS, start=1):
            f = folder / f"{oar}.csv.gz"
            if f.exists():
                assert int((reg == value).sum()) <= _rows(f)
        note = case.note
        assert note == prescription([t for t in TARGETS if t in masks])
        assert "70 Gy to PTV70" in note
        ct = np.asarray(case.images[0].array)
        assert ct.dtype == np.int16 and ct.min() == -1024 and ct.max() > 500  # bone
    rows = read_clinical_csv(tmp_path / "ds")
    assert rows["kbp_pt_1"]["PTV70"] == "yes"


@needs_data
def test_orientation_matches_anatomy(tmp_path: Path) -> None:
    """RAS world coordinates (+x patient's right, +y anterior, +z superior): the left
    parotid lies left of the right one, the mandible in front of the cord, the brainstem
    above it."""
    src = _copy(tmp_path, "train-pats", ["pt_1"])
    convert_openkbp(src, tmp_path / "ds")
    case = read_case(tmp_path / "ds", "kbp_pt_1")
    assert case.regions is not None
    reg = np.asarray(case.regions.array)
    aff = case.regions.affine

    def centre(name: str) -> np.ndarray:
        ijk = np.argwhere(reg == OARS.index(name) + 1).mean(axis=0)
        return (aff @ np.r_[ijk, 1.0])[:3]

    assert centre("LeftParotid")[0] < centre("RightParotid")[0]  # RAS: +x = patient's right
    assert centre("Mandible")[1] > centre("SpinalCord")[1]  # anterior = +y
    assert centre("Brainstem")[2] > centre("SpinalCord")[2]  # superior = +z


@needs_data
def test_bad_patient_is_reported_and_skipped(tmp_path: Path) -> None:
    src = _copy(
        tmp_path, "test-pats", [p.name for p in sorted((SHARED / "test-pats").iterdir())[:2]]
    )
    bad, good = sorted((src / "test-pats").iterdir())
    (bad / "ct.csv.gz").unlink()
    with gzip.open(good / "PTV70.csv.gz", "rt") as fh:
        text = fh.read()
    corrupt = tmp_path / "corrupt" / good.name
    shutil.copytree(good, corrupt)
    with gzip.open(corrupt / "PTV70.csv.gz", "wt") as fh:
        fh.write(text + "not-a-number,\n")
    shutil.move(str(corrupt), src / "test-pats" / "pt_999999")
    report = convert_openkbp(src, tmp_path / "ds")
    assert report.converted["test-pats"] == [f"kbp_{good.name}"]
    assert set(report.skipped) == {str(bad), str(src / "test-pats" / "pt_999999")}
    assert "ct.csv(.gz) is missing" in report.skipped[str(bad)]
    assert "line" in report.skipped[str(src / "test-pats" / "pt_999999")]
    assert not list((tmp_path / "ds" / "imagesTs").glob("kbp_pt_999999*"))
    assert json.loads((tmp_path / "ds" / "skipped.json").read_text()) == report.skipped
    assert not list(tmp_path.glob(".ds.*"))  # no build folder left behind
    with pytest.raises(FileExistsError):
        convert_openkbp(src, tmp_path / "ds")


def test_affine_is_a_proper_rotation() -> None:
    a = affine_for((3.906, 3.906, 2.5))
    assert np.linalg.det(a[:3, :3]) > 0
    assert np.allclose(np.abs(a[:3, :3]).sum(axis=0), [3.906, 3.906, 2.5])
    centre = a @ np.r_[63.5, 63.5, 63.5, 1.0]
    assert np.allclose(centre[:3], 0)


def test_missing_source_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train-pats"):
        convert_openkbp(tmp_path, tmp_path / "out")


def test_report_sections_from_counterfactual_and_breakdown() -> None:
    from oncoseg.tasks import task_report

    stat = {"mean": 0.5, "ci_low": 0.4, "ci_high": 0.6, "n": 3}
    doc = {
        "dataset": "openkbp",
        "counterfactual": {"m": {"shares": {"PTV63 appears (n=3)": 2 / 3}}},
        "by_prescription": {"m": {"PTV63 prescribed": stat}},
    }
    a, b = task_report(doc, Path("f")).sections
    assert a.rows == (("m", "67%"),)
    assert b.title == "Dice by prescription (internal test patients)"
    assert b.rows == (("m", "0.500 [0.400, 0.600] (n=3)"),)
