"""Names and initials by where they stand in a note's signature (issue #33): the structure of
a sign-off, never a list of the names themselves.

- a name with its initials before a clinical credential (``Lee M.Y. RN``, ``Jo F. CNC``,
  ``Physics: Ji-hoon Park, MRT(T)``, ``– DS, PGY-2``);
- initials alone on the last line of a note (two letters, or three in lower case), after a
  dash at a line's start or after ``thx``/``thanks`` (``mk``, ``– DS``, ``thx BH``);
- initials in quotes or brackets right after a found name whose initials they are (``Juan
  Bautista ("JB")``, not ``Kenneth (MO)``), a nickname in quotes right after one
  (``Robert Jackson Jr. ("Bobby")``, ``Ignacio "Nacho"``);
- a name in lower case beside a role in brackets (``— aoife (cns)``, ``admin (kirsty)``);
- a user's login where a note is signed or logged: after a signer's label (``Protokoll fört
  av: jnordin01``, ``記載者: kmorita``, ``2nd check: teberle``, ``(user kalbrecht)``) or a
  dash at a line's start before a slash or on the note's last line
  (``— nbhargava / Dr Nidhi B.``), at the line's end or before a date, a slash or a bracket,
  when it is no word of any list (five letters or more);
- a typist's initials right after a reference or typing label and its date (``Our ref: GH/tk``,
  ``Typed: 13/02/25 (ht/jw)``, ``Dictated: RP/lp``), never a unit or a common word (``mg/dl``,
  ``and/or``).

Example:
    >>> t = "Plan as above.\\nQuinn T.R. RN\\nthx BH"
    >>> [(tag, t[s:e]) for tag, s, e in signoff_spans(t, [])]
    [('NAME', 'Quinn T.R.'), ('NAME', 'BH')]
"""

from __future__ import annotations

import re

from oncoseg.text.deid_vocab import (
    STOP,
    is_clinical,
    is_common,
    is_compound,
    is_foreign_common,
    is_medical_shape,
)

Span = tuple[str, int, int]
_CRED = (
    r"(?:RN|RGN|RMN|CNC|CNS|CNM|NP|APN|ANP|APRN|CRNA|LPN|MRT(?:\([A-Z]\))?|RTT|PGY-?\d|"
    r"FY[12]|SHO|SpR|StR|RMO|JMO|PA-C|PharmD|RPh|HCA|MO|HO)(?![\w\-])"
)
_NAME_WORD = r"(?:[A-Z][a-zß-öø-ÿ]+(?:-[A-Za-zß-öø-ÿ]+)?|[A-Z]\.(?:[ \t]?[A-Z]\.)*)"
_NAME_CRED = re.compile(
    rf"(?:^|(?<=:)|(?<=[-–—]))[ \t]*({_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,2}})[ \t]*,?[ \t]*"
    rf"{_CRED}",
    re.M,
)
_INITIALS_LINE = re.compile(
    rf"^[ \t]*(?P<dash>[-–—~][ \t]*)?(?P<ini>[A-Za-z]{{2,3}})[ \t]*(?:,[ \t]*{_CRED}[^\n]*)?$",
    re.M,
)
_THANKS = re.compile(r"\b(?i:thx|thanks|ty|tks|cheers)[ \t,]+([A-Z]{2,3}|[a-z]{2,3})[ \t.]*$", re.M)
_ALIAS = re.compile(r"[ \t]*[(\"“]{1,2}[ \t]*([A-Z]{2,3})[ \t]*[)\"”]{1,2}")
_NICKNAME = re.compile(  # Robert Jackson Jr. ("Bobby"), Ignacio "Nacho"
    r"(?:,?[ \t]+(?:Jr|Sr|Jnr|Snr|II|III)\.?)?[ \t]*\(?[ \t]*[\"“]"
    r"([A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]{1,15}(?:[ \t\-][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]{1,15})?)[\"”]"
)
_ROLE = r"(?i:cns|rn|nurse|admin|sec|secretary|dietitian|physio|pharmacist|sw|hca|fy[12]|sho|reg)"
_LOWER_ROLE = re.compile(
    rf"(?<![\w'’])([a-z][a-z'’\-]{{2,}})[ \t]*\({_ROLE}\)|\b{_ROLE}[ \t]*\(([a-z][a-z'’\-]{{2,}})\)"
)
_SIGNER = (
    r"(?i:by|av|von|par|por|door|af|check|checked|signed|signature|author|user|login|entered|"
    r"documented|verified|reviewed|approved|typed|scribe|operator|utente|usuario|usuário|"
    r"utilisateur|benutzer|bruker|käyttäjä|gebruiker|記載者|作成者|記録者|入力者)"
)
_LOGIN_WORD = r"([a-z]{2,15}\d{0,3}|[a-z]{1,3}\.[a-z]{3,15}\d{0,3})"
_LOGIN = re.compile(
    rf"(?:\b{_SIGNER}[ \t]*:|\b(?i:user(?:name)?|login|uid)[ \t]*[:=#]?)[ \t]*{_LOGIN_WORD}"
    r"(?=[ \t]*(?:$|[/()]|\d{1,4}[./\-]\d|[–—]|-[ \t]))",
    re.M,
)
# a dash at a line's start: only before a slash ("— nbhargava / Dr B.") or on the last line
_DASH_LOGIN = re.compile(rf"^[ \t]*[–—-][ \t]*{_LOGIN_WORD}(?=[ \t]*(?:/|$(?![\s\S]*\S)))", re.M)
_TYPIST = re.compile(
    r"\b(?i:typed|dictated|transcribed|our[ \t]+ref|your[ \t]+ref|ref)\b[ \t:.]*"
    r"(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}[ \t]*)?\(?([A-Za-z]{2,3})/([a-z]{2,3})\b"
)
_UNITS = frozenset(
    re.findall(r"\S+", "mg ug µg ng pg g kg ml dl l mm cm iu mu u mcg meq min hr h d wk mol")
)


def _unknown(word: str) -> bool:
    """A login's letters (five or more) that are no word of any list: ``jnordin``."""
    low = re.sub(r"[\d.]", "", word)
    known = _plain(low) or is_foreign_common(low) or is_compound(low) or is_medical_shape(low)
    return len(low) >= 5 and not known


def login_spans(text: str) -> list[Span]:
    """Logins and typists' initials (the last two kinds above): taken by the rules too, as
    their labels make them sure."""
    logins = [*_LOGIN.finditer(text), *_DASH_LOGIN.finditer(text)]
    out = [("NAME", *m.span(1)) for m in logins if _unknown(m.group(1))]
    for m in _TYPIST.finditer(text):
        parts = (m.group(1).lower(), m.group(2))
        common = any(len(p) >= 3 and is_common(p) for p in parts)  # and/or, neg/pos
        if not set(parts) & _UNITS and not common:  # mg/dl
            out += [("NAME", *m.span(1)), ("NAME", *m.span(2))]
    return out


def _plain(word: str) -> bool:
    """A word that is no name: common, clinical or a label."""
    return is_common(word.lower()) or is_clinical(word) or word.capitalize() in STOP


def _initials_of(alias: str, name: str) -> bool:
    """``JM`` of ``Juan Miguel Bautista``: each letter a word's initial, in order (not a role
    in brackets such as ``(MO)``, ``(HCP)``)."""
    initials = "".join(w[0] for w in re.findall(r"[^\W\d_]+", name)).upper()
    it = iter(initials)
    return all(ch in it for ch in alias)


def _name_cred(text: str) -> list[Span]:
    out = []
    for m in _NAME_CRED.finditer(text):
        words = re.findall(r"[A-Za-zß-öø-ÿ]{2,}", m.group(1))
        if words and not any(w in STOP or is_clinical(w) for w in words):
            out.append(("NAME", *m.span(1)))
    return out


def _initials(text: str) -> list[Span]:
    out = []
    last = text.rstrip()
    for m in _INITIALS_LINE.finditer(text):
        ini = m.group("ini")
        at_end = m.end() >= len(last) and (ini.islower() or len(ini) == 2)  # not "NAD"
        if (m.group("dash") or at_end) and not _plain(ini):
            out.append(("NAME", *m.span("ini")))
    out += [("NAME", *m.span(1)) for m in _THANKS.finditer(text) if not _plain(m.group(1))]
    return out


def signoff_spans(text: str, spans: list[Span]) -> list[Span]:
    """Spans of the names above; ``spans``: those found already (for aliases)."""
    out = _name_cred(text) + _initials(text)
    for _, s, e in (sp for sp in spans if sp[0] == "NAME"):
        m = _ALIAS.match(text, e)
        if m and _initials_of(m.group(1), text[s:e]):
            out.append(("NAME", *m.span(1)))
        m = _NICKNAME.match(text, e)
        if m and not is_clinical(m.group(1)):
            out.append(("NAME", *m.span(1)))
    for m in _LOWER_ROLE.finditer(text):
        g = 1 if m.group(1) else 2
        if not _plain(m.group(g)):
            out.append(("NAME", *m.span(g)))
    return out
