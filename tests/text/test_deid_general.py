"""The de-identifier's general layer on kinds of identifier, not on one corpus's sentences
(issue #33): each case names a cause, with invented names, places and numbers that appear in
no development corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncoseg.text.deid_eval import layers_finder, load_corpus, score
from oncoseg.text.deid_hl7 import hl7_spans
from tests.text.layers import deidentify

HERE = Path(__file__).parent


def _kept(text: str) -> str:
    return deidentify(text).text


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        # a name or a place does not run on into the next line's clinical heading
        ("Family GP: Dr Tomasz Wilk\nColon adenocarcinoma, pT3", ["Wilk"], ["Colon adeno"]),
        ("Lives in Valparaíso, Temuco\nPancreatic cancer, cT2", ["Temuco"], ["Pancreatic"]),
        # a letterhead on its own line is a place of its own, the name above stays a name
        ("Requesting MD: R. Ferreira-Lund\nCoral Bay Medical Center", ["R.", "Coral"], []),
        # a number found in part is removed whole (a check digit after a hyphen)
        ("Insurance 31-774020915-8 on file", ["774020915", "-8"], []),
        # a time right after a date is part of it
        ("Printed 2023-11-19 16:05 by the system", ["16:05", "2023"], []),
    ],
)
def test_spans_end_where_the_identifier_ends(text: str, gone: list[str], kept: list[str]) -> None:
    out = _kept(text)
    assert not [g for g in gone if g in out], out
    assert all(k in out for k in kept), out


@pytest.mark.parametrize(
    "keep",
    ["KRAS G12C", "EGFR L858R", "BRAF V600E", "CD4 210", "CD34 count 12", "ovoids #3", "C61.9"],
)
def test_clinical_codes_are_no_identifiers(keep: str) -> None:
    assert keep in _kept(f"Result: {keep} noted."), _kept(f"Result: {keep} noted.")


def test_hl7_fields_are_removed_by_their_position() -> None:
    msg = (
        "MSH|^~\\&|MOSAIQ|KESTREL|||20231119160501||ORU^R01|77|P|2.5\n"
        "PID|1||Q88123^^^PAS^MR||GREEN^IVY^R^^MS||19411103|F|||7 Mill Row^^Dunmore||01632 960111\n"
        "PV1|1|I|WARD9^^^HOLLIS MEMORIAL||||D77^BROOK^ALAN^^^DR\n"
        "DG1|1||C61^Malignant neoplasm of prostate^I10"
    )
    out = _kept(msg)
    for ident in (
        "KESTREL",
        "Q88123",
        "GREEN",
        "IVY",
        "19411103",
        "Mill Row",
        "Dunmore",
        "960111",
        "HOLLIS",
        "BROOK",
        "ALAN",
    ):
        assert ident not in out, (ident, out)
    assert "C61^Malignant neoplasm of prostate^I10" in out and "^MR||" in out
    assert {tag for tag, _, _ in hl7_spans(msg)} == {
        "LOCATION",
        "DATE",
        "ID",
        "NAME",
        "ADDRESS",
        "PHONE",
    }


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Wife niamh called about transport.", ["niamh"]),
        ("Message from: tendai moyo (carer)", ["tendai", "moyo"]),
        (
            "hello this is kwame, grandson of efua boateng. she is sore",
            ["kwame", "efua", "boateng"],
        ),
        ("Pt name: cook, albert   Age: 71", ["cook", "albert"]),
        ("Bay 4: j. o'driscoll, day 3 of cisplatin", ["j.", "driscoll"]),
        ("email from brenda hale today re transport", ["brenda", "hale"]),
        ("called dougal's wife, no answer", ["dougal"]),
        ("dr. van dijk saw her", ["dijk"]),
    ],
)
def test_names_in_lower_case(text: str, gone: list[str]) -> None:
    out = _kept(text)
    assert not [g for g in gone if g in out], out


@pytest.mark.parametrize(
    "text",
    [
        "pt euvolaemic, afebrile, obs stable.",
        "pt young and fit for surgery.",
        "Husband supportive, daughter present.",
        "Reviewed at 3 o'clock, pt comfortable.",
        "Restaging CT and debulking surgery planned.",
    ],
)
def test_lower_case_clinical_words_stay(text: str) -> None:
    assert _kept(text) == text


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Re: Mrs June Ivy Trelawney, DOB unknown", ["June", "Ivy", "Trelawney"], ["DOB"]),
        ("She came with her granddaughter August and her son.", ["August"], ["granddaughter"]),
        ("Thank you for referring June, who is 64.", ["June"], ["referring"]),
        ("Dr Imogen May, Consultant Oncologist", ["Imogen", "May"], ["Consultant"]),
        ("May we review her in clinic?", [], ["May we"]),
        # a title after a name, with no name after it, is the name's part
        ("Telephoned by Dr Rekha Kumari\nplan unchanged", ["Rekha", "Kumari"], ["plan"]),
        # surname, given name, letters after; particles in capitals
        ("Referrer: Whitlock, Anna MD, Harbourside Clinic", ["Whitlock", "Anna"], []),
        ("Patient: VAN DER MEER, Sanne   DOB 04/05/1960", ["VAN", "DER", "MEER", "Sanne"], []),
    ],
)
def test_names_that_are_months_titles_or_inverted(
    text: str, gone: list[str], kept: list[str]
) -> None:
    out = _kept(text)
    assert not [g for g in gone if g in out], out
    assert all(k in out for k in kept), out


def test_a_month_used_as_one_is_no_name() -> None:
    text = "Seen in June, again in clinic since April; CT 3 May. May we see her?"
    assert deidentify(text).counts()["NAME"] == 0


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        # an unknown name and the organisation words after it are one place
        ("Referred by Dr Obi at Lindqvist Sports Medicine today.", ["Sports", "Medicine"], []),
        ("Slides reviewed at Ashcombe Molecular Diagnostics, see", ["Molecular", "Diagnostic"], []),
        ("Letter from Tallowmere Primary Care on file.", ["Primary", "Care"], []),
        # a unit named by its letter or number, and the words in brackets after a ward
        ("RN note  Apheresis Suite C, day case", ["Apheresis", "Suite C"], ["day case"]),
        ("Admitted to Ward 12 (Acute Oncology) overnight", ["12", "Acute Oncology"], []),
        ("Transferred to 4 East Haematology at 14:00", ["4 East", "Haematology"], []),
        ("Pflege: Station 5C, Zimmer 12", ["5C", "Zimmer 12"], []),
        ("EBUS-TBNA of station 4R and Station 7 nodes", [], ["station 4R", "Station 7"]),
        # a French centre named after "Centre de"
        ("Centre de Cancérologie des Peupliers, Lyon", ["Cancérologie", "Peupliers"], []),
    ],
)
def test_institutions_and_units(text: str, gone: list[str], kept: list[str]) -> None:
    out = _kept(text)
    assert not [g for g in gone if g in out], out
    assert all(k in out for k in kept), out


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Home: Plot 9, Lane 3, Sector B, Garden Colony, Multan", ["Plot", "Lane 3", "Garden"], []),
        ("Lives at Flat No. 6, Quarry Brae, Kilmarnock KA1 4XY.", ["Flat", "Quarry"], []),
        ("Discharged to 12 Tolka Row, Glasnevin, Co. Dublin D11 AB12.", ["Co.", "Glasnevin"], []),
        ("He lives in Ngong village, Kajiado with his wife.", ["village", "Kajiado"], ["wife"]),
        ("Rua das Flores 88, apto 41, Lisboa", ["apto", "41"], []),
        # a clinical word, a field break or a sentence keeps two found spans apart
        ("Seen at Leeds, Breast Unit, Wakefield", [], ["Breast Unit"]),
        ("Patient: Okafor   DOB 01/02/1950   NHS 943 476 5919", [], ["DOB", "NHS"]),
    ],
)
def test_an_address_is_one_run_on_its_line(text: str, gone: list[str], kept: list[str]) -> None:
    out = _kept(text)
    assert not [g for g in gone if g in out], out
    assert all(k in out for k in kept), out


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Ward: Kingfisher, bed 3", ["Kingfisher"], []),
        ("Hx: 50 Gy in 25# to the chest wall", [], ["25#"]),
        ("PET Oct-23 and CT Feb/2024 reviewed", ["Oct-23", "Feb/2024"], ["PET", "CT"]),
        ("Slides to Meridian Laboratories for review", ["Meridian"], []),
        ("Pt KM (71F) reviewed", ["KM"], ["71F"]),
        ("Dawn, the district nurse, will visit.", ["Dawn"], ["district nurse"]),
    ],
)
def test_labelled_places_fraction_counts_month_years(
    text: str, gone: list[str], kept: list[str]
) -> None:
    out = _kept(text)
    assert not [g for g in gone if g in out], out
    assert all(k in out for k in kept), out


def test_mixed_case_units_and_eponym_scores_survive() -> None:
    out = _kept("IgA lambda myeloma; 9 MeV electrons. Mr McKay seen. Dr T. Gleason at Fernhill.")
    assert "IgA lambda" in out and "9 MeV" in out and "McKay" not in out
    out = _kept("Reported by Dr P. Gleason at Fernhill: Gleason 4+3=7, Gleason score 7.")
    assert "Gleason 4+3=7" in out and "Gleason score 7" in out and "P. Gleason" not in out


@pytest.mark.parametrize(
    "keep",
    [
        "Ga-68 PSMA PET and Lu-177 PSMA (Pluvicto) 7.4 GBq",
        "Given Zometa 4 mg monthly",
        "Lenvoria 24 mg daily",  # a drug no list knows, by its dose
        "Hodgkin Reed-Sternberg cells",
        "T-DXd 5.4 mg/kg",
    ],
)
def test_isotopes_drugs_by_their_dose_and_eponym_phrases_survive(keep: str) -> None:
    assert keep in _kept(f"Plan: {keep}."), _kept(f"Plan: {keep}.")


@pytest.mark.parametrize(
    ("corpus", "recall"),
    [
        ("deid_dev_corpus.txt", 0.99),
        ("deid_eval_corpus.txt", 0.99),
        ("deid_heldout_corpus.txt", 0.99),
        ("deid_heldout_corpus_v2.txt", 0.98),
    ],
)
def test_development_corpora_floors(corpus: str, recall: float) -> None:
    """All four marked corpora are development sets (issue #33): the second held-out corpus
    was scored once at recall 0.922, terms kept 0.984, words kept 0.941 (docs/text.md) and
    the general layer was then extended on it; terms kept must stay >= 0.98 on each, so that
    masking more does not pass for recall."""
    notes = load_corpus(HERE / corpus)
    sc = score(notes, layers_finder)
    assert sc.recall >= recall, sc.misses
    assert sc.kept_rate >= 0.98, sc.lost_terms
    assert sc.words_kept_rate >= 0.94


@pytest.mark.parametrize(
    ("corpus", "recall", "kept", "words"),
    [
        ("deid_heldout_corpus_v3.txt", 0.985, 0.98, 0.92),
        ("deid_heldout_corpus_v4.txt", 0.97, 0.99, 0.92),
        ("deid_heldout_corpus_v5.txt", 0.98, 0.99, 0.94),
        # terms kept 0.976 at 205e110; 0.973 since capitalised words that are only common
        # English words by a Romance ending are names (Presentación), not terms (Bilirrubina)
        ("deid_heldout_corpus_v6.txt", 0.96, 0.97, 0.89),
        # blind until 205e110 was scored on it once (0.938 / 0.976 / 0.917, docs/text.md);
        # terms kept 0.974 since, as for v6
        ("deid_heldout_corpus_v7.txt", 0.935, 0.97, 0.915),
    ],
)
def test_later_blind_corpora_as_measured(
    corpus: str, recall: float, kept: float, words: float
) -> None:
    """v3-v7, each written blind and scored once, then development sets: today's figures
    (docs/text.md) as floors, so a change that loses identifiers or clinical terms on them
    shows; the 0.98 targets of issue #33 are not met on v4, v6 or v7."""
    sc = score(load_corpus(HERE / corpus), layers_finder)
    assert sc.recall >= recall, sc.misses
    assert sc.kept_rate >= kept, sc.lost_terms
    assert sc.words_kept_rate >= words
