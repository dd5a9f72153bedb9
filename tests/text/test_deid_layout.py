"""The layout, acronym, mixed-case, cognate and regimen mechanisms of the de-identifier, on
invented strings (no name, place or code here is taken from a corpus)."""

from __future__ import annotations

import pytest

from oncoseg.text.deid_acronyms import spells_place
from tests.text.layers import deidentify


def _out(text: str) -> str:
    return deidentify(text).text


def test_contact_line_parts_are_address_parts() -> None:
    """A letterhead line with a phone: its capitalised parts are an address, whatever words."""
    out = _out(
        "Kestrel Lane, Observatory, Brambleford Cape 4821   Tel 021 555 0199\n"
        "Breast Unit, Radiotherapy   Tel 021 555 0100\n"
        "Plan: letrozole 2.5 mg daily, review in Breast Unit."
    )
    for part in ("Kestrel", "Lane", "Observatory", "Brambleford", "4821"):
        assert part not in out
    assert "Breast Unit, Radiotherapy" in out and "letrozole 2.5 mg daily" in out


def test_contact_line_needs_a_list_of_short_parts() -> None:
    """A sentence or a clinical line with a phone number is no address line: its words stay."""
    out = _out(
        "Bloods (FBC) booked tomorrow at the clinic; Daughter will ring 07700 900123.\n"
        "Herceptin, Zoladex, Tamoxifen   bleep 2231"
    )
    assert "Bloods (FBC) booked tomorrow" in out and "Daughter" in out
    assert "Herceptin, Zoladex, Tamoxifen" in out  # a line with a drug is no contact line


def test_unknown_capitals_before_a_facility_are_a_place() -> None:
    out = _out("To: The Consultant Oncologist, QUARMEL Cancer Hospital, Lahore")
    assert "QUARMEL" not in out and "Cancer Hospital" not in out


def test_acronym_spelling_a_place_is_the_place() -> None:
    assert spells_place("CHUB", "Centre hospitalier de l'Université de Brumeval")
    assert spells_place("NZT", "Nationales Zentrum für Tumorforschung")
    assert not spells_place("NCT", "Ward 4")
    out = _out(
        "Nationales Zentrum für Tumorforschung (NZT), Ambulanz 3\n"
        "Discussed at the NZT tumour board this week."
    )
    assert "NZT" not in out and "Zentrum" not in out and "tumour board this week" in out


def test_generic_tail_and_leading_the_join_a_place() -> None:
    out = _out(
        "The Wrenfield Marsh NHS Foundation Trust\n"
        "Seen at Pellbrook University Hospitals NHS Foundation Trust in May."
    )
    for word in ("The", "NHS", "Foundation", "Trust", "Hospitals"):
        assert word not in out


def test_mixed_case_brands_and_abbreviations_are_kept() -> None:
    out = _out("SBRT planned with ZentraBeam and a GelShield spacer; HBcAb negative. Dr McTavish.")
    for word in ("ZentraBeam", "GelShield", "HBcAb"):
        assert word in out
    assert "McTavish" not in out


def test_romance_clinical_words_are_kept() -> None:
    """By a medical ending (gastroscopy) or in lower case; a capitalised word that is only a
    common English word by its Romance ending (Progresión, also Presentación) is not kept."""
    out = _out("Gastroscopia sin lesiones. Hay progresión ósea y bilirrubina total 1,2 mg/dL.")
    for word in ("Gastroscopia", "progresión", "bilirrubina"):
        assert word in out


def test_regimens_trial_codes_and_clinical_compounds_are_kept() -> None:
    out = _out(
        "Therapie: Zyklus 2 Vela-R-CVP, dann R-mini-CVP x4; per QRTS0417 and the "
        "KLMN0923-based protocol. Sentinel-Lymphknoten frei. Seen by Dr Pryce-Davies."
    )
    for term in ("Vela-R-CVP", "R-mini-CVP", "QRTS0417", "KLMN0923-based", "Sentinel-Lymphknoten"):
        assert term in out
    assert "Pryce" not in out


def test_place_acronym_after_a_comma_takes_the_found_name() -> None:
    out = _out("Exma. Colega, Dra. Ana Souto, USF Valbrena\nCC 12345678")
    assert "USF" not in out and "Valbrena" not in out


def test_common_words_before_a_number_are_no_name() -> None:
    """``(Grade Group 4),`` looks like ``Smith (94),`` but its words are common and no name."""
    out = _out("Gleason 4+3=7 (Grade Group 3), PSA 9 ng/mL. Rose Baker, 94, lives alone.")
    assert "Grade Group 3" in out and "Rose" not in out and "94" not in out


def test_ages_over_89_in_other_languages_and_speech() -> None:
    out = _out(
        "93-årig kvinna. Frau Ilka Brenner (92 J.), Pat.-Nr. 4471. Edad: 91\n"
        "she's 96 next week!! 85-årig man."
    )
    for age in ("93", "92", "91", "96"):
        assert age not in out
    assert "85-årig" in out


def test_dates_in_more_languages() -> None:
    out = _out(
        "Data: 14.11.2024 r. Seen 5 Φεβρουαρίου 2025, 8 Julai 2024, 2 Rhagfyr 2024; "
        "PET del 12 nov; stationär vom 24.06. bis 28.06.2024. Dose 2.5 mg."
    )
    for part in ("14.11", " r.", "Φεβρουαρίου", "Julai", "Rhagfyr", "nov", "24.06"):
        assert part not in out
    assert "2.5 mg" in out


def test_address_block_line_takes_its_last_part() -> None:
    """Three comma parts, two found whole: the third, a common word, is the town."""
    out = _out("Mr Tobias Quennell\nQuarvel Avenue, Ostrander, Cornerstone\nDear Dr Ashdown,")
    assert "Cornerstone" not in out and "Quarvel" not in out


def test_day_ward_and_unit_after_a_place_are_the_place() -> None:
    out = _out("St Wenbrook's Cancer Day Ward, Ardmoy General Hospital - triage log")
    assert "Wenbrook" not in out and "Day Ward" not in out and "triage log" in out


def test_gene_after_id_letters_is_no_record_number() -> None:
    out = _out("IHC: IDH1 R132H mutant, ATRX retained. Patient ID 4471902.")
    assert "IDH1 R132H" in out and "4471902" not in out


def test_lower_case_clinical_word_of_another_language_is_no_name() -> None:
    out = _out("Manejo conservador con sonda nasogástrica y octreótido.")
    assert "sonda nasogástrica" in out


def test_house_numbers_between_found_address_parts() -> None:
    """``[street] 70, [postcode] [town]``: the numbers and short words left are the address."""
    out = _out(
        "Patient: Anna Gruber\nGrindelmaier Gürtel 18–20, 1090 Semmering\n\n"
        "Hospital: Vestmark sykehus   Tel 22 11 44 55"
    )
    assert "18–20" not in out and "1090" not in out and "Semmering" not in out
    assert "Tel" in out


def test_nickname_in_quotes_after_a_found_name() -> None:
    out = _out(
        'Patient: Albert Quinlan Harker Jr. ("Sonny")   DOB 03/04/1950\nSeen with Ignacio "Pepe".'
    )
    assert "Sonny" not in out and "Pepe" not in out


def test_name_word_beside_a_credential_or_a_relative_is_a_name() -> None:
    out = _out(
        "Present: K. O'Dwyer-Lamont MD, M. Rose MD (pathology).\n"
        "Beratung für Tochter Hope und Sohn Ilkka."
    )
    for word in ("O'", "Dwyer", "Rose", "Hope"):
        assert word not in out
    assert "(pathology)" in out


def test_name_in_another_script_beside_its_romanised_form() -> None:
    out = _out(
        "Re: Mrs Wanida Saenmuang (วนิดา แสนเมือง), HN 5512\n"
        "Name: אבנר גולדפרב (Avner Goldfarb)   age 61\n"
        "Patient: κα Ελπίδα Ζαχαράκη (Elpida Zacharaki)"
    )
    for word in ("วนิดา", "אבנר", "גולדפרב", "Ελπίδα", "Wanida", "Avner", "Elpida"):
        assert word not in out
    assert "κα" in out and "age 61" in out


def test_units_by_code_in_more_languages() -> None:
    out = _out(
        "Aufnahme auf Station 4/12 Süd. Ward GY-W2 bed 3. Ingreso: 3ª Planta Ala Derecha.\n"
        "Yatış: 5. Kat C Blok. Padiglione 7, secondo piano.\n"
        "EBUS-TBNA station 7 and 4R positive."
    )
    for part in ("4/12", "GY-W2", "3ª", "Derecha", "Kat C", "Padiglione 7"):
        assert part not in out
    assert "EBUS-TBNA station 7 and 4R positive" in out


def test_capital_the_mid_sentence_names_a_place() -> None:
    out = _out(
        "Transferred via The Wrexley for respite. PLANNING NOTE — The Ormskirk, Dept. 4\n"
        "Read The Consultant Oncologist letter; the Breast Unit agreed."
    )
    assert "Wrexley" not in out and "Ormskirk" not in out
    assert "via [LOCATION]" in out and "— [LOCATION]" in out
    assert "The Consultant Oncologist" in out


def test_camel_case_names_are_still_names() -> None:
    out = _out("Seen with JaMarcus Oyelowo and Dr TenBrink; plan per Dr O'Neill-Reyes.")
    assert "JaMarcus" not in out and "TenBrink" not in out


def test_stage_letter_lab_label_and_saint_eponym_are_kept() -> None:
    out = _out(
        "DLBCL, Stadium III A nach Ann Arbor. Burkitt, St Jude stage II. Bloods: Cr 164, urea 9.\n"
        "Seen at St Wenbrook's Hospital."
    )
    for term in ("Ann Arbor", "St Jude stage II", "Cr 164"):
        assert term in out
    assert "Wenbrook" not in out


@pytest.mark.parametrize(
    "text",
    [
        "Clinical Target Volume (CTV) drawn. The CTV includes the breast.",
        "Seen by the Clinical Nurse Specialist (CNS) today.",
        "Approved by the Institutional Review Board (IRB) last year.",
    ],
)
def test_clinical_acronyms_defined_in_brackets_are_kept(text: str) -> None:
    """An acronym spells a place only with a hospital's word as a whole word: "Clinical" and
    "Institutional" are not "clinic" and "institute"."""
    assert deidentify(text).text == text


@pytest.mark.parametrize(
    "text",
    [
        "She attended with Presentacion.",
        "Escorted by Adoracion and Consolacion.",
        "Felicidad came with her.",
        "Escorted by AbuBakar.",
    ],
)
def test_names_that_look_like_romance_cognates_or_brands_are_removed(text: str) -> None:
    """A common English word reached by a Romance ending is no clinical evidence (Presentación
    is a given name), and a camel-case word opening with a name particle is a name."""
    assert "[NAME]" in deidentify(text).text, deidentify(text).text
