"""The de-identifier's learned layer (text.deid_learned): its decision rule, its model, and
what it does to whole corpora it was not trained on."""

from __future__ import annotations

from pathlib import Path

import pytest

from oncoseg.text import deid_features as df
from oncoseg.text import deid_learned as dl
from oncoseg.text import deid_train as dt
from oncoseg.text.deid import find_identifiers
from oncoseg.text.deid_eval import layers_finder, load_corpus, oncoseg_finder, score

HERE = Path(__file__).parent


def _long_notes(n: int) -> list[str]:
    """Notes the model decides on (>= MIN_TOKENS tokens), from a corpus outside its training."""
    texts = [x.text for x in load_corpus(HERE / "deid_heldout_corpus.txt")]
    long = [t for t in texts if len(df.tokens(t)) >= dl.MIN_TOKENS]
    assert len(long) >= n
    return long[:n]


def _tok(
    text: str, word: str, p: float, rules: str = "O", pipeline: str = "O", keep: float = 0.0
) -> dl.Token:
    s = text.index(word)
    return dl.Token(s, s + len(word), p, "NAME", rules, pipeline, keep)


def _masked(text: str, toks: list[dl.Token], th: dl.Thresholds = dl.THRESHOLDS) -> list[str]:
    return [text[s:e] for _, s, e in dl.decide(text, toks, th)]


def test_decision_adds_grows_along_the_line_and_vetoes_the_safe_word_layer_by_p() -> None:
    text = "at Lagan View ward\nnext to Okafor, Hodgkin"
    th = dl.Thresholds(add=0.3, grow=0.05, pipeline_veto=0.1, rules_veto=0.0)
    toks = [
        _tok(text, "at", 0.01),
        _tok(text, "Lagan", 0.9),  # added
        _tok(text, "View", 0.2),  # grown from Lagan
        _tok(text, "ward", 0.06),  # grown from View
        _tok(text, "next", 0.06),  # not grown: a line break lies between it and "ward"
        _tok(text, "to", 0.01),
        _tok(text, "Okafor", 0.0, rules="NAME"),  # the rules' span stays, whatever p
        _tok(text, "Hodgkin", 0.04, pipeline="NAME"),  # safe-word layer only, vetoed
    ]
    assert _masked(text, toks, th) == ["Lagan", "View", "ward", "Okafor"]
    toks[-1] = _tok(text, "Hodgkin", 0.2, pipeline="NAME")  # above the veto: stays
    assert _masked(text, toks, th)[-1] == "Hodgkin"


def test_a_likely_clinical_term_leaves_the_layers_spans_and_stops_growth() -> None:
    text = "Ann Arbor stage IIA, seen by Lind"
    th = dl.Thresholds(add=0.3, grow=0.02, pipeline_veto=0.02, keep_veto=0.5)
    toks = [
        _tok(text, "Ann", 0.4, rules="NAME", keep=0.8),  # the rules' span, a likely term
        _tok(text, "Arbor", 0.05, pipeline="NAME", keep=0.9),  # neither kept nor grown into
        _tok(text, "stage", 0.01),
        _tok(text, "Lind", 0.02, rules="NAME", keep=0.1),  # the rules' span stays
    ]
    assert _masked(text, toks, th) == ["Ann", "Lind"]  # p >= add still masks "Ann"
    toks[0] = _tok(text, "Ann", 0.1, rules="NAME", keep=0.8)
    assert _masked(text, toks, th) == ["Lind"]
    off = dl.Thresholds(add=0.3, grow=0.02, pipeline_veto=0.02)  # keep_veto 2: never
    assert _masked(text, toks, off) == ["Ann", "Arbor", "Lind"]


def test_known_safe_words_are_added_only_above_guard_add() -> None:
    text = "letter to young, her son"
    toks = [_tok(text, "young", 0.85), _tok(text, "her", 0.01), _tok(text, "son", 0.01)]
    assert _masked(text, toks, dl.Thresholds(add=0.3)) == []  # a common lower-case word
    assert _masked(text, toks, dl.Thresholds(add=0.3, guard_add=0.8)) == ["young"]
    assert _masked(text, toks, dl.Thresholds(add=0.3, guard_add=0.9)) == []
    text = "Review 36/40\nGlioblastoma"  # a clinical number above guard_add; a clinical word never
    toks = [_tok(text, "36", 0.9), _tok(text, "40", 0.9), _tok(text, "Glioblastoma", 0.99)]
    assert _masked(text, toks, dl.Thresholds(add=0.3, guard_add=0.8)) == ["36", "40"]
    assert _masked(text, toks, dl.Thresholds(add=0.3)) == []
    text = "Nodes at the pouch of Douglas"  # protected text: never, whatever guard_add
    toks = [_tok(text, "Douglas", 0.99)]
    assert _masked(text, toks, dl.Thresholds(add=0.3, guard_add=0.5)) == []


def test_a_run_of_the_layers_is_left_whole_or_not_at_all() -> None:
    text = "Dx C50.4 on 12 March 2024"
    th = dl.Thresholds(add=0.3, keep_veto=0.5)
    code = [_tok(text, w, 0.1, rules="ID", keep=0.9) for w in ("C50", ".", "4")]
    date = [
        _tok(text, w, 0.1, rules="DATE", keep=k)
        for w, k in [("12", 0.6), ("March", 0.2), ("2024", 0.6)]
    ]
    assert _masked(text, code + date, th) == ["12", "March", "2024"]  # one word not a term
    date[1] = _tok(text, "March", 0.1, rules="DATE", keep=0.6)
    assert _masked(text, code + date, th) == []  # every word a term: the whole run left
    off = dl.Thresholds(add=0.3)
    assert _masked(text, code + date, off) == ["C50", ".", "4", "12", "March", "2024"]


def test_a_short_lower_case_word_the_model_does_not_mask_leaves_a_run_whole() -> None:
    th = dl.Thresholds(add=0.3, keep_veto=0.5)
    text = "Dx Malignes Melanom der Rückenhaut, Dr Anna von Berg"
    words = ("Malignes", "Melanom", "der", "Rückenhaut")
    run = [_tok(text, w, 0.1, pipeline="NAME", keep=0.0 if w == "der" else 0.8) for w in words]
    assert _masked(text, run, th) == []  # "der" (p 0.1) does not hold the terms masked
    run[2] = _tok(text, "der", 0.5, pipeline="NAME")
    assert _masked(text, run, th) == list(words)  # a word the model holds an identifier does
    name = [  # a name particle is no joining word: "Berg" held a term does not free the run
        _tok(text, "Anna", 0.9, rules="NAME", keep=0.5),
        _tok(text, "von", 0.1, rules="NAME"),
        _tok(text, "Berg", 0.2, rules="NAME", keep=0.5),
    ]
    assert _masked(text, name, th) == ["Anna", "von", "Berg"]
    text = "Seen by mr p. fitzgerald today, then Dx C50.4"
    initial = [  # nor is an initial
        _tok(text, "p", 0.02, rules="NAME"),
        _tok(text, ".", 0.02, rules="NAME"),
        _tok(text, "fitzgerald", 0.1, rules="NAME", keep=0.55),
    ]
    assert _masked(text, initial, th) == ["p", ".", "fitzgerald"]


def test_growth_stops_at_a_full_width_sentence_end() -> None:
    text = "佐藤花子さん。右乳癌"
    toks = [_tok(text, "佐藤花子", 0.9)] + [_tok(text, c, 0.05) for c in "さん。右乳癌"]
    assert _masked(text, toks) == ["佐藤花子", "さ", "ん"]


def test_the_layers_alone_decide_a_text_shorter_than_min_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(dl, "decide", lambda text, toks: calls.append(text) or [])
    pipeline = [("NAME", 0, 4)]
    short = "Lind " + "x " * (dl.MIN_TOKENS - 2)
    assert dl.learned_spans(short, [], pipeline) == pipeline and calls == []
    long = short + "y"
    assert len(df.tokens(long)) == dl.MIN_TOKENS
    assert dl.learned_spans(long, [], pipeline) == [] and calls == [long]


def test_protected_terms_are_never_added_or_grown_into() -> None:
    text = "Nodes at the pouch of Douglas"
    toks = [_tok(text, w, 0.9) for w in ("pouch", "of", "Douglas")]
    assert _masked(text, toks) == []


def test_features_see_the_word_lists_the_neighbours_and_the_layers() -> None:
    text = "Seen by Okafor\nWard 4"
    toks, feats = df.features(text, [("NAME", 8, 14)], [("NAME", 8, 14), ("LOCATION", 15, 21)])
    words = [text[s:e] for s, e in toks]
    assert words == ["Seen", "by", "Okafor", "Ward", "4"]
    okafor, ward = feats[2], feats[3]
    assert okafor["0:rule=NAME"] == 1.0 and okafor["-1:w=by"] == 1.0
    assert "w=okafor" not in " ".join(okafor)  # names are not learned by heart
    assert ward["0:safeonly"] == 1.0 and ward["nl"] == 1.0 and ward["-1:nlgap"] == 1.0
    assert df.token_labels(toks, [("NAME", 8, 14)]) == ["O", "O", "NAME", "O", "O"]
    assert df.token_labels(toks, [("NAME", 8, 14)], [(15, 19)]) == ["O", "O", "NAME", "KEEP", "O"]


def test_chinese_and_japanese_are_tokens_of_one_character() -> None:
    text = "9月20日の検診マンモグラフィ 김민수 환자 Müller-Lüdenscheidt"
    toks, feats = df.features(text, [("DATE", 0, 5)], [("DATE", 0, 5)])
    words = [text[s:e] for s, e in toks]
    assert words[:6] == ["9", "月", "20", "日", "の", "検"]
    assert words[-5:] == ["김민수", "환자", "Müller", "-", "Lüdenscheidt"]  # Korean: spaced words
    by_word = dict(zip(words, feats, strict=False))
    assert by_word["検"]["w=検"] == 1.0 and by_word["検"]["cjkclin=1"] == 1.0
    assert by_word["マ"]["kana"] == 1.0 and "kana" not in by_word["の"]
    assert by_word["환자"]["cjkclin=0"] == 1.0 and "w=김민수" not in " ".join(by_word["김민수"])


def test_frequent_words_of_other_languages_and_compounds_are_features() -> None:
    from oncoseg.text.deid_vocab import is_compound, is_foreign_common

    assert is_foreign_common("kontrolle") and is_foreign_common("pflege")
    assert not is_foreign_common("pichlmayr") and not is_foreign_common("kontrol1e")
    assert not is_foreign_common("patient")  # an English word: the English list has it
    for word in ("rückenhaut", "leberwerte", "infektionsrisiko", "stammzelltransplantation"):
        assert is_compound(word), word
    for word in ("pichlmayr", "hinterleitner", "raghunathan", "x" * 5000):
        assert not is_compound(word), word[:20]
    assert is_foreign_common("straße") and is_foreign_common("καρκίνος")  # casefolded lists
    for word in ("חום", "سرطان", "수술", "रक्त", "ক্যান্সার"):  # Hebrew to Bengali, vowel signs too
        assert is_foreign_common(word), word
    text = "Kontrolle der Leberwerte bei Frau Pichlmayr"
    toks, feats = df.features(text, [], [])
    flags = {text[s:e]: f for (s, e), f in zip(toks, feats, strict=True)}
    assert flags["Kontrolle"]["foreign"] == 1.0 and flags["Leberwerte"]["compound"] == 1.0
    assert "foreign" not in flags["Pichlmayr"] and "compound" not in flags["Pichlmayr"]
    assert flags["Leberwerte"]["-2:foreign"] == 1.0  # "Kontrolle", two to the left


def test_the_foreign_word_list_takes_words_of_letters_and_script_languages_in_their_script(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import types

    from oncoseg.text import deid_wordlists as wl

    assert wl._lettered("수술") and wl._lettered("रक्त") and wl._lettered("τοῦ")
    assert not wl._lettered("की") and not wl._lettered("ab") and not wl._lettered("c50a")
    assert not wl._lettered("\u0301abc")  # a mark cannot open a word
    freqs = {  # wordfreq's frequencies: Zipf 3.5 is 10**-5.5
        "ko": {"수술": 1e-4, "kolkata": 1e-4, "드문": 1e-7},
        "de": {"kontrolle": 1e-4, "x1y": 1e-4, "patient": 1e-4},
    }
    fake = types.ModuleType("wordfreq")
    fake.get_frequency_dict = lambda lang: freqs.get(lang, {})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wordfreq", fake)
    # an English word is left out; a Latin word of a script language's list too (Kolkata)
    assert wl.foreign_words({"patient"}) == ["kontrolle", "수술"]


def test_long_words_have_longer_affixes_never_the_whole_word() -> None:
    assert df._affixes("hemikolektomie") == {"suf4": "omie", "suf5": "tomie", "pre3": "hem"}
    assert df._affixes("koch") == {} and df._affixes("karsin0m") == {}
    for word in ("johanss", "lymfadenektomi", "popescu1", "ionescu"):
        assert word not in df._affixes(word).values()
    text = "Stan po hemikolektomii prawostronnej"
    toks, feats = df.features(text, [], [])
    by_word = {text[s:e]: f for (s, e), f in zip(toks, feats, strict=True)}
    assert by_word["hemikolektomii"]["suf5=tomii"] == 1.0 and "suf5=po" not in by_word["po"]


def test_a_word_the_layers_masked_elsewhere_in_the_note_is_a_feature() -> None:
    text = "Dr Moss called. moss will ring back; moss on the wall"
    toks, feats = df.features(text, [("NAME", 3, 7)], [("NAME", 3, 7)])
    flagged = [text[s:e] for (s, e), f in zip(toks, feats, strict=True) if "elsewhere" in f]
    assert flagged == ["moss", "moss"]  # not "Moss" itself, where the layers masked it


def test_the_shipped_model_scores_tokens_as_probabilities() -> None:
    text = "Letter from Dr Amaka Okafor, Lagan View Ward, tel 028 9063 3000. ER 8/8, T2N1mi."
    layers = [(r.tag, r.start, r.end) for r in find_identifiers(text, learned=False)]
    rules = [(r.tag, r.start, r.end) for r in find_identifiers(text, safe_words=False)]
    toks = dl.scored_tokens(text, rules, layers)
    assert all(0.0 <= t.p <= 1.0 for t in toks)
    by_word = {text[t.start : t.end]: t.p for t in toks}
    assert by_word["Okafor"] > 0.9 and by_word["9063"] > 0.9
    assert by_word["T2N1mi"] < 0.1 and by_word["ER"] < 0.1


def test_the_rules_spans_stay_unless_the_model_holds_them_clinical_terms() -> None:
    """The learned layer takes back what the safe-word layer masked, and of the rules' spans
    only tokens it holds clinical terms with p >= keep_veto."""
    vetoed = 0
    for text in _long_notes(15):
        masked = {i for r in find_identifiers(text) for i in range(r.start, r.end)}
        rules = [(r.tag, r.start, r.end) for r in find_identifiers(text, safe_words=False)]
        layers = [(r.tag, r.start, r.end) for r in find_identifiers(text, learned=False)]
        for t in dl.scored_tokens(text, rules, layers):
            if t.rules == "O" or not text[t.start : t.end].isalnum():
                continue
            kept = all(i in masked for i in range(t.start, t.end))
            assert kept or t.keep >= dl.THRESHOLDS.keep_veto, text[t.start : t.end]
            vetoed += not kept
    assert vetoed <= 3  # the rules' precision on their own dev notes is near 1


@pytest.mark.parametrize(
    ("corpus", "recall", "kept"),
    [  # corpora the model was not trained on (written by the rules' author), as measured
        ("deid_dev_corpus.txt", 0.99, 0.985),
        ("deid_eval_corpus.txt", 0.995, 0.99),
        ("deid_heldout_corpus.txt", 0.99, 0.99),
    ],
)
def test_corpora_outside_its_training(corpus: str, recall: float, kept: float) -> None:
    notes = load_corpus(HERE / corpus)
    learned, layers = score(notes, oncoseg_finder), score(notes, layers_finder)
    assert learned.recall >= recall, learned.misses
    assert learned.kept_rate >= kept, learned.lost_terms
    assert learned.recall >= layers.recall - 0.01


@pytest.mark.slow
def test_leave_one_corpus_out_beats_the_blind_time_de_identifier(tmp_path: Path) -> None:
    """Trained on all corpora but one, decided on the one left out with the spans of the
    de-identifier that first scored it blind: recall up, clinical terms kept not down, on
    three of them (a held-out corpus and two training corpora; all nineteen take
    `python -m oncoseg.text.deid_train --loco`, docs/text.md has the table)."""
    corpora = dt.load(HERE, HERE / "deid_blind_spans.json.gz")
    left_out = ["deid_heldout_corpus_v8.txt", "deid_train_corpus_a.txt", "deid_train_corpus_g.txt"]
    tokens = dt.fold_tokens(corpora, tmp_path, left_out)
    learned = dt.fold_scores(corpora, tokens, dl.THRESHOLDS)
    assert sorted(learned) == sorted(left_out)
    for c in (c for c in corpora if c.name in left_out):
        before = dt.score_spans(c.notes, c.pipeline)
        assert learned[c.name][0] > before.recall + 0.01, c.name
        assert learned[c.name][1] >= before.kept_rate - 0.01, c.name
    recall, kept, _ = dt._means(learned)
    assert recall >= 0.96 and kept >= 0.95  # measured 0.969 and 0.958 (add 0.1, keep_veto 0.5)


@pytest.mark.slow
def test_training_rebuilds_the_shipped_model(tmp_path: Path) -> None:
    """Retraining from the repository gives the shipped model's probabilities (to 1e-4:
    the optimiser's last digits may differ between machines)."""
    import pycrfsuite

    corpora = dt.load(HERE, HERE / "deid_blind_spans.json.gz")
    dt.train(corpora, tmp_path / "m.crf")
    rebuilt = pycrfsuite.Tagger()
    rebuilt.open(str(tmp_path / "m.crf"))
    for note in load_corpus(HERE / "deid_dev_corpus.txt")[:10]:
        text = note.text
        layers = [(r.tag, r.start, r.end) for r in find_identifiers(text, learned=False)]
        rules = [(r.tag, r.start, r.end) for r in find_identifiers(text, safe_words=False)]
        ours = dl.scored_tokens(text, rules, layers, rebuilt)
        shipped = dl.scored_tokens(text, rules, layers)
        assert max(abs(a.p - b.p) for a, b in zip(ours, shipped, strict=True)) < 1e-4
        assert max(abs(a.keep - b.keep) for a, b in zip(ours, shipped, strict=True)) < 1e-4


def test_threads_share_the_model_safely() -> None:
    """The review service de-identifies in worker threads; the shared tagger holds one
    sequence at a time, so concurrent notes must give what each gives alone."""
    from concurrent.futures import ThreadPoolExecutor

    notes = _long_notes(8)
    alone = [find_identifiers(t) for t in notes]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(find_identifiers, notes * 3))
    assert together == alone * 3
