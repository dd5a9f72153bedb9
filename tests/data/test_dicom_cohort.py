"""``oncoseg convert dicom``: a synthetic 5-patient DICOM cohort (CT + RTSTRUCT written by our
own writers, files of all patients mixed in one tree) -> a dataset that checks and trains."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
import pytest
from tests.io.conftest import SeriesSpec, hu_volume, label_mask, write_series
from typer.testing import CliRunner

from oncoseg.cli import app
from oncoseg.data.dataset import read_case, read_info
from oncoseg.data.dataset_check import check_dataset
from oncoseg.data.dicom_cohort import NO_NOTE, convert_dicom_cohort
from oncoseg.data.roi_match import parse_roi_rules
from oncoseg.io.dicom_index import patient_key
from oncoseg.io.dicom_series import read_dicom_series
from oncoseg.io.image import Image
from oncoseg.io.rtstruct import write_rtstruct

RULES = "CTV=CTV_Breast*,GTV=GTV*"
AXIAL = {"rotation": tuple(map(tuple, np.eye(3))), "row_spacing": 1.7, "col_spacing": 0.6}
TRAIN = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.epochs=1", "model.fusion=none"]


@dataclass(frozen=True)
class Patient:
    pid: str
    name: str
    accession: str
    rois: tuple[str, ...]  # ROI names of label values 1, 2, ...
    fields: dict[str, object] = field(default_factory=dict)
    missing_slice: bool = False


PATIENTS = (
    Patient("PID-A", "Doe^Jane", "ACC-A", ("CTV_Breast_L", "GTV")),
    Patient("PID-B", "Bloggs^Joan", "ACC-B", ("ctv_breast_R", "GTV_primary"), AXIAL),
    Patient("PID-C", "Roe^Rita", "ACC-C", ("CTV_Breast", "GTV"), missing_slice=True),
    Patient("PID-D", "Moe^Mary", "ACC-D", ("CTV_Breast", "GTV", "Lumpectomy_Cavity")),
    Patient("PID-E", "Poe^Edna", "ACC-E", ("CTV_BREAST_LEFT", "GTVp"), {"step": 3.0}),
)
IDENTITY = [v for p in PATIENTS for v in (p.pid, p.accession, *p.name.split("^"))]
NOTES = {  # file name -> text: by accession number, by PatientID, without the .txt ending
    "ACC-A.txt": "Jane Doe (MRN PID-A) seen 03/04/2023: left breast pT2 N1, breast conserving "
    "surgery.",
    "PID-B.txt": "Right breast, N0. Mrs Bloggs declined chemotherapy.",
    "ACC-C.txt": "Left breast, N0.",
    "ACC-D.txt": "Left breast, N1mi.",
    "PID-E": "Left breast, total mastectomy, N2.",
}


def _mask(p: Patient, spec: SeriesSpec) -> np.ndarray:
    mask = label_mask(spec)
    if len(p.rois) > 2:  # a third structure in a corner (outside the other two)
        mask[:3, :3, 2 : spec.slices - 2] = 3
    return mask


def _drop_middle_slice(folder: Path, slices: int) -> None:
    for f in folder.iterdir():
        if f.name != "rt.dcm" and int(pydicom.dcmread(f).InstanceNumber) == slices // 2 + 1:
            f.unlink()
            return
    raise AssertionError("middle slice not found")


def make_cohort(root: Path) -> tuple[Path, Path, dict[str, np.ndarray]]:
    """SRC (files of all patients scattered over random folders and names), NOTES_DIR and
    each patient's written label map by PatientID."""
    rng = np.random.default_rng(7)
    src, staging, masks = root / "src", root / "staging", {}
    for n, p in enumerate(PATIENTS):
        ids = {"patient_id": p.pid, "patient_name": p.name, "accession": p.accession}
        spec = SeriesSpec(**ids, **p.fields)  # type: ignore[arg-type]
        folder = write_series(staging / p.pid, spec, seed=n)
        series = read_dicom_series(folder)
        masks[p.pid] = _mask(p, spec)
        labels = {name: v for v, name in enumerate(p.rois, start=1)}
        write_rtstruct(Image(masks[p.pid], series.image.affine), series, folder / "rt.dcm", labels)
        if p.missing_slice:
            _drop_middle_slice(folder, spec.slices)
    for f in sorted(staging.rglob("*")):
        if f.is_file():
            dest = src / str(rng.choice(["", "x", "y/z", "y/w"])) / f"{rng.integers(1 << 40):x}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(f, dest)
    (src / "README.txt").write_text("export of 5 patients\n")
    notes = root / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text, encoding="utf-8")
    return src, notes, masks


def _index(pid: str) -> int:
    return sorted((p.pid for p in PATIENTS), key=patient_key).index(pid)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, np.ndarray]]:
    return make_cohort(tmp_path_factory.mktemp("dicom-cohort"))


def test_converts_four_and_reports_both_problems_by_patient(
    cohort: tuple[Path, Path, dict[str, np.ndarray]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    src, notes, masks = cohort
    out = tmp_path / "ds"
    with caplog.at_level(logging.DEBUG):
        report = convert_dicom_cohort(src, out, parse_roi_rules(RULES), notes_dir=notes)
    by_pid = {p.pid: report.patients[_index(p.pid)] for p in PATIENTS}
    assert [r.index for r in report.patients] == [0, 1, 2, 3, 4]
    assert {pid for pid, r in by_pid.items() if r.ok} == {"PID-A", "PID-B", "PID-D", "PID-E"}
    skipped = by_pid["PID-C"]
    assert len(skipped.problems) == 1 and "1 slice(s) missing" in skipped.problems[0]
    assert skipped.problems[0].startswith("image series: 1 slice(s) missing between ")
    assert by_pid["PID-D"].unmatched == ["Lumpectomy_Cavity"]
    assert all(r.unmatched == [] for pid, r in by_pid.items() if pid != "PID-D")
    problems = [(r.index, r.problems, r.unmatched) for r in report.patients]
    assert sum(bool(p or u) for _, p, u in problems) == 2  # the two problems, nothing else
    # the dataset: labels as written, images in HU, geometry of the series, valid
    assert check_dataset(out).ok, [str(p) for p in check_dataset(out).problems]
    info = read_info(out)
    assert info.labels == {"background": 0, "CTV": 1, "GTV": 2} and info.num_training == 4
    assert info.channel_names == {"0": "CT"} and info.task == "dicom"
    for p in PATIENTS:
        if p.pid == "PID-C":
            continue
        case = read_case(out, by_pid[p.pid].case_id)
        assert case.label is not None
        expected = np.where(masks[p.pid] <= 2, masks[p.pid], 0)
        assert np.array_equal(case.label.array, expected), p.pid
        spec = SeriesSpec(**p.fields)  # type: ignore[arg-type]
        assert np.array_equal(case.images[0].array, hu_volume(spec))
        assert np.allclose(case.images[0].spacing, (spec.col_spacing, spec.row_spacing, spec.step))
    splits = json.loads((out / "splits.json").read_text())
    assert len(splits) == 4 and sorted(splits[0]["train"] + splits[0]["val"]) == sorted(
        r.case_id for r in report.converted
    )
    # notes joined by accession number or PatientID, de-identified
    note_a = read_case(out, by_pid["PID-A"].case_id).note
    assert "left breast pT2 N1, breast conserving surgery" in note_a
    assert read_case(out, by_pid["PID-E"].case_id).note == NOTES["PID-E"]
    written = "".join(p.read_text() for p in (out / "notesTr").glob("*.txt"))
    stored = (out / "conversion.json").read_text() + written + caplog.text
    leaked = [v for v in IDENTITY if v.lower() in stored.lower()]
    assert leaked == [] and "03/04/2023" not in written
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temporary folder left behind


def test_cli_converts_checks_and_trains(
    cohort: tuple[Path, Path, dict[str, np.ndarray]], tmp_path: Path
) -> None:
    src, notes, _ = cohort
    out, run = tmp_path / "ds", tmp_path / "run"
    args = ["convert", "dicom", str(src), str(out), "--roi", RULES, "--notes", str(notes)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "4 of 5 patients converted" in text
    c, d = _index("PID-C"), _index("PID-D")
    assert f"skipped patient {c} (key {patient_key('PID-C')}): image series: 1 slice(s)" in text
    assert (
        f"patient {d} (key {patient_key('PID-D')}): unmatched ROI name(s): 'Lumpectomy_Cavity'"
        in text
    )
    assert not [v for v in IDENTITY if v in res.output]
    assert CliRunner().invoke(app, ["dataset", "check", str(out)]).exit_code == 0
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "exists" in again.output
    sets = [f"data.dataset={out}", f"out={run}", *TRAIN]
    res = CliRunner().invoke(app, ["train", *sum((["--set", s] for s in sets), [])])
    assert res.exit_code == 0, res.output
    assert (run / "best.pt").exists() and (run / "last.pt").exists()
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 1 and np.isfinite(metrics[0]["loss"])


def test_failing_patients_and_nothing_half_written(
    cohort: tuple[Path, Path, dict[str, np.ndarray]], tmp_path: Path
) -> None:
    src, notes, _ = cohort
    # ambiguous and missing labels fail every patient: nothing is written
    with pytest.raises(ValueError, match="no patient converted"):
        convert_dicom_cohort(src, tmp_path / "a", parse_roi_rules("CTV=CTV*|GTV*,PTV=PTV*"))
    assert list(tmp_path.iterdir()) == []
    report = convert_dicom_cohort(
        src, tmp_path / "b", parse_roi_rules("CTV=CTV_Breast*|Lump*,GTV=GTV*")
    )
    d = report.patients[_index("PID-D")]
    assert d.problems == ["label 'CTV' is ambiguous: ROIs 'CTV_Breast', 'Lumpectomy_Cavity' match"]
    assert read_case(tmp_path / "b", report.converted[0].case_id).note == NO_NOTE
    # a patient without RTSTRUCT, one without a note
    lone = tmp_path / "lone"
    write_series(lone / "ct", SeriesSpec(patient_id="PID-F", accession="ACC-F"), seed=9)
    for f in src.rglob("*"):
        if f.is_file():
            dest = lone / "rest" / f.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dest)
    (tmp_path / "few").mkdir()
    (tmp_path / "few" / "ACC-A.txt").write_text("Left breast, N0.")
    report = convert_dicom_cohort(
        lone, tmp_path / "c", parse_roi_rules(RULES), notes_dir=tmp_path / "few", task="bc"
    )
    why = {r.key: r.problems for r in report.patients}
    assert why[patient_key("PID-F")] == ["no RTSTRUCT"]
    assert why[patient_key("PID-B")] == [
        "no note in NOTES_DIR (looked up by AccessionNumber, then PatientID)"
    ]
    keys = sorted(patient_key(p) for p in ["PID-F", *(p.pid for p in PATIENTS)])
    assert [r.case_id for r in report.converted] == [f"bc_{keys.index(patient_key('PID-A')):03d}"]
