"""Names and facilities written in Chinese, Japanese or Korean script, where no capital letter
marks a name: found by what stands around them, never by a list of names.

- a facility: a run of these characters that ends in a facility word (``…病院``, ``…医院``,
  ``…クリニック``, ``…センター``, ``…병원``, ``…病区``), the whole run;
- a person: a run of two to four characters (or two short runs, family name and given
  name, ``山田 花子``) after a label that names a person (``姓名``, ``患者氏名``, ``主治医师``,
  ``院長``, ``儿子``) or before an honorific (``先生``, ``様``, ``さん``, ``님``).

The labels and honorifics themselves are kept, and so is every other run: clinical words
in these scripts (``肺腺癌``, ``紫杉醇``) have no mark that a list of them would add.

Example:
    >>> t = "紹介元: 葛西さくらクリニック 院長 中島 恵美"
    >>> [(tag, t[s:e]) for tag, s, e in cjk_spans(t)]
    [('LOCATION', '葛西さくらクリニック'), ('NAME', '中島 恵美')]
"""

from __future__ import annotations

import re

Span = tuple[str, int, int]
# Chinese characters (with the iteration mark of 佐々木) and Japanese kana; then Korean syllables
HAN_KANA = "\u3005\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = HAN_KANA + "\uac00-\ud7af"
# words that label a person or address one (kept: they say who, not which one)
CJK_LABELS = frozenset(
    re.findall(
        r"\S+",
        """姓名 氏名 患者氏名 患者名 患者 病人 主治医师 主治医生 主治医 医师 医生 醫師 醫生
        担当医 主治医師 院長 院长 主任 科长 护士 護士 看護師 儿子 女儿 兒子 女兒 丈夫 妻子
        母亲 父亲 母親 父親 家属 家屬 联系人 紹介医 紹介元 先生 様 さま さん 殿 님 씨 환자
        담당의 보호자 주치의 住院号 门诊号 御侍史 御机下""",
    )
)
_FACILITY = re.compile(
    rf"(?<![\w])[\w\-]*?(?:病院|医院|醫院|クリニック|センター|診療所|诊所|衛生所|病区|病棟|病房|"
    rf"병원|의원|센터|병동)(?![{CJK}])"
)
_LABEL = "|".join(sorted((w for w in CJK_LABELS if len(w) > 1), key=len, reverse=True))
_LABEL_RE = re.compile(rf"(?:{_LABEL}|\b(?i:name))[ \t\u3000]*[:：]?[ \t\u3000]*")
_NAMES = (  # family and given name apart, or one run
    re.compile(rf"[{CJK}]{{1,4}}[ \t\u3000][{CJK}]{{1,3}}(?![{CJK}])"),
    re.compile(rf"[{CJK}]{{2,4}}(?![{CJK}])"),
)
_NAMES_BEFORE = (
    re.compile(rf"(?<![{CJK}])([{CJK}]{{1,4}}[ \t\u3000][{CJK}]{{1,3}})[ \t\u3000]*$"),
    re.compile(rf"(?<![{CJK}])([{CJK}]{{2,4}})[ \t\u3000]*$"),
)
_HONORIFIC = re.compile(rf"[ \t\u3000]*(?:先生|様|さま|さん|殿|님|씨)(?![{CJK}])")


def _is_name(run: str) -> bool:
    return not any(p in CJK_LABELS for p in run.split())


def _name_at(text: str, pos: int) -> tuple[int, int] | None:
    for pattern in _NAMES:
        m = pattern.match(text, pos)
        if m and _is_name(m.group(0)):
            return m.span()
    return None


def cjk_spans(text: str) -> list[Span]:
    """Facilities and persons written in these scripts (see the module doc)."""
    out: list[Span] = [("LOCATION", *m.span()) for m in _FACILITY.finditer(text)]
    for m in _LABEL_RE.finditer(text):
        span = _name_at(text, m.end())
        out += [("NAME", *span)] if span else []
    for m in _HONORIFIC.finditer(text):
        window = text[max(0, m.start() - 10) : m.start()]
        for pattern in _NAMES_BEFORE:
            n = pattern.search(window)
            if n and _is_name(n.group(1)):
                end = m.start() - (len(window) - n.end(1))
                out.append(("NAME", end - len(n.group(1)), end))
                break
    return sorted(out, key=lambda t: t[1])
