from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from oncoseg.data.phantom import case_rng
from oncoseg.tasks.breast_ctv.clinical import BreastClinical, ctv_components, sample_clinical
from oncoseg.tasks.breast_ctv.notes import breast_prompt, make_note
from oncoseg.text.templates import raw_note

C = BreastClinical(
    age=61,
    laterality="left",
    t_stage="T2",
    n_stage="N1mi",
    m_stage="M0",
    surgery="BCS",
    chemotherapy=True,
    pathology="IDC",
    clips=False,
)


def test_prompt_matches_seed_template() -> None:
    assert (
        make_note(C, "prompt", np.random.default_rng(0))
        == f"{C.t_stage} N1mi, breast conserving surgery, left side"
    )  # N1mi is treated only with T3/T4, so the prompt states T for it
    both = replace(C, laterality="both", surgery="mastectomy", n_stage="N2")
    assert breast_prompt(both.row()) == "N2, total mastectomy, both sides"
    for t, nodes in (("T2", False), ("T3", True)):  # the prompt decides the target
        c = replace(C, t_stage=t)
        assert breast_prompt(c.row()).startswith(f"{t} N1mi,")
        assert any(r.startswith("axilla") for r in ctv_components(c)) is nodes


def test_prompt_template_errors_name_the_field() -> None:
    with pytest.raises(KeyError, match="laterality"):
        breast_prompt({"n_stage": "N0", "surgery": "BCS"})
    with pytest.raises(ValueError, match="surgery"):
        breast_prompt({"n_stage": "N0", "surgery": "lumpectomy?", "laterality": "left"})


def test_raw_note_is_the_row() -> None:
    assert raw_note(C.row(), ["age", "n_stage"]) == "age: 61; n_stage: N1mi"


def test_narrative_notes_state_the_deciding_facts_with_varied_wording() -> None:
    notes = []
    for i in range(60):
        c = sample_clinical(case_rng(5, i), "internal")
        note = make_note(c, "narrative", case_rng(6, i))
        notes.append(note)
        side_words = {
            "left": ("left", "Lt", "L "),
            "right": ("right", "Rt", "R "),
            "both": ("bilateral",),
        }[c.laterality]
        assert any(w in note for w in side_words), note
        assert ("mastectomy" in note.lower()) == (c.surgery == "mastectomy"), note
        assert c.n_stage in note
    assert len(set(notes)) == len(notes)
    negated = [n for n in notes if any(k in n for k in ("No nodal", "negative", "clear"))]
    assert negated, "some N0 notes should use negation"
    assert any(("knee" in n) or ("hip" in n) or ("wrist" in n) for n in notes)  # distractors


def test_notes_are_deterministic() -> None:
    a = make_note(C, "narrative", case_rng(1, 2))
    b = make_note(C, "narrative", case_rng(1, 2))
    assert a == b
    with pytest.raises(ValueError, match="note style"):
        make_note(C, "poem", case_rng(1, 2))
