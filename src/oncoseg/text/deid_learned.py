"""The learned layer of the de-identifier: a CRF that decides, word by word, what to mask.

The rules and the safe-word layer (``text.deid``) reach 0.88-0.96 recall on each new blind
corpus, whatever they reach on the notes they were written on. This layer is trained on how
they behave on notes they had *not* seen: for each of the held-out corpora v2-v8 the features
hold the spans the de-identifier of the commit that first scored that corpus found (rules alone
and the whole pipeline; tests/text/deid_blind_spans.json.gz), beside the word's shape, the word
lists' verdicts and its neighbours. So the model learns when the layers miss (a ward written in
lower case, a foreign street) and when they over-mask (a capitalised clinical word they do not
know), not that they are always right.

A linear-chain CRF (CRFsuite, via python-crfsuite) gives each token its probability p of being
part of an identifier; the decision (``decide``):

- the rules' spans always stay (``rules_veto`` 0: their precision on blind sets is 0.97-0.98);
- a span of the safe-word layer stays when p >= ``pipeline_veto``;
- the model adds a token when p >= ``add``, unless it is known to be safe (a clinical or
  medical word, a common word in lower case, a number the layers judge clinical);
- masked tokens grow along their line, within a sentence, into neighbours with p >= ``grow``
  (the rest of ``Queen Eleanor University Hospitals``, ``Cancer`` in a hospital's name);
- protected text (eponyms, terms kept by context) and a sentence's closing mark are never
  masked by the model.

The thresholds (``THRESHOLDS``) were chosen by leave-one-corpus-out on v2-v8 (train on all but
one, decide on that one with its blind-time spans), maximising the smaller of mean recall and
mean clinical terms kept (``python -m oncoseg.text.deid_train --grid``); docs/text.md has the
figures. The model file ships with the package and is rebuilt by ``python -m
oncoseg.text.deid_train``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from oncoseg.text.deid_keep import protected_spans
from oncoseg.text.deid_names import TITLES, given_names
from oncoseg.text.deid_numbers import number_spans
from oncoseg.text.deid_rules import GENERIC
from oncoseg.text.deid_vocab import STOP, is_clinical, is_common, is_medical, is_name_word

MODEL_FILE = "deid_crf.model"
Span = tuple[str, int, int]  # (tag, start, end)
Features = dict[str, float]

# a word: letters and digits with the combining marks of their script (a Devanagari or Thai
# vowel sign, an accent typed apart), so "राहुल" or "สมศรี" is one token, not five
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0900-\u0dff"
    "\u0e00-\u0eff\u1000-\u109f\u1ab0-\u1aff\u1dc0-\u1dff\u3099\u309a"
)
_TOKEN = re.compile(rf"(?:[^\W_]|[{_MARKS}])+|\S")
_TITLE = re.compile(rf"{TITLES}\.?$")
_GENERIC = frozenset(g.lower() for g in GENERIC)
_CONTEXT = (
    *("shape", "title", "upper", "digit", "common", "clin", "given", "nameword", "gen"),
    *("titleword", "stop"),
)


@dataclass(frozen=True)
class Thresholds:
    add: float = 0.3
    grow: float = 0.02
    pipeline_veto: float = 0.02
    rules_veto: float = 0.0  # the rules' spans always stay


THRESHOLDS = Thresholds()


def tokens(text: str) -> list[tuple[int, int]]:
    """Words (runs of letters and digits) and single other characters, as spans."""
    return [m.span() for m in _TOKEN.finditer(text)]


def _shape(word: str) -> str:
    out = []
    for ch in word:
        if ch.isdigit():
            out.append("d")
        elif ch.isalpha():
            upper = ch.isupper()
            out.append(("X" if upper else "x") if ch.isascii() else ("U" if upper else "l"))
        else:
            out.append("o")
    return re.sub(r"(.)\1{2,}", r"\1\1", "".join(out))[:8]


def _script(word: str) -> str:
    if word[0].isascii():
        return "ascii"
    try:
        return unicodedata.name(word[0]).split()[0]
    except ValueError:
        return "other"


def _word_features(word: str) -> dict[str, Any]:
    low = word.lower()
    known = is_common(low) or is_clinical(word) or low in STOP or word in STOP
    f: dict[str, Any] = {
        "shape": _shape(word),
        "title": word[:1].isupper() and word[1:].islower(),
        "upper": word.isupper(),
        "digit": word.isdigit(),
        "hasdigit": any(c.isdigit() for c in word),
        "alpha": word.isalpha(),
        "len": str(min(len(word), 10)),
        "common": is_common(low),
        "clin": is_clinical(word),
        "med": is_medical(word),
        "nameword": is_name_word(low),
        "given": word.isalpha() and word.capitalize() in given_names(),
        "stop": word in STOP or low in STOP,
        "gen": low in _GENERIC,
        "titleword": bool(_TITLE.match(word)),
        "script": _script(word),
        "suf3": "" if word.isdigit() else low[-3:],
        "pre2": low[:2] if word.isalpha() else "",
    }
    if known and not word.isdigit():
        f["w"] = low  # only words a list knows: the model must not learn names by heart
    if not word.isascii():
        for i, ch in enumerate(word):
            f[f"c{i % 4}"] = ch  # characters of scripts without spaces (CJK, Thai)
    return f


def tags_of(toks: Sequence[tuple[int, int]], spans: Sequence[Span]) -> list[str]:
    """Each token's tag: that of the leftmost span it overlaps (spans disjoint), or ``O``;
    one pass over the characters, not tokens x spans."""
    end = max([e for _, _, e in spans] + [e for _, e in toks] + [0])
    mask: list[str | None] = [None] * end
    for tag, a, b in spans:
        for i in range(max(0, a), b):
            mask[i] = mask[i] or tag
    return [next((m for m in mask[s:e] if m), "O") for s, e in toks]


def _encode(f: dict[str, Any], out: Features, prefix: str = "") -> None:
    for key, value in f.items():
        if isinstance(value, bool):
            if value:
                out[prefix + key] = 1.0
        else:
            out[f"{prefix}{key}={value}"] = 1.0


def features(
    text: str, rules: Sequence[Span], pipeline: Sequence[Span]
) -> tuple[list[tuple[int, int]], list[Features]]:
    """Tokens of ``text`` and each one's features: its word, its line position, its two
    neighbours on each side, and what the rules alone (``rules``) and the whole pipeline
    (``pipeline``) made of it and of the tokens beside it."""
    toks = tokens(text)
    words = [text[s:e] for s, e in toks]
    base = [_word_features(w) for w in words]
    rule_tag, pipe_tag = tags_of(toks, rules), tags_of(toks, pipeline)
    out: list[Features] = []
    in_line = colon = 0  # tokens before this one on its line; a ":" among them
    for i, (s, _) in enumerate(toks):
        new_line = i == 0 or "\n" in text[toks[i - 1][1] : s]
        if new_line:
            in_line = colon = 0
        f: Features = {"bias": 1.0}
        _encode(base[i], f)
        _encode({"lpos": str(min(in_line, 4)), "colon_before": bool(colon), "nl": new_line}, f)
        in_line += 1
        colon = colon or words[i] == ":"
        for d in (-2, -1, 1, 2):
            j = i + d
            if not 0 <= j < len(toks):
                f[f"{d}:edge"] = 1.0
                continue
            near = {k: base[j][k] for k in _CONTEXT}
            if "w" in base[j]:
                near["w"] = base[j]["w"]
            elif not any(c.isalnum() for c in words[j]):
                near["w"] = words[j]  # punctuation: ":", "#", "(" (never a word by heart)
            a, b = sorted((i, j))
            near["nlgap"] = "\n" in text[toks[a][1] : toks[b][0]]
            _encode(near, f, f"{d}:")
        for d in (-1, 0, 1):
            j = i + d
            if 0 <= j < len(toks):
                f[f"{d}:rule={rule_tag[j]}"] = 1.0
                f[f"{d}:all={pipe_tag[j]}"] = 1.0
                if pipe_tag[j] != "O" and rule_tag[j] == "O":
                    f[f"{d}:safeonly"] = 1.0
        out.append(f)
    return toks, out


def token_labels(toks: Sequence[tuple[int, int]], identifiers: Sequence[Span]) -> list[str]:
    """The kind of the identifier each token overlaps, ``O`` for none (training labels)."""
    return tags_of(toks, identifiers)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    p: float  # probability of being part of an identifier
    tag: str  # the model's most likely identifier kind
    rules: str  # the rules' tag, or "O"
    pipeline: str  # the whole pipeline's tag, or "O"


def decide(text: str, toks: Sequence[Token], th: Thresholds = THRESHOLDS) -> list[Span]:
    """The tokens to mask (see the module docstring), with a tag each. Of what the layers
    left, protected text (an eponym, a term kept by its context) and a sentence's closing
    mark are never masked (so growth stops at the end of a sentence), and a word known to be
    safe (``_known_safe``) only by growth from a neighbour (``Cancer`` in a hospital's name),
    never on the model's word alone."""
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
    on = [
        not g
        and (
            t.p >= th.add
            or (t.rules != "O" and t.p >= th.rules_veto)
            or (t.pipeline != "O" and t.p >= th.pipeline_veto)
        )
        for t, g in zip(toks, guard, strict=True)
    ]
    changed = True
    while changed:  # grow along the line into likely neighbours
        changed = False
        for i, t in enumerate(toks):
            if on[i] or fixed[i] or t.p < th.grow:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(toks) and on[j]:
                    a, b = sorted((i, j))
                    if "\n" not in text[toks[a].end : toks[b].start]:
                        on[i] = changed = True
                        break
    return [(_tag(t), t.start, t.end) for t, o in zip(toks, on, strict=True) if o]


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
    """``.``, ``;``, ``!`` or ``?`` before a space or the end (not the dot of ``J.M.``)."""
    return text[t.start : t.end] in ".;!?" and (t.end == len(text) or text[t.end].isspace())


def _tag(t: Token) -> str:
    """The rules' tag, else the safe-word layer's, else the model's."""
    return t.rules if t.rules != "O" else t.pipeline if t.pipeline != "O" else t.tag


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
    toks, feats = features(text, rules, pipeline)
    if not toks:
        return []
    if tagger is None:  # the shared tagger holds one sequence at a time: one thread at a time
        with _TAGGER_LOCK:
            scores = _marginals(feats, _tagger())
    else:
        scores = _marginals(feats, tagger)
    rule_tag, pipe_tag = tags_of(toks, rules), tags_of(toks, pipeline)
    return [
        Token(s, e, p, tag, r, q)
        for (s, e), (p, tag), r, q in zip(toks, scores, rule_tag, pipe_tag, strict=True)
    ]


_TAGGER_LOCK = threading.Lock()


def _marginals(feats: list[Features], tagger: Any) -> list[tuple[float, str]]:
    """Per token: the probability of an identifier, and the likeliest identifier kind."""
    tagger.set(feats)
    kinds = [k for k in tagger.labels() if k != "O"]
    out = []
    for i in range(len(feats)):
        marg = {k: tagger.marginal(k, i) for k in kinds}
        out.append((1.0 - tagger.marginal("O", i), max(marg, key=marg.__getitem__)))
    return out


def learned_spans(text: str, rules: Sequence[Span], pipeline: Sequence[Span]) -> list[Span]:
    """The spans to mask in ``text``, given the rules' and the pipeline's."""
    return decide(text, scored_tokens(text, rules, pipeline))
