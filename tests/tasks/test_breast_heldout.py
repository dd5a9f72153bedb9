"""Held-out phrasings scored on phantom test cases: a predictor that draws the rule table's
target for the note it reads follows every edit; one that ignores the note follows none."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oncoseg.data.dataset import read_clinical_csv
from oncoseg.data.phantom_cohort import write_cohort
from oncoseg.tasks.breast_ctv import cohort_spec
from oncoseg.tasks.breast_ctv.clinical import REGIONS, BreastClinical, ctv_components
from oncoseg.tasks.breast_ctv.heldout import heldout_phrasings, load_families
from oncoseg.tasks.breast_ctv.reader import read_breast_note

FAMILY = {
    "id": "t1",
    "style": "free",
    "notes": {
        f"{side}_{n}": f"{side.title()} breast, s/p lumpectomy, "
        + (
            "5/14 nodes positive, treat the regional nodes."
            if n == "N2"
            else "SLNB 0/3, breast only."
        )
        for side in ("left", "right")
        for n in ("N0", "N2")
    },
}


class RulePredictor:
    """Draws the rule table's CTV for the fields the note states (``ignore_note``: always
    the case's own CTV), as probabilities (C, D, H, W)."""

    threshold = None

    def __init__(self, ds: Path, ignore_note: bool = False) -> None:
        self.rows, self.ignore = read_clinical_csv(ds), ignore_note
        self.regions: dict[int, tuple[np.ndarray, str]] = {}

    def predict_proba(self, images: Any, note: str) -> tuple[np.ndarray, Any]:
        reg, case_id = self.regions[id(images)]
        c = BreastClinical.from_row(self.rows[case_id])
        if not self.ignore:
            f = read_breast_note(note).fields
            c = replace(c, laterality=f["side"], n_stage=f["n_stage"])
        fg = np.isin(reg, [REGIONS[n] for n in ctv_components(c)]).astype(np.float32)
        return np.stack([1 - fg, fg]), None


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bc")
    return write_cohort(out / "ds", cohort_spec(), cases=2, test_cases=12, size=32, seed=3)


def _run(
    cohort: Path, tmp_path: Path, ignore: bool, families: int = 1, every_family: bool = False
) -> dict[str, Any]:
    path = tmp_path / "notes.json"
    fams = [dict(FAMILY, id=f"t{i}") for i in range(families)]
    path.write_text(json.dumps({"families": fams}), encoding="utf-8")
    pred = RulePredictor(cohort, ignore_note=ignore)
    import oncoseg.tasks.breast_ctv.heldout as mod

    real = mod.read_case

    def read_case(ds: Any, case_id: str, split: str) -> Any:
        case = real(ds, case_id, split)
        pred.regions[id(case.images)] = (np.asarray(case.regions.array), case_id)
        return case

    def variant_probs(p: RulePredictor, images: Any, notes: list[str]) -> list[np.ndarray]:
        return [p.predict_proba(images, n)[0] for n in notes]  # no network to batch

    real_variants = mod.variant_probs
    mod.read_case, mod.variant_probs = read_case, variant_probs  # type: ignore[assignment]
    try:
        return heldout_phrasings(pred, cohort, path, every_family=every_family)  # type: ignore[arg-type]
    finally:
        mod.read_case, mod.variant_probs = real, real_variants  # type: ignore[assignment]


def test_note_following_predictor_follows_every_edit(cohort: Path, tmp_path: Path) -> None:
    out = _run(cohort, tmp_path, ignore=False)
    rows = read_clinical_csv(cohort)
    bcs = [c for c, r in rows.items() if r["surgery"] == "BCS" and r["laterality"] != "both"]
    assert out["n"] == len([c for c in bcs if c in {r["case"] for r in out["cases"]}]) > 0
    assert out["cases_following_all"] == 1.0
    assert out["nodal_edits_followed"] == out["side_edits_followed"] == 1.0
    assert out["nodal_cover_n2_mean"] == pytest.approx(1.0)
    assert out["nodal_cover_n0_mean"] == 0.0
    assert out["by_style"] == {"free": 1.0}


def test_every_family_is_predicted_once_on_cases_reused_in_turn(
    cohort: Path, tmp_path: Path
) -> None:
    rows = read_clinical_csv(cohort)
    n_bcs = sum(
        r["surgery"] == "BCS" and r["laterality"] != "both"
        for c, r in rows.items()
        if c.startswith("bctv") and (cohort / "imagesTs" / f"{c}_0000.nii.gz").exists()
    )
    out = _run(cohort, tmp_path, ignore=False, families=n_bcs + 3, every_family=True)
    assert out["n"] == n_bcs + 3  # more families than cases: cases reused
    assert [r["family"] for r in out["cases"]] == [f"t{i}" for i in range(n_bcs + 3)]
    assert out["cases"][n_bcs]["case"] == out["cases"][0]["case"]
    assert out["cases_following_all"] == 1.0
    assert out["reader"]["all"]["side_and_nodes"] == 4 * (n_bcs + 3)
    few = _run(cohort, tmp_path, ignore=False, families=n_bcs + 3)
    assert few["n"] == n_bcs  # default: one family per case


def test_note_ignoring_predictor_follows_nothing(cohort: Path, tmp_path: Path) -> None:
    out = _run(cohort, tmp_path, ignore=True)
    assert out["cases_following_all"] == 0.0
    assert out["side_edits_followed"] == 0.0 and out["nodal_edits_followed"] == 0.0


def test_bad_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"families": [{"id": "a", "notes": {"left_N0": "x"}}]}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"x.json: family 'a' lacks notes \['left_N2'"):
        load_families(bad)
    bad.write_text("not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not a readable held-out notes file"):
        load_families(bad)


def test_reader_accuracy_counts_notes_by_style(tmp_path: Path) -> None:
    from oncoseg.tasks.breast_ctv.heldout import reader_accuracy

    bad = dict(FAMILY, id="t2", style="prompt")
    bad["notes"] = dict(FAMILY["notes"], left_N2="Breast RT please.")  # decides nothing
    path = tmp_path / "n.json"
    path.write_text(json.dumps({"families": [FAMILY, bad]}), encoding="utf-8")
    got = reader_accuracy(path)
    assert got["all"] == {"notes": 8, "side_and_nodes": 7, "all_three": 7}
    assert got["prompt"] == {"notes": 4, "side_and_nodes": 3, "all_three": 3}
    assert got["wrong"] == ["t2:left_N2"]
