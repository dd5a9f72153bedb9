"""The learned layer of the de-identifier: a CRF that decides, word by word, what to mask.

The rules and the safe-word layer (``text.deid``) reach 0.87-0.96 recall on each new blind
corpus, whatever they reach on the notes they were written on. This layer is trained on how
they behave on notes they had *not* seen: for each training corpus (the held-out corpora
v2-v14, each scored blind once before it joined, and the corpora a-q written blind for
training) the features hold the spans the de-identifier of the commit that first ran on that
corpus found (rules alone and the whole pipeline; tests/text/deid_blind_spans.json.gz), beside
the word's shape, the word lists' verdicts and its neighbours (``text.deid_features``). So the
model learns when the layers miss (a ward written in lower case, a foreign street) and when
they over-mask (a capitalised clinical word they do not know), not that they are always right.
Chinese and Japanese are read one character at a time (a run of them is a sentence).
Its labels are the identifier kinds, ``KEEP`` for a marked clinical term and ``O``.

A linear-chain CRF (CRFsuite, via python-crfsuite) gives each token its probability p of being
part of an identifier and its probability k of being part of a clinical term; the decision
(``decide``):

- the layers' spans stay, the rules' whatever p (``rules_veto`` 0), the safe-word layer's when
  p >= ``pipeline_veto``, both unless every word of the run (one tag, one line) has k >=
  ``keep_veto`` (``Ann Arbor``, ``C50.4``) and p < ``add``, joining function words with p <
  ``add`` aside (the ``der`` of ``Malignes Melanom der Rückenhaut``; not initials or name
  particles): a run is left whole or not at all;
- the model adds a token when p >= ``add``; a common word in lower case or a number the
  layers judge clinical only when p >= ``guard_add``; a clinical or medical word never (only
  by growth);
- masked tokens grow along their line, within a sentence, into neighbours with p >= ``grow``
  and k < ``keep_veto`` (the rest of ``Queen Eleanor University Hospitals``);
- protected text (eponyms, terms kept by context) and a sentence's closing mark are never
  masked by the model.

The thresholds (``THRESHOLDS``) were chosen by leave-one-corpus-out over the training corpora
(train on all but one, decide on that one with its blind-time spans), maximising the smaller
of mean recall and mean clinical terms kept (``python -m oncoseg.text.deid_train --grid``);
docs/text.md has the figures. The model file ships with the package and is rebuilt by
``python -m oncoseg.text.deid_train``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from oncoseg.text.deid_features import KEEP, Features, Span, tagged_features, tokens
from oncoseg.text.deid_keep import protected_spans
from oncoseg.text.deid_numbers import number_spans
from oncoseg.text.deid_vocab import is_clinical, is_common, is_medical

MODEL_FILE = "deid_crf.model"


@dataclass(frozen=True)
class Thresholds:
    add: float = 0.3
    grow: float = 0.02
    pipeline_veto: float = 0.02
    rules_veto: float = 0.0  # the rules' spans stay whatever p (unless a term: keep_veto)
    # a run the layers masked (one tag, one line) is left when the model holds each of its
    # words (joining function words aside) a clinical term with at least this probability
    # (above 1: never)
    keep_veto: float = 2.0
    # a common lower-case word or a clinical number (masked otherwise only by growth) is
    # added when the model holds it an identifier with at least this probability (above 1:
    # never); a clinical or medical word never is
    guard_add: float = 2.0


# chosen by leave-one-corpus-out, the 13 held-out folds of 30 corpora (deid_train --grid
# --heldout-only): add 0.05-0.3 x keep_veto 0.3-0.7 x guard_add 0.5-0.8, by the smaller of the
# two means (recall, terms kept) over the held-out corpora v2-v14 (written from the same
# one-line brief as each new blind corpus; the training corpora a-q were written to a focus);
# docs/text.md has the table
THRESHOLDS = Thresholds(add=0.1, keep_veto=0.7, guard_add=0.5)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    p: float  # probability of being part of an identifier
    tag: str  # the model's most likely identifier kind
    rules: str  # the rules' tag, or "O"
    pipeline: str  # the whole pipeline's tag, or "O"
    keep: float = 0.0  # probability of being part of a clinical term


def decide(text: str, toks: Sequence[Token], th: Thresholds = THRESHOLDS) -> list[Span]:
    """The tokens to mask (see the module docstring), with a tag each. Of what the layers
    left, protected text (an eponym, a term kept by its context) and a sentence's closing
    mark are never masked (so growth stops at the end of a sentence); a clinical or medical
    word only by growth from a neighbour (``Cancer`` in a hospital's name); a common
    lower-case word or a clinical number by growth or at p >= ``guard_add`` (above ``add``)."""
    keep = protected_spans(text)
    masked_numbers = number_spans(text, [False] * len(text))
    left = [t.rules == "O" and t.pipeline == "O" for t in toks]  # what the layers left
    number = _clinical_numbers(text, toks, masked_numbers)
    fixed = [  # never masked: protected text, a sentence's closing mark
        x and (any(a < t.end and t.start < b for a, b in keep) or _ends_sentence(text, t))
        for x, t in zip(left, toks, strict=True)
    ]
    guard = [  # masked only by growth: known-safe words, clinical numbers
        f or (x and (n or _known_safe(text, t)))
        for f, x, n, t in zip(fixed, left, number, toks, strict=True)
    ]
    term = _terms(text, toks, th)
    on = [
        (not g or (not f and t.p >= th.guard_add and not _clinical_word(text, t)))
        and (
            t.p >= th.add
            or (
                not m
                and (
                    (t.rules != "O" and t.p >= th.rules_veto)
                    or (t.pipeline != "O" and t.p >= th.pipeline_veto)
                )
            )
        )
        for t, g, f, m in zip(toks, guard, fixed, term, strict=True)
    ]
    changed = True
    while changed:  # grow along the line into likely neighbours
        changed = False
        for i, t in enumerate(toks):
            if on[i] or fixed[i] or t.p < th.grow or t.keep >= th.keep_veto:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(toks) and on[j]:
                    a, b = sorted((i, j))
                    if "\n" not in text[toks[a].end : toks[b].start]:
                        on[i] = changed = True
                        break
    return [(_tag(t), t.start, t.end) for t, o in zip(toks, on, strict=True) if o]


def _terms(text: str, toks: Sequence[Token], th: Thresholds) -> list[bool]:
    """Tokens of a run the layers masked (one tag, one line) that the model holds a clinical
    term, every word of the run with k >= ``keep_veto`` (``Ann Arbor``, ``C50.4``) but for
    joining function words with p < ``add`` (``der``, ``of``): such a run is left whole or not
    at all, never half a date or number."""
    out = [False] * len(toks)
    i = 0
    while i < len(toks):
        tag = _layer_tag(toks[i])
        j = i + 1
        while (
            j < len(toks)
            and tag != "O"
            and _layer_tag(toks[j]) == tag
            and "\n" not in text[toks[j - 1].end : toks[j].start]
        ):
            j += 1
        words = [t for t in toks[i:j] if any(c.isalnum() for c in text[t.start : t.end])]
        held = [t.keep >= th.keep_veto for t in words]
        joins = [h or _joining(text, t, th) for h, t in zip(held, words, strict=True)]
        if tag != "O" and any(held) and all(joins):
            out[i:j] = [True] * (j - i)
        i = j
    return out


# function words that join the words of a clinical term (no name particle: not de, van, bin)
_JOINING = frozenset(
    re.findall(r"\S+", "der die das den dem des und of the and or et ou y och og mit with in im am")
    + ["an", "auf", "for", "pour", "per", "par"]
)


def _joining(text: str, t: Token, th: Thresholds) -> bool:
    """A function word the model does not hold an identifier (``der``, ``of``, ``und``): it
    does not keep a run of clinical words masked (``Malignes Melanom der Rückenhaut``); name
    particles (``de``, ``van``, ``bin``) and initials do."""
    return text[t.start : t.end] in _JOINING and t.p < th.add


def _clinical_word(text: str, t: Token) -> bool:
    word = text[t.start : t.end]
    return word.isalpha() and (is_clinical(word) or is_medical(word))


def _known_safe(text: str, t: Token) -> bool:
    """A clinical or medical word, or a common word in lower case (``no``, ``to``)."""
    word = text[t.start : t.end]
    if not word.isalpha():
        return False
    return is_clinical(word) or is_medical(word) or (word.islower() and is_common(word))


def _clinical_numbers(
    text: str, toks: Sequence[Token], masked_numbers: Sequence[Span]
) -> list[bool]:
    """Tokens of numbers the layers judge clinical by shape or neighbours (``36/40``, ``ER
    8/8``, ``2.5``): digits outside every number they would mask, and a mark joining two
    such digits with no space (the ``/`` of ``36/40``)."""
    digits = [
        any(c.isdigit() for c in text[t.start : t.end])
        and not any(a < t.end and t.start < b for _, a, b in masked_numbers)
        for t in toks
    ]
    out = list(digits)
    for i in range(1, len(toks) - 1):
        joined = toks[i - 1].end == toks[i].start and toks[i].end == toks[i + 1].start
        out[i] = out[i] or (joined and digits[i - 1] and digits[i + 1])
    return out


def _ends_sentence(text: str, t: Token) -> bool:
    """``.``, ``;``, ``!`` or ``?`` before a space or the end (not the dot of ``J.M.``), or a
    full-width ``。``, ``！``, ``？``, ``；`` (Chinese and Japanese put no space after them)."""
    mark = text[t.start : t.end]
    if mark in "。！？；．":
        return True
    return mark in ".;!?" and (t.end == len(text) or text[t.end].isspace())


def _layer_tag(t: Token) -> str:
    """The rules' tag, else the safe-word layer's, else ``O``."""
    return t.rules if t.rules != "O" else t.pipeline


def _tag(t: Token) -> str:
    """The rules' tag, else the safe-word layer's, else the model's."""
    tag = _layer_tag(t)
    return tag if tag != "O" else t.tag


@cache
def _tagger() -> Any:
    """The shipped model, opened once per process."""
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    with resources.as_file(resources.files("oncoseg.text").joinpath(MODEL_FILE)) as path:
        tagger.open(str(path))
    return tagger


def scored_tokens(
    text: str, rules: Sequence[Span], pipeline: Sequence[Span], tagger: Any = None
) -> list[Token]:
    """Each token of ``text`` with the model's probability and tag (``tagger``: an open
    ``pycrfsuite.Tagger``, by default the shipped model)."""
    toks, feats, rule_tag, pipe_tag = tagged_features(text, rules, pipeline)
    if not toks:
        return []
    if tagger is None:  # the shared tagger holds one sequence at a time: one thread at a time
        with _TAGGER_LOCK:
            scores = _marginals(feats, _tagger())
    else:
        scores = _marginals(feats, tagger)
    return [
        Token(s, e, p, tag, r, q, keep)
        for (s, e), (p, tag, keep), r, q in zip(toks, scores, rule_tag, pipe_tag, strict=True)
    ]


_TAGGER_LOCK = threading.Lock()


def _marginals(feats: list[Features], tagger: Any) -> list[tuple[float, str, float]]:
    """Per token: the probability of an identifier, the likeliest identifier kind, and the
    probability of a clinical term."""
    tagger.set(feats)
    labels = tagger.labels()
    kinds = [k for k in labels if k not in ("O", KEEP)]
    out = []
    for i in range(len(feats)):
        marg = {k: tagger.marginal(k, i) for k in kinds}
        keep = tagger.marginal(KEEP, i) if KEEP in labels else 0.0
        out.append((sum(marg.values()), max(marg, key=marg.__getitem__), keep))
    return out


# the shortest training note has 93 tokens: on a shorter text (a one-line note, a snippet)
# the model reads a letterhead into clinical words ("Glioma L frontal"), so the layers decide
MIN_TOKENS = 80


def reaches_model(text: str) -> bool:
    """Whether the model decides on ``text`` (``MIN_TOKENS`` tokens or more)."""
    return len(tokens(text)) >= MIN_TOKENS


def learned_spans(text: str, rules: Sequence[Span], pipeline: Sequence[Span]) -> list[Span]:
    """The spans to mask in ``text``, given the rules' and the pipeline's (the pipeline's
    alone on a text of fewer than ``MIN_TOKENS`` tokens)."""
    if not reaches_model(text):
        return list(pipeline)
    return decide(text, scored_tokens(text, rules, pipeline))
