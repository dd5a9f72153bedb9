"""Clause attribution: the clause splitter, the batched note variants against direct
predictions, and each clause's effect against masks computed by hand."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import ANY

import numpy as np
import pytest

from oncoseg.infer import Predictor
from oncoseg.infer import explain as explain_mod
from oncoseg.infer.explain import explain, variant_probs
from oncoseg.io.image import Image, load_image
from oncoseg.text.clauses import neutralise, split_clauses
from oncoseg.text.encoders import prepare_note

NOTE = "N2, breast conserving surgery, left side"


def test_split_clauses_keeps_offsets_and_units() -> None:
    note = "62F, left breast ca (IDC, grade 2), pT2 pN1. Micrometastasis 1.2 mm; 4/9 nodes. Plan"
    clauses = split_clauses(note)
    assert [c.text for c in clauses] == [
        "62F",
        "left breast ca (IDC, grade 2)",  # no cut inside parentheses
        "pT2 pN1",
        "Micrometastasis 1.2 mm",  # no cut at a decimal point
        "4/9 nodes",
        "Plan",
    ]
    assert all(note[c.start : c.end] == c.text for c in clauses)
    assert [c.index for c in clauses] == list(range(6))
    assert [c.text for c in split_clauses("left frontal")] == ["left frontal"]
    assert split_clauses("  ") == []


def test_neutralise_remove_and_filler() -> None:
    cs = split_clauses(NOTE)
    assert neutralise(NOTE, cs, 0, "remove") == "breast conserving surgery, left side"
    assert neutralise(NOTE, cs, 1, "remove") == "N2, left side"
    assert neutralise(NOTE, cs, 2, "remove") == "N2, breast conserving surgery"
    assert neutralise(NOTE, cs, 1, "filler") == "N2, unknown unknown unknown, left side"
    assert neutralise("one clause", split_clauses("one clause"), 0, "remove") == ""
    sentences = "Pain. s/p left mastectomy. Plan: RT."
    assert neutralise(sentences, split_clauses(sentences), 1, "remove") == "Pain. Plan: RT."
    with pytest.raises(ValueError, match="mode must be one of"):
        neutralise(NOTE, cs, 0, "blank")


@pytest.fixture(scope="module")
def predictor(guided_run: Path) -> Predictor:
    return Predictor.from_run(guided_run)


@pytest.mark.slow
def test_batched_variants_equal_one_prediction_per_note(
    predictor: Predictor, case_image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    img = load_image(case_image)
    notes = [NOTE, "N0, breast conserving surgery, left side", "N2, total mastectomy, right side"]
    monkeypatch.setattr(explain_mod, "MAX_VARIANTS", 2)  # two passes: 2 notes, then 1
    probs = variant_probs(predictor, [img], notes)
    assert probs.shape == (3, 2, *img.shape)
    for p, n in zip(probs, notes, strict=True):
        direct, _ = predictor.predict_proba([img], n)
        np.testing.assert_allclose(p, direct, atol=2e-5)
    # the notes do move the probabilities, so the comparison above is not trivially true
    assert np.abs(probs[1] - probs[0]).max() > 1e-4


def test_vision_only_variants_are_one_prediction(
    tiny_run: Path, case_image: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    predictor = Predictor.from_run(tiny_run)
    img = load_image(case_image)
    calls: list[str] = []
    real = predictor.predict_proba

    def counted(images: list[Image], note: str = "") -> tuple[np.ndarray, Image]:
        calls.append(note)
        return real(images, note)

    monkeypatch.setattr(predictor, "predict_proba", counted)
    probs = variant_probs(predictor, [img], [NOTE, "N0, total mastectomy, right side"])
    assert len(calls) == 1  # the note cannot change a vision-only model's output
    assert probs.shape == (2, 2, *img.shape)
    direct, _ = real([img])
    np.testing.assert_array_equal(probs[0], direct)
    np.testing.assert_array_equal(probs[1], direct)


@pytest.mark.slow
def test_explain_effects_equal_masks_from_direct_predictions(
    predictor: Predictor, case_image: Path
) -> None:
    img = load_image(case_image)
    regions = np.zeros(img.shape, np.uint8)
    regions[: img.shape[0] // 2] = 1  # two halves as named regions
    regions[img.shape[0] // 2 :] = 2
    ex = explain(predictor, [img], NOTE, regions=(regions, {"low": 1, "high": 2}))
    assert ex.reads_note and ex.mode == "filler" and ex.note == prepare_note(NOTE)
    assert [e.text for e in ex.effects] == ["N2", "breast conserving surgery", "left side"]
    ml = float(abs(np.linalg.det(img.affine[:3, :3]))) / 1000.0
    base = np.asarray(predictor.predict([img], NOTE).array)
    assert ex.base_ml == pytest.approx(float((base > 0).sum()) * ml)
    clauses = split_clauses(ex.note)
    for e, mask in zip(ex.effects, ex.changed, strict=True):
        variant = neutralise(ex.note, clauses, e.index, "filler")
        other = np.asarray(predictor.predict([img], variant).array)
        np.testing.assert_array_equal(mask, other != base)
        assert e.added_ml == pytest.approx(float(((other > 0) & (base == 0)).sum()) * ml)
        assert e.removed_ml == pytest.approx(float(((base > 0) & (other == 0)).sum()) * ml)
        assert sum(e.regions_ml.values()) == pytest.approx(e.changed_ml)
        if mask.any():
            idx = np.argwhere(mask)
            assert e.bbox == [idx.min(0).tolist(), idx.max(0).tolist()]
    assert any(e.soft_ml > 0 for e in ex.effects)
    doc = ex.to_json()
    assert [c["start"] for c in doc["clauses"]] == [0, 4, 31]
    bits = ex.bitmask()
    for i, mask in enumerate(ex.changed):
        np.testing.assert_array_equal((bits >> i) & 1, mask.astype(np.uint32))


@pytest.mark.slow
def test_remove_mode_and_bad_mode(predictor: Predictor, case_image: Path) -> None:
    img = load_image(case_image)
    ex = explain(predictor, [img], NOTE, mode="remove")
    base = np.asarray(predictor.predict([img], NOTE).array)
    other = np.asarray(predictor.predict([img], "N2, left side").array)
    np.testing.assert_array_equal(ex.changed[1], other != base)
    with pytest.raises(ValueError, match="explain mode"):
        explain(predictor, [img], NOTE, mode="blank")
    with pytest.raises(ValueError, match="contrast.*note reader"):  # this model has no reader
        explain(predictor, [img], NOTE, mode="contrast")
    assert explain(predictor, [img], NOTE, mode="auto").mode == "filler"


def test_contrast_edits_are_the_other_values_of_each_clauses_field() -> None:
    from types import SimpleNamespace

    from oncoseg.tasks.breast_ctv.reader import read_breast_note

    stub = SimpleNamespace(read_note=read_breast_note)
    note = "N2, breast conserving surgery, left side. Plan: RT"
    edits = explain_mod._contrast_edits(stub, read_breast_note(note), note, split_clauses(note))  # type: ignore[arg-type]
    assert [lab for lab, _ in edits[0]] == [
        f"n_stage: N2 -> {n}" for n in ("N0", "N1mi", "N1", "N3")
    ]
    assert edits[1] == [("surgery: BCS -> mastectomy", "N2, total mastectomy, left side")]
    assert [n for _, n in edits[2]] == [
        "N2, breast conserving surgery, right side",
        "N2, breast conserving surgery, both sides",
    ]
    # a clause that decides no field is blanked, as in filler mode
    assert edits[3] == [("removed", neutralise(note, split_clauses(note), 3, "filler"))]
    # a field stated twice is decided by neither clause alone, but stated by both: each
    # clause edits it
    twice = "Lt breast IDC, s/p left mastectomy"
    both = explain_mod._contrast_edits(stub, read_breast_note(twice), twice, split_clauses(twice))  # type: ignore[arg-type]
    assert [lab for lab, _ in both[0]] == ["side: left -> right", "side: left -> both"]
    assert [lab for lab, _ in both[1]] == [
        "side: left -> right",
        "side: left -> both",
        "surgery: mastectomy -> BCS",
    ]
    with pytest.raises(ValueError, match="contrast.*note reader"):
        explain_mod._contrast_edits(SimpleNamespace(read_note=lambda n: None), None, note, [])  # type: ignore[arg-type]


@pytest.mark.slow
def test_contrast_effects_equal_direct_predictions_of_the_edited_notes(
    guided_run: Path, case_image: Path
) -> None:
    from oncoseg.tasks.breast_ctv.reader import read_breast_note

    predictor = Predictor.from_run(guided_run)
    predictor.model.note_reader = read_breast_note  # notes reach it in the canonical form
    img = load_image(case_image)
    ex = explain(predictor, [img], NOTE, mode="contrast")
    assert ex.mode == "contrast"
    assert explain(predictor, [img], NOTE, mode="auto").to_json() == {
        **ex.to_json(),
        "seconds": ANY,
    }
    base = np.asarray(predictor.predict([img], NOTE).array)
    edits = explain_mod._contrast_edits(
        predictor, predictor.read_note(ex.note), ex.note, split_clauses(ex.note)
    )
    for e, mask, clause_edits in zip(ex.effects, ex.changed, edits, strict=True):
        changed = {
            label: np.asarray(predictor.predict([img], n).array) != base
            for label, n in clause_edits
        }
        assert e.edit in changed  # the clause's largest edit
        np.testing.assert_array_equal(mask, changed[e.edit])
        assert mask.sum() == max(m.sum() for m in changed.values())


@pytest.mark.slow
def test_vision_only_model_has_nothing_to_explain(tiny_run: Path, case_image: Path) -> None:
    img = load_image(case_image)
    ex = explain(Predictor.from_run(tiny_run), [img], NOTE)
    assert not ex.reads_note and ex.effects == [] and ex.top is None
    assert ex.base_ml >= 0 and isinstance(Image, type)


@pytest.mark.slow
def test_predict_explain_writes_json_volume_and_figure(
    guided_run: Path, case_image: Path, tmp_path: Path
) -> None:
    import json

    from typer.testing import CliRunner

    from oncoseg.cli.app import app

    note = tmp_path / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    out = tmp_path / "out"
    args = ["predict", "-m", str(guided_run), "-i", str(case_image), "-n", str(note)]
    res = CliRunner().invoke(app, [*args, "-o", str(out), "--explain"])
    assert res.exit_code == 0, res.output
    stem = case_image.name.removesuffix("_0000.nii.gz")
    written = sorted(p.name for p in out.iterdir())
    assert [n for n in written if "explain" in n] == [
        f"{stem}_explain.json",
        f"{stem}_explain.nii.gz",
        f"{stem}_explain.png",
    ], written
    doc = json.loads((out / f"{stem}_explain.json").read_text(encoding="utf-8"))
    assert [c["text"] for c in doc["clauses"]] == ["N2", "breast conserving surgery", "left side"]
    bits = np.asarray(load_image(out / f"{stem}_explain.nii.gz").array)
    ml = float(abs(np.linalg.det(load_image(case_image).affine[:3, :3]))) / 1000.0
    for i, c in enumerate(doc["clauses"]):
        assert float(((bits >> i) & 1).sum()) * ml == pytest.approx(c["changed_ml"])
    assert (out / f"{stem}_explain.png").stat().st_size > 10_000
