"""Recall and precision of a de-identifier on hand-marked notes (stdlib only).

A marked corpus is plain text: ``=== <id> <description>`` opens a note, ``#`` lines are
comments, ``[[KIND:text]]`` marks an identifier and ``{{text}}`` a clinical term that must
survive. Any de-identifier is scored the same way: its spans become a character mask, runs
of masked characters separated only by spaces or tabs count as one redaction, and

- **recall** is the share of identifiers whose every letter and digit is masked (per kind too),
- **precision** the share of redactions that overlap an identifier (and **char precision**
  the share of redacted letters and digits that lie inside one),
- **kept** the share of marked clinical terms with no masked letter or digit,
- **words kept** the share of words outside every identifier (runs of letters and digits)
  with no masked letter or digit: what a note keeps of its content overall.

``python -m oncoseg.text.deid_eval [CORPUS...] [--tools oncoseg,oncoseg-rules,presidio,philter]``
prints the tables used in docs/text.md (by default for the development, evaluation and
held-out corpora of tests/text); presidio and philter are imported only when asked for.

Example:
    >>> notes = parse_marked("=== n1\\nSeen by [[NAME:Jo Bloggs]], {{T2N1mi}}.")
    >>> score(notes, oncoseg_finder).recall
    1.0
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Finder = Callable[[str], list[tuple[str, int, int]]]  # text -> [(tag, start, end)]
_WORD = re.compile(r"[^\W_]+")
_MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]|\{\{(.+?)\}\}", re.S)


@dataclass(frozen=True)
class Span:
    kind: str  # identifier kind, or "KEEP" for a clinical term
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class MarkedNote:
    note_id: str
    text: str
    identifiers: tuple[Span, ...]
    keep: tuple[Span, ...]


def _parse_one(note_id: str, raw: str) -> MarkedNote:
    parts: list[str] = []
    idents: list[Span] = []
    keep: list[Span] = []
    pos = out = 0
    for m in _MARK.finditer(raw):
        parts.append(raw[pos : m.start()])
        out += m.start() - pos
        body = m.group(2) if m.group(1) else m.group(3)
        span = Span(m.group(1) or "KEEP", out, out + len(body), body)
        (idents if m.group(1) else keep).append(span)
        parts.append(body)
        out += len(body)
        pos = m.end()
    parts.append(raw[pos:])
    text = "".join(parts)
    if "[[" in text or "{{" in text:
        raise ValueError(f"note {note_id}: unbalanced [[...]] or {{{{...}}}} markup")
    return MarkedNote(note_id, text.strip("\n"), tuple(idents), tuple(keep))


def parse_marked(raw: str) -> list[MarkedNote]:
    """Notes of a marked corpus (see the module docstring for the format)."""
    notes: list[MarkedNote] = []
    note_id, lines = "", list[str]()
    for line in [*raw.splitlines(), "=== <end>"]:
        if line.startswith("==="):
            if note_id:
                notes.append(_parse_one(note_id, "\n".join(lines)))
            note_id, lines = line[3:].split()[0], []
        elif not line.startswith("#") and note_id:
            lines.append(line)
    return notes


def load_corpus(path: str | Path) -> list[MarkedNote]:
    return parse_marked(Path(path).read_text(encoding="utf-8"))


@dataclass
class Score:
    """Counts behind recall/precision; ``misses`` and ``false_positives`` name the text."""

    caught: Counter[str] = field(default_factory=Counter)  # identifiers fully masked, per kind
    total: Counter[str] = field(default_factory=Counter)
    chars_caught: int = 0
    chars_total: int = 0
    spans: Counter[str] = field(default_factory=Counter)  # redactions per tool tag
    true_spans: Counter[str] = field(default_factory=Counter)
    chars_masked: int = 0  # letters and digits redacted ...
    chars_masked_true: int = 0  # ... of which inside an identifier
    kept: int = 0
    keep_total: int = 0
    words_kept: int = 0  # words outside every identifier left whole ...
    words_total: int = 0  # ... of all such words
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (note, kind, text)
    false_positives: list[tuple[str, str, str]] = field(default_factory=list)  # (note, tag, text)
    lost_terms: list[tuple[str, str]] = field(default_factory=list)  # (note, term)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / max(1, sum(self.total.values()))

    @property
    def char_recall(self) -> float:
        return self.chars_caught / max(1, self.chars_total)

    @property
    def precision(self) -> float:
        return sum(self.true_spans.values()) / max(1, sum(self.spans.values()))

    @property
    def char_precision(self) -> float:
        return self.chars_masked_true / max(1, self.chars_masked)

    @property
    def kept_rate(self) -> float:
        return self.kept / max(1, self.keep_total)

    @property
    def words_kept_rate(self) -> float:
        return self.words_kept / max(1, self.words_total)

    def recall_of(self, kind: str) -> float:
        return self.caught[kind] / max(1, self.total[kind])

    def precision_of(self, tag: str) -> float:
        return self.true_spans[tag] / max(1, self.spans[tag])


def redaction_runs(text: str, found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Found spans as a mask, cut into runs; runs apart by only spaces/tabs are joined."""
    mask: list[str | None] = [None] * len(text)
    for tag, s, e in found:
        for i in range(max(0, s), min(len(text), e)):
            mask[i] = mask[i] or tag
    runs: list[tuple[str, int, int]] = []
    i = 0
    while i < len(text):
        run_tag = mask[i]
        if run_tag is None or not text[i].strip():
            i += 1
            continue
        j = i
        while j < len(text) and (mask[j] is not None or text[j] in " \t"):
            j += 1
        while text[j - 1] in " \t":  # a run ends on a masked character
            j -= 1
        runs.append((run_tag, i, j))
        i = j
    return runs


def _masked(runs: list[tuple[str, int, int]], n: int) -> list[bool]:
    mask = [False] * n
    for _, s, e in runs:
        mask[s:e] = [True] * (e - s)
    return mask


def score(notes: Sequence[MarkedNote], finder: Finder) -> Score:
    """Score ``finder`` on ``notes``: per-kind recall, per-tag precision, clinical terms kept."""
    sc = Score()
    for note in notes:
        text = note.text
        runs = redaction_runs(text, finder(text))
        mask = _masked(runs, len(text))
        for ident in note.identifiers:
            alnum = [i for i in range(ident.start, ident.end) if text[i].isalnum()]
            hit = sum(mask[i] for i in alnum)
            sc.total[ident.kind] += 1
            sc.chars_total += len(alnum)
            sc.chars_caught += hit
            if hit == len(alnum):
                sc.caught[ident.kind] += 1
            else:
                sc.misses.append((note.note_id, ident.kind, ident.text))
        inside = _masked([("", p.start, p.end) for p in note.identifiers], len(text))
        alnum_masked = [i for i, m in enumerate(mask) if m and text[i].isalnum()]
        sc.chars_masked += len(alnum_masked)
        sc.chars_masked_true += sum(inside[i] for i in alnum_masked)
        for tag, s, e in runs:
            sc.spans[tag] += 1
            if any(p.start < e and s < p.end for p in note.identifiers):
                sc.true_spans[tag] += 1
            else:
                sc.false_positives.append((note.note_id, tag, text[s:e]))
        for w in _WORD.finditer(text):
            if any(inside[w.start() : w.end()]):
                continue
            sc.words_total += 1
            sc.words_kept += not any(mask[w.start() : w.end()])
        for term in note.keep:
            sc.keep_total += 1
            lost = any(mask[i] for i in range(term.start, term.end) if text[i].isalnum())
            sc.kept += not lost
            if lost:
                sc.lost_terms.append((note.note_id, term.text))
    return sc


def oncoseg_finder(text: str) -> list[tuple[str, int, int]]:
    from oncoseg.text.deid import find_identifiers

    return [(r.tag, r.start, r.end) for r in find_identifiers(text)]


def layers_finder(text: str) -> list[tuple[str, int, int]]:
    """oncoseg's rules and safe-word layer, without the learned layer (text.deid_learned)."""
    from oncoseg.text.deid import find_identifiers

    return [(r.tag, r.start, r.end) for r in find_identifiers(text, learned=False)]


def rules_finder(text: str) -> list[tuple[str, int, int]]:
    """oncoseg's rules alone, without the safe-word layer (what it was before that layer)."""
    from oncoseg.text.deid import find_identifiers

    return [(r.tag, r.start, r.end) for r in find_identifiers(text, safe_words=False)]


def ner_finder(text: str) -> list[tuple[str, int, int]]:  # pragma: no cover - needs spaCy
    """oncoseg with the opt-in entity layer (text.deid_ner: spaCy's entities)."""
    from oncoseg.text.deid import find_identifiers

    return [(r.tag, r.start, r.end) for r in find_identifiers(text, ner=True)]


def presidio_finder(model: str = "en_core_web_sm") -> Finder:  # pragma: no cover - optional
    """presidio-analyzer with a spaCy pipeline (every entity it reports, at any score)."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())

    def find(text: str) -> list[tuple[str, int, int]]:
        return [(r.entity_type, r.start, r.end) for r in engine.analyze(text, language="en")]

    return find


def philter_finder(spacy_tagger: str | None = None) -> Finder:  # pragma: no cover - optional
    """philter-lite with its default config (philter_delta.toml): everything it does not keep.

    philter-lite tags parts of speech with NLTK's averaged perceptron tagger, whose data is a
    separate download; ``spacy_tagger`` names a spaCy pipeline whose Penn Treebank tags stand
    in for it (philter's config uses the tags only to keep cardinal numbers, ``CD``).
    """
    from importlib import resources

    import philter_lite
    from philter_lite import philter as ph

    if spacy_tagger:
        import spacy
        from spacy.tokens import Doc

        nlp = spacy.load(spacy_tagger)

        def pos(text: str) -> list[tuple[str, str]]:
            words = ph._get_clean(text)
            doc = nlp(Doc(nlp.vocab, words=words, spaces=[False] * len(words)))
            return [(t.text, t.tag_) for t in doc]

        ph._get_pos = pos
    config = resources.files("philter_lite") / "configs" / "philter_delta.toml"
    filters = philter_lite.load_filters(str(config))

    def find(text: str) -> list[tuple[str, int, int]]:
        include, _, _ = philter_lite.detect_phi(text, filters)
        out = philter_lite.transform_text_asterisk(text, include)  # philter's own redaction
        assert len(out) == len(text)
        return [
            ("PHI", i, i + 1)
            for i, (a, b) in enumerate(zip(text, out, strict=True))
            if a != b == "*"
        ]

    return find


def format_table(scores: dict[str, Score]) -> str:
    """A markdown table: recall (spans, characters), per-kind recall, precision, terms kept."""
    kinds = sorted({k for s in scores.values() for k in s.total})
    first = next(iter(scores.values()))
    head = ["tool", "recall", "char recall", *[f"{k} ({first.total[k]})" for k in kinds]]
    head += ["precision", "char precision", "redactions", "terms kept", "words kept"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in scores.items():
        cells = [name, f"{s.recall:.3f}", f"{s.char_recall:.3f}"]
        cells += [f"{s.recall_of(k):.2f}" for k in kinds]
        cells += [f"{s.precision:.3f}", f"{s.char_precision:.3f}", str(sum(s.spans.values()))]
        cells += [f"{s.kept_rate:.3f}", f"{s.words_kept_rate:.3f}"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def report(notes: Sequence[MarkedNote], scores: dict[str, Score], show: bool = False) -> str:
    """The corpus size, the table, precision by tag, and with ``show`` every miss and error."""
    n_ids, n_terms = sum(len(n.identifiers) for n in notes), sum(len(n.keep) for n in notes)
    lines = [f"{len(notes)} notes, {n_ids} identifiers, {n_terms} clinical terms", ""]
    lines.append(format_table(scores))
    for name, s in scores.items():
        tags = ", ".join(f"{t} {s.precision_of(t):.2f} ({s.spans[t]})" for t in sorted(s.spans))
        lines += ["", f"{name}: precision by tag: {tags}"]
        if show:
            lines += [f"  miss {n} {k}: {t!r}" for n, k, t in s.misses]
            lines += [f"  false positive {n} {k}: {t!r}" for n, k, t in s.false_positives]
            lines += [f"  lost term {n}: {t!r}" for n, t in s.lost_terms]
    return "\n".join(lines) + "\n"


CORPORA = ("deid_dev_corpus.txt", "deid_eval_corpus.txt", "deid_heldout_corpus.txt")


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - a report
    ap = argparse.ArgumentParser(description="Score de-identifiers on marked corpora.")
    ap.add_argument(
        "corpus", type=Path, nargs="*", help="marked corpora (default: the three in tests/text)"
    )
    ap.add_argument(
        "--tools",
        default="oncoseg",
        help="comma list: oncoseg,oncoseg-layers,oncoseg-rules,oncoseg-ner,presidio,philter",
    )
    ap.add_argument("--spacy-model", default="en_core_web_sm")
    ap.add_argument("--show", action="store_true", help="list misses and false positives")
    args = ap.parse_args(argv)
    makers: dict[str, Callable[[], Finder]] = {
        "oncoseg": lambda: oncoseg_finder,
        "oncoseg-layers": lambda: layers_finder,
        "oncoseg-rules": lambda: rules_finder,
        "oncoseg-ner": lambda: ner_finder,
        "presidio": lambda: presidio_finder(args.spacy_model),
        "philter": lambda: philter_finder(args.spacy_model),
    }
    finders = {t: makers[t]() for t in args.tools.split(",")}
    paths = args.corpus or [Path("tests/text") / c for c in CORPORA]
    for path in paths:
        notes = load_corpus(path)
        scores = {t: score(notes, f) for t, f in finders.items()}
        sys.stdout.write(f"## {path}\n\n" + report(notes, scores, args.show) + "\n")


if __name__ == "__main__":  # pragma: no cover
    main()
