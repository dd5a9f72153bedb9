from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from oncoseg.text.deid import deidentify as default_deidentify
from oncoseg.text.deid_eval import layers_finder, load_corpus, parse_marked
from oncoseg.text.deid_eval import score as score_marked
from tests.text.deid_corpus import make_corpus
from tests.text.layers import deidentify, find_identifiers

HERE = Path(__file__).parent

CORPUS = make_corpus(60, seed=0)


def score(corpus: list) -> tuple[float, float, int, int]:  # type: ignore[type-arg]
    """Recall over planted identifiers (every letter/digit redacted) and precision over
    redacted spans (a span is correct if it overlaps a planted identifier)."""
    caught = total = true_spans = spans = 0
    for text, planted in corpus:
        found = find_identifiers(text)
        covered = set()
        for r in found:
            covered.update(range(r.start, r.end))
        for p in planted:
            total += 1
            caught += all(i in covered for i in range(p.start, p.end) if text[i].isalnum())
        for r in found:
            spans += 1
            true_spans += any(r.start < p.end and p.start < r.end for p in planted)
    return caught / total, true_spans / spans, total, spans


def test_corpus_is_big_and_varied() -> None:
    assert len(CORPUS) >= 50
    tags = {p.tag for _, planted in CORPUS for p in planted}
    assert tags == {"NAME", "DATE", "ID", "PHONE", "EMAIL", "ADDRESS", "AGE"}
    assert sum(len(p) for _, p in CORPUS) >= 200


def test_recall_and_precision_on_planted_corpus() -> None:
    recall, precision, n_ids, n_spans = score(CORPUS)
    print(
        f"\nde-identification: recall {recall:.3f} over {n_ids} planted identifiers, "
        f"precision {precision:.3f} over {n_spans} redactions"
    )
    assert recall >= 0.98
    assert precision >= 0.95


def test_held_out_seed_recall() -> None:  # the rules were not tuned on this seed
    recall, precision, _, _ = score(make_corpus(60, seed=12345))
    assert recall >= 0.97 and precision >= 0.93


@pytest.mark.parametrize(
    "keep",
    [
        "pN2a (5/19)",
        "T2N1M0",
        "50 Gy in 25 fractions",
        "ER 8/8",
        "Ki-67 20%",
        "16 Gy/8 fx",
        "23 x 18 mm",
        "46-year-old",
        "in 2015",
        "level III",
        "left breast",
        "Dose 2.67 Gy x 15",
        "T2N1mi",
        "N0",
        "Her2 positive",
        "Paget's disease",
        "Gleason 4+3=7",
        "Ivor Lewis oesophagectomy",
        "Sister Mary Joseph nodule",
        "pouch of Douglas",
        "Clark level IV",
        "Barrett's oesophagus",
        "Non-Hodgkin lymphoma",
        "letrozole 2.5 mg",
        "Breast Unit",
    ],
)
def test_clinical_content_survives(keep: str) -> None:
    text = f"Summary: {keep}. Plan adjuvant RT."
    assert keep in deidentify(text).text
    assert keep in default_deidentify(text).text  # with the learned layer too


def test_no_identifier_text_left_in_output() -> None:
    for text, planted in CORPUS[:20]:
        out = deidentify(text).text
        for p in planted:
            if p.tag != "ADDRESS":  # addresses may keep a city name
                assert p.text not in out, (p, out)


def test_handwritten_notes() -> None:
    from tests.text.deid_corpus import handwritten_corpus

    recall, precision, n_ids, n_spans = score(handwritten_corpus())
    print(
        f"\nhand-written notes: recall {recall:.3f} over {n_ids} identifiers, "
        f"precision {precision:.3f} over {n_spans} redactions"
    )
    assert recall >= 0.9 and precision >= 0.9


def test_marked_corpus_format() -> None:
    (note,) = parse_marked("# c\n=== n1 demo\nDr [[NAME:Jo Bloggs]], {{T2N1mi}}.\n")
    assert note.text == "Dr Jo Bloggs, T2N1mi."
    assert [(s.kind, note.text[s.start : s.end]) for s in note.identifiers] == [
        ("NAME", "Jo Bloggs")
    ]
    assert [note.text[s.start : s.end] for s in note.keep] == ["T2N1mi"]
    with pytest.raises(ValueError, match="n2"):
        parse_marked("=== n2\n[[NAME:unclosed")


def test_held_out_corpus_is_big_and_covers_every_kind() -> None:
    notes = load_corpus(HERE / "deid_eval_corpus.txt")
    kinds = Counter(s.kind for n in notes for s in n.identifiers)
    assert len(notes) >= 40 and sum(kinds.values()) >= 150
    assert set(kinds) == {"NAME", "DATE", "ID", "PHONE", "EMAIL", "ADDRESS", "LOCATION", "AGE"}
    dev = {n.text for n in load_corpus(HERE / "deid_dev_corpus.txt")}
    assert not dev & {n.text for n in notes}  # kept apart from the development notes


@pytest.mark.parametrize("corpus", ["deid_eval_corpus.txt", "deid_dev_corpus.txt"])
def test_hand_marked_corpora(corpus: str) -> None:
    sc = score_marked(load_corpus(HERE / corpus), layers_finder)
    print(
        f"\n{corpus}: recall {sc.recall:.3f} ({sum(sc.caught.values())}/{sum(sc.total.values())}),"
        f" precision {sc.precision:.3f}, char precision {sc.char_precision:.3f},"
        f" clinical terms kept {sc.kept}/{sc.keep_total}"
    )
    assert sc.recall >= 0.98 and sc.precision >= 0.90 and sc.char_precision >= 0.95
    assert sc.kept == sc.keep_total, sc.lost_terms
