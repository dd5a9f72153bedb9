"""General cues added to the de-identifier on the development corpora (issue #33): lower-case
names after ward roles, French elisions kept, and the mechanisms below. The strings are
written for these tests; none is taken from a marked corpus."""

from __future__ import annotations

import pytest

from oncoseg.text.deid import deidentify


def _left(text: str) -> str:
    return deidentify(text).text


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("handover from rn priyanka re bed 4", "priyanka"),
        ("fy2 oliver quennell to chase bloods", "quennell"),
        ("reviewed by dr r. tamblyn on the ward", "tamblyn"),
        ("seen by dr oyelaran t. today", "t."),
        ("referring surgeon mr k. brightwater (upper gi)", "brightwater"),
    ],
)
def test_lower_case_names_after_a_role_are_removed(text: str, gone: str) -> None:
    assert gone not in _left(text), _left(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Examen : peau d'orange du sein gauche.", "d'orange"),
        ("Puis chirurgie d'intervalle après trois cures.", "d'intervalle"),
        ("Consultation d'évaluation prévue.", "d'évaluation"),
        ("cons review tomorrow, cns involvement excluded", "cns involvement"),
    ],
)
def test_french_elisions_and_role_words_in_clinical_text_are_kept(text: str, kept: str) -> None:
    assert kept in _left(text), _left(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Diarrhoea (Quenton stool type 6) since Friday.", "Quenton stool type 6"),
        ("Watch for Marbury transformation of the CLL.", "Marbury transformation"),
        ("Whipple with Hollister-Vane modification.", "Hollister-Vane modification"),
        ("Gastrectomy with Altberg II reconstruction.", "Altberg II reconstruction"),
        ("Risk: Dunmore Prognostic Index 4.4 today.", "Dunmore Prognostic Index"),
        ("DLBCL stage IIIA (Ormsby Vale), IPI 2.", "Ormsby Vale"),
        ("linfoma stadio IIB secondo Ormsby Vale, bulky.", "Ormsby Vale"),
        ("Ph+ ALL on ponatinib; CML, Ph positive.", "Ph positive"),
    ],
)
def test_terms_named_after_people_or_places_are_kept(text: str, kept: str) -> None:
    assert kept in _left(text), _left(text)


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Patient: Harold Quennell III, seen today.", "Quennell"),
        ("Seen by Dr Altberg II on the ward.", "Altberg"),
        ("Lives in Ormsby Vale, Dunmore 4471.", "Ormsby"),
    ],
)
def test_names_next_to_those_words_are_still_removed(text: str, gone: str) -> None:
    assert gone not in _left(text), _left(text)
