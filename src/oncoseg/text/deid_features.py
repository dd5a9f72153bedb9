"""The learned de-identification layer's tokens and features (``text.deid_learned``).

Each token's features: its shape, case, script, affixes, the word lists' verdicts (English,
clinical, medical, names, frequent in another language, a compound of known words), the word
itself only when a list knows it (the model must not learn names by heart; a single Chinese or
Japanese character is the exception, as in any tagger of those languages, so the characters of
frequent surnames are learned), its line, its two neighbours on each side, and what the rules
alone and the whole pipeline made of it and of the tokens beside it. Training labels: an
identifier's kind, ``KEEP`` for a clinical term, else ``O``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from oncoseg.text.deid_cjk import HAN_KANA
from oncoseg.text.deid_names import TITLES, given_names
from oncoseg.text.deid_rules import GENERIC
from oncoseg.text.deid_vocab import (
    STOP,
    is_clinical,
    is_common,
    is_compound,
    is_foreign_common,
    is_medical,
    is_name_word,
)

Span = tuple[str, int, int]  # (tag, start, end)
Features = dict[str, float]

# a word: letters and digits with the combining marks of their script (a Devanagari or Thai
# vowel sign, an accent typed apart), so "राहुल" or "สมศรี" is one token, not five
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0900-\u0dff"
    "\u0e00-\u0eff\u1000-\u109f\u1ab0-\u1aff\u1dc0-\u1dff\u3099\u309a"
)
# Chinese and Japanese are read one character at a time (as their named-entity taggers do):
# a run of them is a sentence, not a word, and a date or a name is a few characters of it
_CJK = HAN_KANA
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_]|[{_MARKS}])+|\S")
_TITLE = re.compile(rf"{TITLES}\.?$")
_GENERIC = frozenset(g.lower() for g in GENERIC)
_CONTEXT = (
    *("shape", "title", "upper", "digit", "common", "clin", "given", "nameword", "gen"),
    *("titleword", "stop", "foreign"),
)
# morphemes of clinical words in Chinese, Japanese and Korean (cancer, surgery, resection,
# metastasis, chemotherapy, organs, examinations); rare in personal names, never in all of them
_CJK_CLINICAL = re.compile(
    "[癌瘤腫肿術术症炎療疗転转淋腺肺肝胃腸肠膵胰腎肾膀胱巣巢痛薬药剤剂錠鏡镜胞髄髓胆頸颈喉咽"
    "診诊検检査查疾患移除]|암|절제|수술|검사|치료|전이|병기|림프|종양|항암|방사선|화학|요법|"
    "유방|갑상선|대장|세포|조직|생검|내시경|초음파|혈액|소견|진단|재발"
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_KATAKANA = re.compile(r"[\u30a0-\u30ff]+")


def tokens(text: str) -> list[tuple[int, int]]:
    """Words (runs of letters and digits), single Chinese or Japanese characters and single
    other characters, as spans."""
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


def _affixes(low: str) -> dict[str, str]:
    """A long word's longer affixes: the Greek and Latin parts clinical words share across
    languages (``-ektomie``, ``-karsinom``, ``-grafi``, ``chemo-``) and the endings of surnames
    (``-escu``, ``-sson``). None is the word itself, though the prefix and a suffix of a word
    of seven or eight letters span it (the model weighs each affix apart, over all the words
    that share it)."""
    if len(low) < 7 or not low.isalpha():
        return {}
    return {"suf4": low[-4:], "suf5": low[-5:], "pre3": low[:3]}


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
        "foreign": is_foreign_common(low),  # the list holds no digits or punctuation
        "compound": is_compound(low),
        "suf3": "" if word.isdigit() else low[-3:],
        "pre2": low[:2] if word.isalpha() else "",
    }
    f.update(_affixes(low))
    if (known and not word.isdigit()) or _CJK_CHAR.fullmatch(word):
        f["w"] = low  # only words a list knows (or one character): no names by heart
    if not word.isascii():
        f["cjkclin"] = str(min(len(_CJK_CLINICAL.findall(word)), 2))
        f["kana"] = bool(_KATAKANA.fullmatch(word))
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
    toks, feats, _, _ = tagged_features(text, rules, pipeline)
    return toks, feats


def tagged_features(
    text: str, rules: Sequence[Span], pipeline: Sequence[Span]
) -> tuple[list[tuple[int, int]], list[Features], list[str], list[str]]:
    """:func:`features`, and each token's tag from ``rules`` and from ``pipeline``
    (:func:`tags_of`, computed once for both)."""
    toks = tokens(text)
    words = [text[s:e] for s, e in toks]
    base = [_word_features(w) for w in words]
    rule_tag, pipe_tag = tags_of(toks, rules), tags_of(toks, pipeline)
    masked_words = {  # words the layers masked somewhere in the note
        w.lower() for w, t in zip(words, pipe_tag, strict=True) if t != "O" and w.isalpha()
    }
    out: list[Features] = []
    in_line = colon = 0  # tokens before this one on its line; a ":" among them
    for i, (s, _) in enumerate(toks):
        new_line = i == 0 or "\n" in text[toks[i - 1][1] : s]
        if new_line:
            in_line = colon = 0
        f: Features = {"bias": 1.0}
        _encode(base[i], f)
        low = words[i].lower()
        if pipe_tag[i] == "O" and len(low) > 1 and low in masked_words:
            f["elsewhere"] = 1.0  # masked where it stands elsewhere in the note
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
    return toks, out, rule_tag, pipe_tag


KEEP = "KEEP"  # the label of a clinical term's tokens


def token_labels(
    toks: Sequence[tuple[int, int]],
    identifiers: Sequence[Span],
    terms: Sequence[tuple[int, int]] = (),
) -> list[str]:
    """The kind of the identifier each token overlaps, else ``KEEP`` for a clinical term's
    token, else ``O`` (training labels)."""
    return tags_of(toks, [*identifiers, *((KEEP, a, b) for a, b in terms)])
