"""Names typed in lower case (portal messages, quick ward notes): ``husband declan rang``,
``this is kofi, son of akosua mensah``, ``pt name: hill, frank``, ``m. o'connor``.

A capital is what the safe-word layer (text.deid_safe) looks for, so a name in lower case
passes it unless it is a listed given name. Here a lower-case word is judged by what it is
and where it stands:

- *strong*: a given name (``carmen``), a name's shape (``o'neill``, ``mcgrath``) or a word no
  list knows (``mensah``, ``declan``; not a common, clinical or foreign word);
- *weak*: a name that is also a word (``hill``, ``young``, ``hunter``);

and a strong word after a context that introduces a person (a title, a relation, ``this
is``, ``from:``, ``name:``, ``pt``), or a weak one there that ends the phrase (``pt young -
re-plan``), is a name; so is the next strong or weak word (the surname), and a strong word
before ``'s husband``. A given name or a name's shape found anywhere takes its surname and
initial with it (``gary hunter``, ``m. o'connor``).

Example:
    >>> t = "Husband declan rang; this is kofi, son of akosua mensah."
    >>> [t[s:e] for s, e in lowercase_names(t)]
    ['declan', 'kofi', 'akosua mensah']
"""

from __future__ import annotations

import re

from oncoseg.text.deid_cognates import is_cognate_clinical
from oncoseg.text.deid_intl import LOWER_TITLES
from oncoseg.text.deid_names import given_names
from oncoseg.text.deid_vocab import STOP, is_clinical, is_common, is_medical_shape, is_name_word

_WORD = re.compile(r"(?<![\w'’\-])[a-zß-öø-ÿ](?:[a-zß-öø-ÿ]|['’\-](?=[a-zß-öø-ÿ]))*(?![\w'’])")
_PARTICLES = re.compile(
    r"(?:(?:de|da|di|du|del|della|dos|das|do|van|von|der|den|la|le|ter|ten|bin|binti|al|el|"
    r"ibn|mac|ní|nic|ó)[ \t]+)*"
)
_RELATION = (
    r"husband|wife|partner|son|daughter|mother|father|mum|mom|dad|brother|sister|niece|nephew|"
    r"aunt|uncle|grandson|granddaughter|grandmother|grandfather|carer|caregiver|friend|"
    r"neighbou?r|fianc[ée]e?|cousin"
)
# what introduces a person; "label" contexts allow "surname, given" after them
_ROLES = r"rn|rgn|fy[12]|sho|spr|cns|hca|reg|cons"  # ward roles before a name: "RN jasmine"
_CONTEXT = re.compile(
    rf"(?i:\b(?P<title>{LOWER_TITLES}|{_ROLES}|(?:mr|ms|mx)(?=\.?[ \t]+[a-z]\.))\.?[ \t]+|"
    rf"\b(?P<label>(?:(?:pt|patient)[ \t]+)?name|from|to|caller|contact|nok|next[ \t]+of[ \t]+kin|"
    r"patient|pt|sent[ \t]+by|cc)[ \t]*:[ \t]*|"
    rf"\b(?:{_RELATION})(?:-in-law)?(?:[ \t]+of)?[ \t]*[,:(]?[ \t]*|\b[wsdc]/o[ \t]+|"
    r"\b(?:this[ \t]+is|i[ \t]+am|i['’]m|my[ \t]+name[ \t]+is|it['’]?s|spoke[ \t]+(?:to|with)|"
    r"handed[ \t]+over[ \t]+(?:by|to)|(?:seen|reviewed|discussed|called|phoned|rang|emailed|"
    r"texted|accompanied)[ \t]+(?:by|with))[ \t]+|"
    r"\b(?P<pt>pt|patient)[ \t]*\(?[ \t]*)"
)
_ENDS = re.compile(r"[ \t]*(?:[\-–(:;!?]|\.(?!\w)|$)", re.M)  # a weak word ends the phrase
_ENDS_LABEL = re.compile(r"[ \t]*(?:[,\-–(:;!?]|\.(?!\w)|$)", re.M)
_NAME_SHAPE = re.compile(r"(?:o|d)['’][a-zß-ÿ]{3,}|ma?c[a-z]{4,}")
_RELATIVE_AFTER = re.compile(rf"['’]s[ \t]+(?:{_RELATION}|family|gp)\b")
_INITIAL_BEFORE = re.compile(r"\b[a-z]\.[ \t]*$")
_INITIAL_AFTER = re.compile(r"[ \t]+[a-z]\.(?![a-z])")


def _french_elision(base: str) -> bool:
    """``d'orange``, ``d'intervalle``, ``d'oncogénétique``: French ``de`` before a word (a
    common or clinical one, a long one or one with a French accent), not ``d'souza``."""
    rest = base[2:] if re.match(r"[dl]['’]", base) else ""
    if not rest:
        return False
    known = is_common(rest) or is_clinical(rest) or is_medical_shape(rest)
    return known or len(rest) >= 9 or bool(re.search(r"[éèêàâôûç]", rest))


def kind(word: str) -> str:
    """``given``, ``shape``, ``unknown`` (strong), ``weak`` or ``no`` (see the module doc)."""
    base = re.sub(r"['’]s$", "", word)
    if base in ("o'clock", "o’clock") or is_clinical(base) or base.capitalize() in STOP:
        return "no"
    if _french_elision(base):
        return "no"
    if base.capitalize() in given_names() and len(base) > 2:
        return "given"
    if _NAME_SHAPE.fullmatch(base) and not is_common(base):
        return "shape"
    if is_name_word(base):
        return "weak"
    unknown = not is_common(base) and not is_medical_shape(base)
    unknown = unknown and not is_cognate_clinical(base)  # "sonda nasogástrica"
    return "unknown" if unknown and len(base) >= 4 and re.search(r"[aeiouy]", base) else "no"


def _after_particles(text: str, pos: int) -> int:
    """Where the name particles starting at ``pos`` end (``pos`` when there are none)."""
    m = _PARTICLES.match(text, pos)  # the pattern also matches the empty string
    return m.end() if m else pos


def _next(text: str, pos: int, comma: bool) -> re.Match[str] | None:
    """The next word after a space (or ``, `` when ``comma``) and particles."""
    gap = re.compile(r"[ \t]+|,[ \t]*" if comma else r"[ \t]+").match(text, pos)
    return _WORD.match(text, _after_particles(text, gap.end())) if gap else None


def _first(text: str, m: re.Match[str], context: str) -> bool:
    """Whether the word right after a context is a name's first word."""
    k = kind(m.group(0))
    if k == "no":
        return False
    if context == "title" or k in ("given", "shape"):
        return True
    nxt = _next(text, m.end(), context == "label")
    name_next = nxt is not None and kind(nxt.group(0)) in ("given", "shape", "unknown", "weak")
    ends = (_ENDS_LABEL if context == "label" else _ENDS).match(text, m.end()) is not None
    if context == "pt":  # "pt euvolaemic." is no name: after pt, two name words or a weak end
        return name_next or (k == "weak" and ends)
    return k == "unknown" or ends or name_next


def _run(text: str, pos: int, context: str) -> int:
    """The end of the name that starts at ``pos`` after a context; ``pos`` when none does."""
    initial = re.match(r"[a-z]\.[ \t]*", text[pos:]) if context == "title" else None
    start = _after_particles(text, pos + (initial.end() if initial else 0))  # "dr s. patel"
    m = _WORD.match(text, start)
    after_particles = context == "title" and start > pos  # "dr. de wit"
    if not m or not (_first(text, m, context) or after_particles and not is_clinical(m[0])):
        return pos
    end, comma = m.end(), context == "label"
    for _ in range(3):
        nxt = _next(text, end, comma)
        if not nxt or kind(nxt.group(0)) == "no":
            break
        comma = comma and text[end] != ","
        end = nxt.end()
    initial = _INITIAL_AFTER.match(text, end)  # "dr ifeoma n."
    return initial.end() if initial else end


def _anywhere(text: str) -> list[tuple[int, int]]:
    """A given name or a name's shape with its initial and the name words after it; a
    name-like word before ``'s husband``."""
    spans = []
    for m in _WORD.finditer(text):
        k = kind(m.group(0))
        if k in ("given", "shape") and not is_common(m.group(0)):
            s, end = m.start(), m.end()
            initial = _INITIAL_BEFORE.search(text, max(0, s - 4), s)
            s = initial.start() if initial else s
            nxt = _next(text, end, False)
            while nxt and kind(nxt.group(0)) != "no":
                end, nxt = nxt.end(), _next(text, nxt.end(), False)
            spans.append((s, end))
        elif k != "no" and _RELATIVE_AFTER.match(text, m.end() - 2 * (m[0][-2] in "'’")):
            spans.append((m.start(), m.end() - 2 * (m[0][-2] in "'’")))  # "jean's husband"
    return spans


def lowercase_names(text: str) -> list[tuple[int, int]]:
    """Spans of names in lower case (see the module doc)."""
    spans = _anywhere(text)
    for m in _CONTEXT.finditer(text):
        context = next((k for k in ("title", "label", "pt") if m.group(k)), "other")
        end = _run(text, m.end(), context)
        if end > m.end():
            spans.append((m.end(), end))
    return spans
