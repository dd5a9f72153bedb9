"""The safe-word layer of the de-identifier (text.deid_safe): kinds no rule was written for are
removed, clinical look-alikes survive, and precision is measured so masking everything fails."""

from __future__ import annotations

import gzip
import re
from importlib import resources
from pathlib import Path

import pytest

from oncoseg.text.deid import deidentify as default_deidentify
from oncoseg.text.deid_eval import layers_finder, load_corpus, rules_finder, score
from oncoseg.text.deid_vocab import is_clinical, is_common, is_name_word, number_is_clinical
from tests.text.layers import deidentify, find_identifiers

HERE = Path(__file__).parent

# the kinds that slipped through the rules on notes they never saw (issue #33), each in a
# sentence of its own: (sentence, the identifier's words that must not survive)
SLIPPED = [
    ("Discussed with J. O'Neill yesterday.", ["J.", "O'Neill"]),  # surname after an initial
    ("Chidinma is keen to start.", ["Chidinma"]),  # a first name alone, non-English
    ("Wojciech rang back about the scan.", ["Wojciech"]),
    ("She came with her husband Pádraig and Siobhán.", ["Pádraig", "Siobhán"]),
    ("O'Donoghue agreed to the plan.", ["O'Donoghue"]),  # apostrophes
    ("Seen with Mrs D'Arcy-Byrne.", ["D'Arcy-Byrne"]),
    ("Mr and Mrs T.W. attended together.", ["T.W."]),  # a couple's initials with dots
    ("She was seen at Addenbrooke's for surgery.", ["Addenbrooke"]),  # no word "Hospital"
    ("Transferred to the Royal Marsden on Friday.", ["Royal", "Marsden"]),
    ("She is on Lister ward, bed 12.", ["Lister", "12"]),  # ward name and bed number
    ("Her son lives in Tromsø and visits monthly.", ["Tromsø"]),  # a foreign town
    ("He moved from Wrocław last year.", ["Wrocław"]),
    ("Ring 0161 446 3 000 with any problems.", ["0161", "446", "3", "000"]),  # phone, spaces
    ("Our ref #44719, please quote it.", ["44719"]),  # reference with '#'
    ("Case #A-2291 was discussed.", ["A-2291"]),
    ("Please quote #44719 when calling.", ["44719"]),
    ("Dear Hope, thank you for your letter.", ["Hope"]),  # names that are also words
    ("I saw Rose today with her daughter Grace.", ["Rose", "Grace"]),
    ("Reviewed by Dr Baker and Mr Bishop.", ["Baker", "Bishop"]),
    ("Rose Young\nConsultant Oncologist", ["Rose", "Young"]),  # a line of names
]


@pytest.mark.parametrize(("sentence", "words"), SLIPPED)
def test_kinds_no_rule_was_written_for_are_removed(sentence: str, words: list[str]) -> None:
    out = deidentify(sentence).text
    for word in words:
        assert not re.search(rf"(?<!\w){re.escape(word)}(?!\w)", out), (word, out)


@pytest.mark.parametrize(
    ("sentence", "words"),
    [
        (s, w)
        for s, w in SLIPPED
        if s.startswith(
            ("Discussed", "Chidinma", "Wojciech", "O'Donoghue", "Mr and Mrs", "She was seen at")
            + ("She is on", "He moved", "Ring", "Please quote")
        )
    ],
)
def test_the_rules_alone_missed_them(sentence: str, words: list[str]) -> None:
    """The same sentences through the rules alone: what the safe-word layer adds."""
    found = find_identifiers(sentence, safe_words=False)
    masked = {i for r in found for i in range(r.start, r.end)}
    assert any(
        any(i not in masked for i in range(m.start(), m.end()))
        for w in words
        for m in re.finditer(re.escape(w), sentence)
    )


@pytest.mark.parametrize(
    "keep",
    [
        "pN2a (5/14)",
        "40 Gy/15 fx",
        "ER 8/8",
        "T2N1M0",
        "Ki-67 20%",
        "Gleason 4+3=7",
        "HER2 2+",
        "CA125 1,240 U/ml",
        "BP 142/88",
        "Oramorph 2.5-5 mg PRN",
        "18-24 months of ADT",
        "C3D8",
        "36/40",
        "26 Gy/5#",
        "6/21 LN+",
        "Zoladex 10.8 mg",
        "Siewert II",
        "Deauville 2",
        "Virchow's node",
        "KEYNOTE-522",
        "Diabetes Mellitus",
        "Neoadjuvant Chemotherapy",
        "Restaging CT",
        "in 2019",
    ],
)
def test_clinical_look_alikes_survive(keep: str) -> None:
    assert keep in deidentify(f"Summary: {keep}. Plan adjuvant RT.").text
    assert keep in default_deidentify(f"Summary: {keep}. Plan adjuvant RT.").text


def test_a_clinical_note_without_identifiers_is_left_whole() -> None:
    note = (
        "PAST MEDICAL HISTORY\n1. Hypertension - on Ramipril 5 mg OD\n"
        "2. Type 2 Diabetes Mellitus (HbA1c 58 mmol/mol)\n"
        "MEDICATIONS: Paracetamol 1 g QDS, Oramorph 2.5-5 mg PRN, Lansoprazole 30 mg OD.\n"
        "EXAMINATION: ECOG PS 1. Weight 72.4 kg. BP 142/88, HR 76, SpO2 96% on air.\n"
        "BLOODS: Hb 118, WCC 6.2, Neut 4.1, Plt 301, Creat 88, eGFR >90, ALP 142, Ca 2.41.\n"
        "IMPRESSION: Locally advanced Left breast cancer, Stage IIIB. Multidisciplinary Team "
        "recommended Neoadjuvant Chemotherapy followed by Mastectomy and Axillary Node "
        "Clearance, then Post-Mastectomy Radiotherapy 40 Gy in 15 fractions to Chest Wall and "
        "Supraclavicular Fossa.\nPLAN: Cycle 1 EC90 on Monday. G-CSF primary prophylaxis. "
        "Macmillan CNS to follow up."
    )
    assert find_identifiers(note) == []
    assert default_deidentify(note).text == note


@pytest.mark.parametrize("corpus", ["deid_dev_corpus.txt", "deid_eval_corpus.txt"])
def test_development_corpora_recall_and_precision(corpus: str) -> None:
    notes = load_corpus(HERE / corpus)
    rules, both = score(notes, rules_finder), score(notes, layers_finder)
    print(
        f"\n{corpus}: recall {rules.recall:.3f} -> {both.recall:.3f}, char precision "
        f"{rules.char_precision:.3f} -> {both.char_precision:.3f}, words kept "
        f"{rules.words_kept_rate:.3f} -> {both.words_kept_rate:.3f}"
    )
    assert both.recall >= rules.recall and both.recall >= 0.99
    assert both.precision >= 0.98 and both.char_precision >= 0.96
    assert both.kept == both.keep_total, both.lost_terms
    assert both.words_kept_rate >= 0.96  # the words outside identifiers that survive


def test_masking_everything_fails_the_precision_measures() -> None:
    notes = load_corpus(HERE / "deid_dev_corpus.txt")
    everything = score(notes, lambda text: [("X", 0, len(text))])
    assert everything.recall == 1.0
    assert everything.kept_rate == 0.0 and everything.words_kept_rate == 0.0


def test_numbers_by_shape_and_context() -> None:
    assert number_is_clinical("#4471", "ref ", "") == "ID"
    assert number_is_clinical("5/14", "pN2a (", ")") is None
    assert number_is_clinical("3/7", "seen ", " at") == "DATE"
    assert number_is_clinical("1500", "", " mg daily") is None
    assert number_is_clinical("4471290", "", "") == "ID"
    assert number_is_clinical("2019", "in ", "") is None
    assert number_is_clinical("12", "bed ", "") == "LOCATION"


def test_word_lists_and_their_sources() -> None:
    assert is_common("hospital") and not is_common("okonkwo")
    assert is_name_word("rose") and is_name_word("baker") and not is_name_word("breast")
    assert is_clinical("letrozole") and is_clinical("Gleason") and not is_clinical("Margaret")
    for name in ("deid_common_words.txt.gz", "deid_medical_words.txt.gz", "deid_name_words.txt"):
        raw = resources.files("oncoseg.text").joinpath(name).read_bytes()
        text = gzip.decompress(raw) if name.endswith(".gz") else raw
        header = text.decode("utf-8").split("\n", 8)[:8]
        assert any("Source:" in ln for ln in header), name  # each list names where it is from


def test_former_held_out_corpus_now_a_development_set() -> None:
    """tests/text/deid_heldout_corpus.txt was written blind to the method and scored once
    (d62047d): recall 0.838 (rules alone 0.622), clinical terms kept 0.977, words kept 0.922.
    It has been a development set since (issue #33), as has deid_heldout_corpus_v2.txt
    (scored once, then developed on; tests/text/test_deid_general.py); the blind set of
    record is deid_heldout_corpus_v3.txt, which only the lead scores. These floors keep what the
    multilingual rules and the span growing (text.deid_intl, text.deid_extend) gained on it."""
    notes = load_corpus(HERE / "deid_heldout_corpus.txt")
    assert len(notes) >= 40 and sum(len(n.identifiers) for n in notes) >= 150
    dev = {
        n.text
        for c in ("deid_dev_corpus.txt", "deid_eval_corpus.txt")
        for n in load_corpus(HERE / c)
    }
    assert not dev & {n.text for n in notes}
    both, rules = score(notes, layers_finder), score(notes, rules_finder)
    assert both.recall >= 0.98 and both.recall > rules.recall
    assert both.kept_rate >= 0.98 and both.words_kept_rate >= 0.94


def test_generated_task_notes_reach_the_model_as_the_rules_left_them() -> None:
    """The task generators' notes (what the note-guided models read) hold no identifier: the
    safe-word layer must not touch them (it did mask ``Tis`` and the node count ``1/14``
    after ``Sentinel node: micrometastatic deposit only (1.1 mm),`` before d62047d's fix)."""
    from oncoseg.data.phantom import case_rng
    from oncoseg.tasks import brain_tumor, breast_ctv
    from oncoseg.tasks.breast_ctv.notes import make_note

    notes = []
    for i in range(300):  # notes with "Tis" or a sentinel node count, and the first 40 others
        rng = case_rng(7, i)
        clinical = breast_ctv.sample_clinical(rng, "internal")
        made = [make_note(clinical, style, rng) for style in ("prompt", "narrative", "raw")]
        made.append(brain_tumor.narrative_note(brain_tumor.sample_clinical(rng, "internal"), rng))
        notes += [n for n in made if "Tis" in n or "Sentinel node:" in n or i < 10]
    assert any("Tis" in n for n in notes) and any("1/1" in n for n in notes)
    for note in notes:
        assert find_identifiers(note) == find_identifiers(note, safe_words=False), note
