"""The learned layer of the de-identifier: a CRF that decides, word by word, what to mask.

The rules and the safe-word layer (``text.deid``) reach 0.88-0.96 recall on each new blind
corpus, whatever they reach on the notes they were written on. This layer is trained on how
they behave on notes they had *not* seen: for each of the held-out corpora v2-v7 the features
hold the spans the de-identifier of the commit that first scored that corpus found (rules alone
and the whole pipeline; tests/text/deid_blind_spans.json.gz), beside the word's shape, the word
lists' verdicts and its neighbours. So the model learns when the layers miss (a ward written in
lower case, a foreign street) and when they over-mask (a capitalised clinical word they do not
know), not that they are always right.

A linear-chain CRF (CRFsuite, via python-crfsuite) gives each token its probability of being
part of an identifier; the decision (``decide``) is a hysteresis on it:

- a token is masked when its probability is at least ``add``, when the rules alone mask it
  (unless the model is near sure it is safe: below ``rules_veto``) or when the whole pipeline
  masks it and the probability is at least ``pipeline_veto``;
- masked tokens then grow along their line into neighbours whose probability is at least
  ``grow`` (the rest of ``Queen Eleanor University Hospitals``).

The thresholds (``THRESHOLDS``) were chosen by leave-one-corpus-out on v2-v7 (train on five,
decide on the sixth with its blind-time spans), maximising the smaller of mean recall and mean
clinical terms kept; docs/text.md has the figures. The model file ships with the package and is
rebuilt by ``python -m oncoseg.text.deid_train``.
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

from oncoseg.text.deid_keep import kept_spans
from oncoseg.text.deid_names import PROTECT, TITLES, given_names
from oncoseg.text.deid_rules import GENERIC
from oncoseg.text.deid_vocab import STOP, is_clinical, is_common, is_medical, is_name_word

MODEL_FILE = "deid_crf.model"
Span = tuple[str, int, int]  # (tag, start, end)
Features = dict[str, float]

_TOKEN = re.compile(r"[^\W_]+|\S")
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
    rules_veto: float = 0.0  # the rules alone are precise (0.98): their spans always stay


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


def _tag_at(spans: Sequence[Span], s: int, e: int) -> str:
    return next((tag for tag, a, b in spans if a < e and s < b), "O")


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
    rule_tag = [_tag_at(rules, s, e) for s, e in toks]
    pipe_tag = [_tag_at(pipeline, s, e) for s, e in toks]
    out: list[Features] = []
    for i, (s, _) in enumerate(toks):
        line_start = text.rfind("\n", 0, s) + 1
        f: Features = {"bias": 1.0}
        _encode(base[i], f)
        _encode({"lpos": str(min(len(_TOKEN.findall(text, line_start, s)), 4))}, f)
        _encode({"colon_before": ":" in text[line_start:s]}, f)
        _encode({"nl": i == 0 or "\n" in text[toks[i - 1][1] : s]}, f)
        for d in (-2, -1, 1, 2):
            j = i + d
            if not 0 <= j < len(toks):
                f[f"{d}:edge"] = 1.0
                continue
            near = {k: base[j][k] for k in _CONTEXT}
            if "w" in base[j]:
                near["w"] = base[j]["w"]
            elif not base[j]["alpha"] and not base[j]["hasdigit"]:
                near["w"] = words[j]  # punctuation: ":", "#", "("
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
    return [_tag_at(identifiers, s, e) for s, e in toks]


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    p: float  # probability of being part of an identifier
    tag: str  # the model's most likely identifier kind
    rules: str  # the rules' tag, or "O"
    pipeline: str  # the whole pipeline's tag, or "O"


def protected(text: str) -> list[tuple[int, int]]:
    """Text no layer masks: eponyms (``pouch of Douglas``) and terms kept by their context
    (``Bristol stool type 5``), as text.deid protects them from the rules."""
    return [m.span() for m in PROTECT.finditer(text)] + kept_spans(text)


def decide(text: str, toks: Sequence[Token], th: Thresholds = THRESHOLDS) -> list[Span]:
    """The tokens to mask (see the module docstring), with a tag each; the model does not
    mask protected text (``protected``) that the rules left."""
    keep = protected(text)
    safe = [t.rules == "O" and any(a < t.end and t.start < b for a, b in keep) for t in toks]
    on = [
        t.p >= th.add
        or (t.rules != "O" and t.p >= th.rules_veto)
        or (t.pipeline != "O" and t.p >= th.pipeline_veto)
        for t in toks
    ]
    changed = True
    while changed:  # grow along the line into likely neighbours
        changed = False
        for i, t in enumerate(toks):
            if on[i] or safe[i] or t.p < th.grow:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(toks) and on[j]:
                    a, b = sorted((i, j))
                    if "\n" not in text[toks[a].end : toks[b].start]:
                        on[i] = changed = True
                        break
    return [
        (_tag(t), t.start, t.end) for t, o, k in zip(toks, on, safe, strict=True) if o and not k
    ]


def _tag(t: Token) -> str:
    if t.p >= 0.5 or (t.rules == "O" and t.pipeline == "O"):
        return t.tag
    return t.rules if t.rules != "O" else t.pipeline


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
            return _score(toks, feats, rules, pipeline, _tagger())
    return _score(toks, feats, rules, pipeline, tagger)


_TAGGER_LOCK = threading.Lock()


def _score(
    toks: list[tuple[int, int]],
    feats: list[Features],
    rules: Sequence[Span],
    pipeline: Sequence[Span],
    tagger: Any,
) -> list[Token]:
    tagger.set(feats)
    kinds = [k for k in tagger.labels() if k != "O"]
    out = []
    for i, (s, e) in enumerate(toks):
        marg = {k: tagger.marginal(k, i) for k in kinds}
        tag = max(marg, key=marg.__getitem__)
        p = 1.0 - tagger.marginal("O", i)
        out.append(Token(s, e, p, tag, _tag_at(rules, s, e), _tag_at(pipeline, s, e)))
    return out


def learned_spans(text: str, rules: Sequence[Span], pipeline: Sequence[Span]) -> list[Span]:
    """The spans to mask in ``text``, given the rules' and the pipeline's."""
    return decide(text, scored_tokens(text, rules, pipeline))
