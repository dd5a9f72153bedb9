"""Train the de-identifier's learned layer (``text.deid_learned``) and measure it honestly.

``python -m oncoseg.text.deid_train [--loco] [--grid] [--out PATH]`` (from the repo root):

- ``--loco``: leave-one-corpus-out over the training corpora (the held-out corpora v2-v14,
  each scored blind once before it joined, and the corpora a-q written blind for training):
  train on all but one, decide on that one with the spans its blind-time de-identifier found,
  print recall, clinical terms kept and words kept per corpus and their means, beside the
  blind-time figures;
- ``--grid``: the same folds over a grid of thresholds, best first by the smaller of mean recall
  and mean terms kept over the held-out corpora (how ``deid_learned.THRESHOLDS`` was chosen);
  ``--heldout-only`` folds only those (13 trainings instead of 30);
- otherwise: train on all of them and write the model (default: the package's
  ``deid_crf.model``).

The features need the spans of the de-identifier *as it was when each corpus was blind*
(tests/text/deid_blind_spans.json.gz, rebuilt by tools/deid_blind_spans.sh), so the model
learns how the rules fail on unseen notes. Training takes about a minute on 2 cores; the
leave-one-corpus-out over the 30 corpora about 45 minutes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import itertools
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oncoseg.text.deid_eval import MarkedNote, Score, load_corpus, score
from oncoseg.text.deid_features import Span, features, token_labels
from oncoseg.text.deid_learned import (
    MODEL_FILE,
    THRESHOLDS,
    Thresholds,
    Token,
    decide,
    scored_tokens,
)

CORPUS_DIR = Path("tests/text")
BLIND_SPANS = CORPUS_DIR / "deid_blind_spans.json.gz"
KEEP_VETO = (2.0, 0.7, 0.5, 0.3)  # the grid's keep_veto (2: off)
GUARD_ADD = (2.0, 0.8, 0.7, 0.5)  # the grid's guard_add (2: off)
PARAMS = {"c1": 0.1, "c2": 0.1, "max_iterations": 150, "feature.possible_transitions": True}


@dataclass(frozen=True)
class Corpus:
    name: str
    notes: list[MarkedNote]
    rules: list[list[Span]]  # the blind-time rules' spans, per note
    pipeline: list[list[Span]]  # the blind-time pipeline's spans, per note


def load(corpus_dir: Path = CORPUS_DIR, spans_file: Path = BLIND_SPANS) -> list[Corpus]:
    """The training corpora (held-out v2-v14, training a-q) with their blind-time spans."""
    if not spans_file.exists():
        raise FileNotFoundError(f"{spans_file}: not found (run from the repository root)")
    blind = json.loads(gzip.decompress(spans_file.read_bytes()))["corpora"]
    out = []
    for name, entry in blind.items():
        notes = load_corpus(corpus_dir / name)
        spans = entry["notes"]
        for n in notes:
            digest = hashlib.sha256(n.text.encode()).hexdigest()
            if spans.get(n.note_id, {}).get("sha256") != digest:
                raise ValueError(
                    f"{spans_file}: note {n.note_id} of {name} is not the text its spans were "
                    "found in (rebuild with tools/deid_blind_spans.sh)"
                )

        def as_spans(raw: list[list[Any]]) -> list[Span]:
            return [(str(t), int(s), int(e)) for t, s, e in raw]

        out.append(
            Corpus(
                name,
                notes,
                [as_spans(spans[n.note_id]["rules"]) for n in notes],
                [as_spans(spans[n.note_id]["all"]) for n in notes],
            )
        )
    return out


def train(corpora: Sequence[Corpus], path: Path) -> None:
    """Fit the CRF on ``corpora`` and write it to ``path``."""
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for c in corpora:
        for note, rules, pipeline in zip(c.notes, c.rules, c.pipeline, strict=True):
            toks, feats = features(note.text, rules, pipeline)
            idents = [(p.kind, p.start, p.end) for p in note.identifiers]
            terms = [(k.start, k.end) for k in note.keep]
            trainer.append(feats, token_labels(toks, idents, terms))
    trainer.set_params(PARAMS)
    trainer.train(str(path))


def fold_tokens(
    corpora: Sequence[Corpus], workdir: Path, left_out: Sequence[str] | None = None
) -> dict[str, list[list[Token]]]:
    """Leave one corpus out: each corpus's notes (or those named in ``left_out``) scored by a
    model trained on the others."""
    import pycrfsuite

    out = {}
    for held in corpora:
        if left_out is not None and held.name not in left_out:
            continue
        model = workdir / f"{held.name}.crf"
        train([c for c in corpora if c is not held], model)
        tagger = pycrfsuite.Tagger()
        tagger.open(str(model))
        out[held.name] = [
            scored_tokens(n.text, r, p, tagger)
            for n, r, p in zip(held.notes, held.rules, held.pipeline, strict=True)
        ]
    return out


def score_spans(notes: Sequence[MarkedNote], spans: Sequence[Sequence[Span]]) -> Score:
    """``deid_eval.score`` of spans found beforehand, one list per note."""
    found = {n.text: list(s) for n, s in zip(notes, spans, strict=True)}

    def finder(text: str) -> list[Span]:
        return found[text]

    return score(notes, finder)


def fold_scores(
    corpora: Sequence[Corpus], tokens: dict[str, list[list[Token]]], th: Thresholds
) -> dict[str, tuple[float, float, float]]:
    """(recall, terms kept, words kept) per corpus under thresholds ``th``."""
    out = {}
    for c in corpora:
        if c.name not in tokens:
            continue
        decided = [decide(n.text, t, th) for n, t in zip(c.notes, tokens[c.name], strict=True)]
        s = score_spans(c.notes, decided)
        out[c.name] = (s.recall, s.kept_rate, s.words_kept_rate)
    return out


def _means(rows: dict[str, tuple[float, float, float]]) -> tuple[float, float, float]:
    n = len(rows)
    return tuple(sum(r[i] for r in rows.values()) / n for i in range(3))  # type: ignore[return-value]


def _table(corpora: Sequence[Corpus], tokens: dict[str, list[list[Token]]]) -> str:
    lines = ["| corpus | blind-time recall / kept / words | learned (left out) |", "|---|---|---|"]
    rows = fold_scores(corpora, tokens, THRESHOLDS)
    before = {}
    for c in corpora:
        s = score_spans(c.notes, c.pipeline)
        before[c.name] = (s.recall, s.kept_rate, s.words_kept_rate)
    for c in corpora:
        if c.name not in rows:
            continue
        b, a = before[c.name], rows[c.name]
        lines.append(
            f"| {c.name} | {b[0]:.3f} / {b[1]:.3f} / {b[2]:.3f} | "
            f"{a[0]:.3f} / {a[1]:.3f} / {a[2]:.3f} |"
        )
    held = [c.name for c in corpora if "heldout" in c.name and c.name in rows]
    for label, names in (("mean", list(rows)), ("mean, held-out corpora", held)):
        if not names:
            continue
        b = _means({n: before[n] for n in names})
        a = _means({n: rows[n] for n in names})
        lines.append(
            f"| {label} | {b[0]:.3f} / {b[1]:.3f} / {b[2]:.3f} | "
            f"{a[0]:.3f} / {a[1]:.3f} / {a[2]:.3f} |"
        )
    return "\n".join(lines) + "\n"


def _grid(corpora: Sequence[Corpus], tokens: dict[str, list[list[Token]]]) -> str:
    """Thresholds best first by the smaller of mean recall and mean terms kept over the
    held-out corpora (written from the one-line brief each new blind corpus is written from),
    with the means over all corpora beside them."""
    rows = []
    for add, grow, veto, keep_veto, guard_add in itertools.product(
        (0.05, 0.1, 0.15, 0.2, 0.3), (0.02,), (0.02, 0.05), KEEP_VETO, GUARD_ADD
    ):
        th = Thresholds(add, grow, veto, 0.0, keep_veto, guard_add)
        scores = fold_scores(corpora, tokens, th)
        held = _means({k: v for k, v in scores.items() if "heldout" in k} or scores)
        rows.append((min(held[0], held[1]), held, _means(scores), th))
    rows.sort(key=lambda r: (r[0], *r[1]), reverse=True)
    return (
        "\n".join(
            f"min {m:.4f} held-out recall {h[0]:.4f} kept {h[1]:.4f} words {h[2]:.3f} | "
            f"all {a[0]:.4f} / {a[1]:.4f} / {a[2]:.3f} {th}"
            for m, h, a, th in rows[:10]
        )
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - a report
    ap = argparse.ArgumentParser(description="Train or evaluate the learned de-id layer.")
    ap.add_argument("--loco", action="store_true", help="leave-one-corpus-out table")
    ap.add_argument("--grid", action="store_true", help="leave-one-corpus-out threshold grid")
    ap.add_argument(
        "--heldout-only",
        action="store_true",
        help="with --loco or --grid: fold only the held-out corpora (the grid's rule reads them)",
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name(MODEL_FILE))
    args = ap.parse_args(argv)
    corpora = load()
    if args.loco or args.grid:
        held = [c.name for c in corpora if "heldout" in c.name] if args.heldout_only else None
        with tempfile.TemporaryDirectory() as tmp:
            tokens = fold_tokens(corpora, Path(tmp), held)
        sys.stdout.write(_grid(corpora, tokens) if args.grid else _table(corpora, tokens))
        return
    tmp_out = args.out.with_name(args.out.name + ".tmp")
    train(corpora, tmp_out)
    tmp_out.replace(args.out)
    sys.stdout.write(f"wrote {args.out}\n")


if __name__ == "__main__":  # pragma: no cover
    main()
