"""The truth side of the clause-attribution check: field effects from the rule tables,
which clauses state which field, and the per-case scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oncoseg.data.dataset import list_cases, read_case, read_clinical_csv, read_info
from oncoseg.data.phantom import case_rng
from oncoseg.data.phantom_cohort import site_code
from oncoseg.infer.explain import ClauseEffect, Explanation
from oncoseg.tasks.brain_tumor import explain_truth as brain
from oncoseg.tasks.breast_ctv import explain_truth as breast
from oncoseg.tasks.breast_ctv.clinical import REGIONS
from oncoseg.tasks.explain_check import _case_row, changed_clauses, clause_fields, summarise
from oncoseg.text.clauses import split_clauses
from oncoseg.text.encoders import prepare_note

ROW = {
    "age": "55",
    "laterality": "left",
    "t_stage": "T2",
    "n_stage": "N2",
    "m_stage": "M0",
    "surgery": "BCS",
    "chemotherapy": "no",
    "pathology": "IDC",
    "clips": "no",
}


def _regions() -> np.ndarray:
    """Each of the 10 compartments gets (its value) voxels in a 1-D strip."""
    return np.concatenate([np.full(v, v, np.uint8) for v in REGIONS.values()])[:, None, None]


def test_breast_truth_effects_by_hand() -> None:
    reg = _regions()
    # own CTV: breast_left 1 + axilla_left 5 + scf_left 7 + imn_left 9 = 22 voxels
    eff = breast.truth_effects(ROW, reg, voxel_ml=0.5)
    assert eff["n_stage"] == 0.5 * (5 + 7 + 9)  # N2 -> N0: the left nodes go
    assert eff["laterality"] == 0.5 * (22 + 2 + 6 + 8 + 10)  # all left out, all right in
    assert eff["surgery"] == 0.5 * (1 + 3)  # breast_left <-> chestwall_left
    assert eff["t_stage"] == 0.0  # T matters only for N1mi
    n1mi = {**ROW, "n_stage": "N1mi", "t_stage": "T3"}  # nodes treated (T3): T1 drops them
    assert breast.truth_effects(n1mi, reg, 1.0)["t_stage"] == 5 + 7 + 9
    both = {**ROW, "laterality": "both"}  # -> left only: the right side goes
    assert breast.truth_effects(both, reg, 1.0)["laterality"] == 2 + 6 + 8 + 10
    with pytest.raises(ValueError, match="no deciding field"):
        breast.field_change(breast.BreastClinical.from_row(ROW), "age")


def test_changed_clauses_maps_character_edits() -> None:
    note = "N2, breast conserving surgery, left side"
    cs = split_clauses(note)
    assert changed_clauses(note, "N0, breast conserving surgery, left side", cs) == {0}
    assert changed_clauses(note, "N2, total mastectomy, right side", cs) == {1, 2}
    assert changed_clauses(note, note, cs) == set()


def _fields(ds: Path, case_id: str, split: str) -> tuple[list, list]:
    info, row = read_info(ds), read_clinical_csv(ds)[case_id]
    truth = breast if info.task == "breast_ctv" else brain
    i = int(case_id.rsplit("_", 1)[1])
    style, seed = info.extra["note_style"], int(info.extra["seed"])

    def regen(**changes: str) -> str:
        rng = case_rng(seed, site_code(info.site), i, 2)
        return truth.regenerate(row, style, rng, **changes)

    note = prepare_note(read_case(ds, case_id, split).note)
    clauses = split_clauses(note)
    fields = clause_fields(note, clauses, row, truth, regen)
    assert fields is not None, f"{case_id}: the note was not regenerated exactly"
    return clauses, fields


def test_narrative_breast_clauses_map_to_the_fields_they_state(breast_dataset: Path) -> None:
    side_words = ("left", "right", "Lt", "Rt", " L ", " R ", "bilateral", "[NAME]")
    seen = set()
    for case_id in list_cases(breast_dataset, "Tr"):
        clauses, fields = _fields(breast_dataset, case_id, "Tr")
        for c, f in zip(clauses, fields, strict=True):
            seen |= f
            if breast.distractor(c.text) or "chemotherapy" in c.text.lower():
                assert f == set(), c.text  # neither distractors nor chemo state a field
            if "laterality" in f:
                assert any(w in f" {c.text} " for w in side_words), c.text
            if "surgery" in f:
                words = ("mastectomy", "excision", "lumpectomy", "bcs", "conserving", "clips")
                assert any(w in c.text.lower() for w in (*words, "reconstruction")), c.text
    assert seen == {"n_stage", "t_stage", "laterality", "surgery"}


def test_brain_truth_and_mapping(brain_dataset: Path) -> None:
    rows = read_clinical_csv(brain_dataset)
    for case_id in list_cases(brain_dataset, "Tr"):
        case = read_case(brain_dataset, case_id, "Tr")
        assert case.label is not None
        label = np.asarray(case.label.array)
        eff = brain.truth_effects(rows[case_id], label, 1.0, site="internal", size=32)
        assert eff["grade"] == 0.0 and eff["lobe"] == float((label > 0).sum()) > 0
        assert eff["hemisphere"] >= eff["lobe"]  # plus the non-target lesion if it is there
        clauses, fields = _fields(brain_dataset, case_id, "Tr")
        assert clauses[0].text == f"{rows[case_id]['hemisphere']} {rows[case_id]['lobe']}"
        assert fields[0] == {"hemisphere", "lobe"} and fields[1] == {"grade"}


def test_brain_hemisphere_edit_onto_the_nontarget_lesion() -> None:
    row = {
        "anatomy_seed": "7",
        "age": "50",
        "hemisphere": "left",
        "lobe": "frontal",
        "grade": "high",
        "history": "biopsy-proven",
        "nontarget": "treated_metastasis",
        "nontarget_hemisphere": "right",
        "nontarget_lobe": "frontal",
    }
    _, label, _, _ = brain.render(7, brain.from_row(row), "internal", 32)
    eff = brain.truth_effects(row, label, 1.0, site="internal", size=32)
    lesion = brain.nontarget_mask(row, "internal", 32)
    assert lesion.sum() > 0 and not (lesion & (label > 0)).any()
    assert eff["hemisphere"] == float((label > 0).sum() + lesion.sum())
    assert brain.field_change(brain.from_row(row), "lobe") == {"lobe": "parietal"}


def _explanation(model_ml: list[float]) -> Explanation:
    note = "N2, breast conserving surgery, left side"
    effects = [
        ClauseEffect(c.index, c.start, c.end, c.text, added_ml=m)
        for c, m in zip(split_clauses(note), model_ml, strict=True)
    ]
    return Explanation(note, "filler", True, 100.0, effects, 0.1)


def test_case_scores() -> None:
    fields = [{"n_stage"}, {"surgery"}, {"laterality"}]
    truth = {"n_stage": 10.0, "t_stage": 0.0, "laterality": 90.0, "surgery": 40.0}
    hit = _case_row(_explanation([5.0, 20.0, 70.0]), fields, truth)
    assert hit["top_hit"] and hit["truth_top_fields"] == ["laterality"]
    assert hit["spearman"] == pytest.approx(1.0)
    miss = _case_row(_explanation([50.0, 20.0, 10.0]), fields, truth)
    assert not miss["top_hit"] and miss["spearman"] == pytest.approx(-1.0)
    flat = _case_row(_explanation([0.0, 0.0, 0.0]), fields, truth)
    assert not flat["top_hit"] and flat["spearman"] is None  # no effect: no top, no rank
    s = summarise([{"case": "a", **hit}, {"case": "b", **miss}, {"case": "c", "unmapped": True}])
    assert s["n"] == 2 and s["unmapped"] == 1 and s["top_hit"] == 0.5
    assert s["spearman_mean"] == pytest.approx(0.0) and s["disagreements"] == ["b"]


def test_another_note_style_is_the_note_that_cohort_would_hold(
    breast_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``style="narrative"`` on a prompt cohort explains the very notes a narrative cohort of
    the same seed holds (breast_dataset: narrative, seed 3, 8 + 2 cases, 32³)."""
    import oncoseg.tasks.explain_check as check
    from oncoseg.data.phantom_cohort import write_cohort
    from oncoseg.tasks import breast_ctv

    prompt = write_cohort(
        tmp_path / "p", breast_ctv.cohort_spec(), cases=8, test_cases=2, size=32, seed=3
    )
    seen: list[str] = []

    def fake_explain(predictor: object, images: object, note: str, **kw: object) -> Explanation:
        seen.append(note)
        return Explanation(prepare_note(note), "filler", True, 0.0, [], 0.0)

    monkeypatch.setattr(check, "explain", fake_explain)
    r = check.explain_check(None, prompt, split="Ts", style="narrative", edits=False)  # type: ignore[arg-type]
    assert r["style"] == "narrative" and r["unmapped"] == 2  # the fake explains no clause
    held = [read_case(breast_dataset, c, "Ts").note for c in list_cases(breast_dataset, "Ts")]
    assert seen == [n.strip() for n in held] and all(
        "." in n for n in seen
    )  # narrative, not "N2, BCS, left"
    seen.clear()
    check.explain_check(None, prompt, split="Ts", edits=False)  # type: ignore[arg-type]
    assert seen == [read_case(prompt, c, "Ts").note for c in list_cases(prompt, "Ts")]
    with pytest.raises(ValueError, match="style: expected one of"):
        check.explain_check(None, prompt, style="prose")  # type: ignore[arg-type]


def test_explain_check_cli_refuses_bad_options(breast_dataset: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from oncoseg.cli.app import app

    base = ["explain-check", "-m", str(tmp_path), "-d", str(breast_dataset), "-o", str(tmp_path)]
    cases = [
        (["--style", "prose"], "--style: expected one of prompt, narrative, raw"),
        (["--fold", "0"], "give --split Tr"),
        (["--split", "Va"], "--split: expected Tr or Ts"),
    ]
    for extra, words in cases:
        res = CliRunner().invoke(app, [*base, *extra])
        assert res.exit_code == 2 and words in res.output, res.output


def test_truth_effects_of_a_stored_case(breast_dataset: Path, brain_dataset: Path) -> None:
    from oncoseg.tasks.explain_check import _truth_effects

    for ds, mod in ((breast_dataset, breast), (brain_dataset, brain)):
        info, rows = read_info(ds), read_clinical_csv(ds)
        case_id = list_cases(ds, "Tr")[0]
        case = read_case(ds, case_id, "Tr")
        ml = float(abs(np.linalg.det(case.images[0].affine[:3, :3]))) / 1000.0
        if mod is breast:
            assert case.regions is not None
            regions = np.asarray(case.regions.array)
            got = _truth_effects(info, case, rows[case_id], regions)
            assert got == breast.truth_effects(rows[case_id], regions, ml)
            with pytest.raises(AssertionError, match="needs its region map"):
                _truth_effects(info, case, rows[case_id], None)
        else:
            assert case.label is not None
            got = _truth_effects(info, case, rows[case_id], None)
            size = int(info.extra.get("size", 64))
            want = brain.truth_effects(
                rows[case_id],
                np.asarray(case.label.array),
                ml,
                site=info.site or "internal",
                size=size,
            )
            assert got == want
        assert set(got) and all(v >= 0 for v in got.values())


def test_write_check_records_provenance(breast_dataset: Path, tmp_path: Path) -> None:
    import json

    from oncoseg.data.dataset import dataset_hash
    from oncoseg.tasks.explain_check import write_check

    result = {
        "task": "breast_ctv",
        "style": "prompt",
        "mode": "contrast",
        "n": 0,
        "unmapped": 0,
        "top_hit": 0.0,
        "spearman_mean": None,
        "spearman_n": 0,
        "spearman_soft_mean": None,
        "seconds_median": 0.0,
        "disagreements": [],
        "cases": [],
        "dataset": str(breast_dataset),
    }
    path = write_check([result], tmp_path / "out", "run-a")
    doc = json.loads(path.read_text())
    assert doc["model"] == "run-a" and doc["checks"] == [result]
    assert doc["data_hash"] == {str(breast_dataset): dataset_hash(breast_dataset)}
    for key in ("command", "commit", "device", "packages", "created_utc"):
        assert doc[key], key
    assert (tmp_path / "out" / "explain_check.md").read_text().startswith("# Clause attribution")
