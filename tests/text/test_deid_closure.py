"""The closing layer (text.deid_closure, text.deid_cjk): identifiers found in part are taken
whole by the shape of the phrase around them. The strings are written for these tests; none
is taken from a marked corpus."""

from __future__ import annotations

import pytest

from oncoseg.text.deid_cjk import cjk_spans
from oncoseg.text.deid_numbers import phone_runs
from tests.text.layers import deidentify, find_identifiers


def _left(text: str) -> str:
    return deidentify(text).text


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Referred from Quenby Vale Radiotherapy Network.", "Network"),
        ("Transfer to the Ashgrove Haematology Suite tomorrow.", "Suite"),
        ("Seen at Tollcross Liver & Research Centre, Dunmere.", "Research Centre"),
        ("Letter: Universidade de Parnaíba, Hospital das Clínicas.", "Hospital das Clínicas"),
        ("Henvist fra Brekkestad sykehus i dag.", "sykehus"),
        ("Admitted to Ward K-7 overnight.", "K-7"),
        ("Oncology day unit, Rowan Day Ward B2", "Rowan Day Ward B2"),
        ("Review in OPD-12 next visit.", "OPD-12"),
        ("Seen at Tollcross General Hospital (TGH). TGH to call back.", "TGH"),
        ("Name: HUANG Meiling, F/62", "HUANG"),
        ("Patient: OKAFOR, Chidinma Ada", "OKAFOR"),
        ("Dr Jonas Whitcombe Jr reviewed.", "Jr"),
        ("Home: 7 Pell Lane, Tarrow, Kestrel Bay 4471", "Kestrel Bay"),
        ("Contact 0 (612) 448 19 27 after 5 pm.", "448 19 27"),
    ],
)
def test_the_rest_of_a_found_identifier_is_removed(text: str, gone: str) -> None:
    assert gone not in _left(text), _left(text)


@pytest.mark.parametrize(
    "text",
    [
        "Axillary level 2 nodes cleared; Level 1 evidence supports it.",
        "Review in the breast clinic 2 weeks after surgery.",
        "EBUS-TBNA station 7: adenocarcinoma.",
        "Please see in the PMB clinic at the hospital.",
        "诊断: 左乳浸润性导管癌, 紫杉醇 + 顺铂, 门诊复查",
    ],
)
def test_clinical_phrases_survive(text: str) -> None:
    assert find_identifiers(text) == [], _left(text)


def test_a_roman_numeral_after_an_eponym_is_no_name_suffix() -> None:
    left = _left("Dx: Bismuth-Corlette IV cholangiocarcinoma; Billroth II reconstruction.")
    assert " IV cholangiocarcinoma" in left and " II reconstruction" in left, left


def test_a_clinic_before_a_date_is_no_unit() -> None:
    assert (
        _left("Survivorship clinic 30 Jan with bloods.")
        == "Survivorship clinic [DATE] with bloods."
    )


def test_names_and_facilities_in_cjk_scripts() -> None:
    t = "転院先: 港北みなとクリニック 院長 高橋 美穂 先生; 患者氏名: 松本 陽介; 主治医师 刘建国"
    found = {t[s:e] for _, s, e in cjk_spans(t)}
    assert found == {"港北みなとクリニック", "高橋 美穂", "松本 陽介", "刘建国"}
    assert "院長" in _left(t) and "先生" in _left(t)


def test_a_name_in_another_script_beside_a_found_name() -> None:
    left = _left("Pt: Lee Ji-woo (이지우), F/50; Name: CHAN Siu Ming (陳小明)")
    assert "이지우" not in left and "陳小明" not in left and "CHAN" not in left, left


def test_phantom_training_notes_pass_unchanged() -> None:
    """The notes the models train on (breast_ctv in each style, brain_tumor) hold no
    identifier, and the de-identifier with every layer leaves them as they are."""
    from oncoseg.data.phantom import case_rng
    from oncoseg.tasks import brain_tumor, breast_ctv
    from oncoseg.tasks.breast_ctv.notes import make_note

    for i in range(60):
        rng = case_rng(11, i)
        clinical = breast_ctv.sample_clinical(rng, "internal")
        notes = [make_note(clinical, style, rng) for style in ("prompt", "narrative", "raw")]
        notes.append(brain_tumor.narrative_note(brain_tumor.sample_clinical(rng, "internal"), rng))
        for note in notes:
            assert deidentify(note).text == note, note


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Joignable au 02 38 51 44 90 le matin.", "02 38 51 44 90"),
        ("tlf 73 19 42 55, etter kl. ni", "73 19 42 55"),
        ("Ring 0 (416) 208 71 33 or the ward.", "0 (416) 208 71 33"),
        ("Office 604 877-6000 poste 4412 for results.", "604 877-6000 poste 4412"),
        ("son informed - 98421 55310", "98421 55310"),
    ],
)
def test_phone_numbers_written_as_digit_groups(text: str, phone: str) -> None:
    assert "[PHONE]" in _left(text) and not any(ch.isdigit() for ch in _left(text)), _left(text)


def test_a_series_of_results_is_no_phone_run() -> None:
    assert phone_runs("Hb 120 118 115 112 over the week; platelets 250 245 238.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Seen with Mrs el-Haddad today.",
        "Patient: Siti Rahmah binte Abdul Karim, 54F",
        "Reply from Kavitha d/o Ramasamy, staff nurse",
    ],
)
def test_lower_case_name_particles_go_with_the_name(text: str) -> None:
    left = _left(text)
    assert not any(p in left for p in ("el-", "binte", "d/o")), left
