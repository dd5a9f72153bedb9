"""The de-identifier's closing layer: a place or a name found in part is taken whole, by the
shape of the phrase around it, never by a list of the places or names themselves.

The earlier layers find what no list knows (``Bridgewater``, ``Faisal``) and leave what is
safe on its own (``Suite``, ``Research Centre``, ``University``): the identifier keeps its
safe words and is not removed. Here, on the found spans:

1. a facility phrase: a run of capitalised words (with ``of``, ``de``, ``&`` between them)
   that holds a found name or place *and* a facility word (``Hospital``, ``Centre``,
   ``sykehus``, ``Suite``) is one place; a run of capitalised words with a facility word
   next to such a place (``National Cancer Institute, [Cairo] University``) too;
2. a unit by its code: ``Ward B-4``, ``Clinic 3B``, ``OPD-3``, ``avd. 4``, ``planta 6ª
   Norte``, with the short phrase it heads (``Day Care Ward C-2``);
3. an alias: a bracketed acronym, a name in another script or a facility phrase next to a
   found name or place (``[Lagos University Teaching Hospital] (LUTH)``,
   ``[Park Seo-yeon] (박서연)``), and every other use of an acronym so found;
4. a surname in capitals before a found given name (``WANG [Lihua]``, ``LE, [Thi Hoa]``),
   a particle in lower case hyphened to a found name or between its parts (``al-``,
   ``binte``, ``d/o``, ``dela``);
5. a comma part of capitalised words and a postcode after a found place (``Manila 1000``).

Example:
    >>> t = "To: Haematology, Leeds Bridgewater Suite (LBS)."
    >>> [(tag, t[s:e]) for tag, s, e in close_spans(t, [("NAME", 17, 22), ("NAME", 23, 34)])]
    [('LOCATION', 'Leeds Bridgewater Suite'), ('LOCATION', 'LBS')]
"""

from __future__ import annotations

import re

from oncoseg.text.deid_acronyms import HOSPITAL, defined_places, spells_place
from oncoseg.text.deid_cjk import CJK, CJK_LABELS, cjk_spans
from oncoseg.text.deid_extend import ID_LABELS, is_place_acronym
from oncoseg.text.deid_rules import MONTH
from oncoseg.text.deid_vocab import STOP, UNIT_AFTER, is_clinical, is_common

Span = tuple[str, int, int]
_PLACE_TAGS = ("NAME", "LOCATION", "ADDRESS")
_TOKEN = re.compile(r"[^\W\d_](?:[\w'’.\-]*[^\W_])?|&")
_HEAD = re.compile(  # English ones capitalised; a ward's "clinic at [X]" is no place's name
    r"(?:Hospitals?|Hosp|Infirmary|Hospice|Clinics?|Clinique|Cl[ií]nica|Klinik|Klinikum|"
    r"Centre|Center|Centrum|Centro|Institute|Institut|Instituto|Istituto|Universit\w*|"
    r"College|Network|Suite|Unit|Trust|Foundation|Wing|Pavilion|HealthCare|Healthcare|Service|"
    r"Services|Team|"
    r"Health|Medical|HOSPITAL|CENTRE|CENTER|CLINIC)|(?i:universit\w*|hospitalier|h[ôo]pital|"
    r"ospedale|szpital|spital|ziekenhuis|krankenhaus|hastanesi|afdeling|avdeling|legekontor|"
    r"l[æa]gehus|v[åa]rdcentral|\w*sykehus(?:et)?|\w*sjukhus(?:et)?|\w*sygehus(?:et)?|"
    r"\w*klinik(?:en|k|ken)?|\w*hospitalet)"
)
_CONNECTOR = frozenset(
    re.findall(
        r"\S+",
        """of for the and & de du des la le di del della do da dos das der den von van für
        ve y und e et im am w""",
    )
)
_NOT_CAP = re.compile(r"[ldLD]['’]")  # l'Université, d'Oncologie
_RUN_GAP = re.compile(r"[ \t]")
_SEGMENT_GAP = re.compile(r"[ \t]*(?:,|[–—]|[ \t]-[ \t])[ \t]*")


def _tags(text: str, spans: list[Span]) -> list[str | None]:
    out: list[str | None] = [None] * len(text)
    for tag, s, e in spans:
        for i in range(s, e):
            out[i] = out[i] or tag
    return out


def _runs(text: str) -> list[list[re.Match[str]]]:
    """Tokens of each line in runs: words apart by one space, no punctuation between."""
    runs: list[list[re.Match[str]]] = []
    prev: re.Match[str] | None = None
    for m in _TOKEN.finditer(text):
        if prev is not None and _RUN_GAP.fullmatch(text, prev.end(), m.start()):
            runs[-1].append(m)
        else:
            runs.append([m])
        prev = m
    return runs


def _kind(m: re.Match[str], tags: list[str | None]) -> str:
    """``found`` (a found place's or name's word), ``head``, ``cap``, ``join`` or ``no``."""
    w = m.group(0)
    if any(ch.isdigit() for ch in w):
        return "no"
    if any(tags[i] in _PLACE_TAGS for i in range(m.start(), m.end()) if w[i - m.start()].isalnum()):
        return "found"
    if _HEAD.fullmatch(w):
        return "head"
    if w.lower() in _CONNECTOR:
        return "join"
    bare = _NOT_CAP.sub("", w, count=1)
    return "cap" if bare[:1].isupper() else "no"


def _clinical_cap(m: re.Match[str], kind: str) -> bool:
    return kind == "cap" and is_clinical(m.group(0))


def _phrases(text: str, tags: list[str | None]) -> list[tuple[int, int, bool, bool]]:
    """Runs of facility-phrase words: (start, end, holds a found word, holds a head)."""
    out = []
    for run in _runs(text):
        kinds = [_kind(m, tags) for m in run]
        i = 0
        while i < len(run):
            if kinds[i] in ("no", "join"):
                i += 1
                continue
            j = i
            while j + 1 < len(run) and kinds[j + 1] != "no":
                j += 1
            k = j
            while k > i and (kinds[k] == "join" or _clinical_cap(run[k], kinds[k])):
                k -= 1  # a run ends on its last found, head or unknown word
            found, head = "found" in kinds[i : k + 1], "head" in kinds[i : k + 1]
            out.append((run[i].start(), run[k].end(), found, head))
            i = j + 1
    return out


def _facility_spans(text: str, tags: list[str | None]) -> list[Span]:
    """Facility phrases that hold a found word, and facility phrases beside those."""
    phrases = _phrases(text, tags)
    closed = [found and head for _, _, found, head in phrases]
    changed = True
    while changed:
        changed = False
        for i, (s, e, _, head) in enumerate(phrases):
            if closed[i] or not head:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(phrases) and closed[j]:
                    a, b = (phrases[j][1], s) if j < i else (e, phrases[j][0])
                    if _SEGMENT_GAP.fullmatch(text, a, b) and "\n" not in text[a:b]:
                        closed[i] = changed = True
    return [("LOCATION", s, e) for (s, e, _, _), c in zip(phrases, closed, strict=True) if c]


_UNIT_CODE = re.compile(
    r"\b(?:(?i:ward|clinic|suite|opd|avd|afd|planta|wing|pavilion|reparto|padiglione|"
    r"pavillon|piso|sala|blok|oddzia[łl])|Level|Floor|Etage|Stock|Station)\.?[ \t]*[\-–]?[ \t]*"
    r"(?:[A-Z]{1,3}-[A-Z]?\d{1,3}|\d{1,2}/\d{1,2}|[A-Z]{0,2}\d{1,3}[A-Za-zªº]?|[A-Z](?:-?\d{1,2})?)"
    r"(?!\w|[/.:\-]\w)(?:[ \t]+(?:North|South|East|West|Norte|Sur|Nord|Süd|Ost))?"
    r"|\b\d{1,2}(?:\.|ª|º|st|nd|rd|th)?[ \t]+(?:Planta|Piso|Floor|Etage|Stock|Kat|Etasje|Piano)"
    r"(?:[ \t]+(?:[A-ZÀ-Þ][a-zß-ÿ]+|[A-Z])){0,3}\b"
)  # Ward RT-W4, Station 3/11 Nord (not a node's "station 7"), Padiglione 12; 6ª Planta Ala
# Izquierda, 4. Kat B Blok
_SEGMENT = re.compile(r"(?:[^\n,;:()|–—.\t ]|[ .](?![ \t]))*")
_DATE_AFTER = re.compile(rf"[ \t]*[\-/.]?[ \t]*(?:\d|{MONTH})")


def _unit_spans(text: str) -> list[Span]:
    """``Ward B-4``, ``Clinic 3B``; a short phrase of capitalised words it ends (``Day Care
    Ward C-2``) whole."""
    out: list[Span] = []
    for m in _UNIT_CODE.finditer(text):
        if UNIT_AFTER.match(text, m.end()) or _DATE_AFTER.match(text, m.end()):
            continue  # clinic 2 weeks, clinic 30 Jan
        if m.group(0)[0] in "LFES" and re.match(r"[ \t]+[a-z]", text[m.end() :]):
            continue  # level 2 nodes, Level 1 evidence
        s, e = m.span()
        seg_start = max(text.rfind(c, 0, s) for c in "\n,;:(|–—") + 1
        seg = _SEGMENT.match(text, seg_start)
        words = _TOKEN.findall(text, seg_start, s)
        known = [w for w in words if not w[0].isupper() or is_clinical(w) and not _HEAD.match(w)]
        if seg and seg.end() >= e and len(words) <= 4 and not known:
            s = seg_start + len(text[seg_start:s]) - len(text[seg_start:s].lstrip())
        out.append(("LOCATION", s, e))
    return out


_BRACKET = re.compile(r"\(([^()\n]{1,60})\)")
# letters of scripts other than the Latin one: Greek, Cyrillic, Hebrew, Arabic, Devanagari,
# Thai, and the CJK ones
_OTHER = "\u0370-\u03ff\u0400-\u04ff\u0590-\u05ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f"
_SCRIPT = CJK + _OTHER
_CJK_RUN = re.compile(rf"[{CJK}]{{2,12}}")


def _place_before(text: str, tags: list[str | None], i: int) -> str:
    """The found place or name that ends at ``i``, on its line."""
    k = i
    while k > 0 and text[k - 1] != "\n" and (tags[k - 1] or text[k - 1] in " \t'’-"):
        k -= 1
    return text[k : i + 1]


def _alias_ok(inner: str, tag: str, place: str = "") -> bool:
    """Whether bracketed text can be another form of a found name or place (an acronym of
    the place's initials: ``(CHUM)``, ``(NCT)``)."""
    inner = inner.strip()
    if (tag != "NAME" or _HEAD.search(place)) and spells_place(inner, place):
        return True
    if re.fullmatch(rf"[{_SCRIPT}][{_SCRIPT} \-]*", inner):  # (คุณสมศรี แก้วมณี), (박서연)
        return not any(w in CJK_LABELS for w in inner.split())
    if tag != "NAME" and is_place_acronym(inner):
        return True
    words = _TOKEN.findall(inner)
    heads = [w for w in words if _HEAD.fullmatch(w)]
    capped = all(w[:1].isupper() or w.lower() in _CONNECTOR for w in words)
    return bool(words) and capped and bool(heads) and not re.search(r"\d", inner)


def _alias_spans(text: str, tags: list[str | None]) -> list[Span]:
    """A bracket after a found name or place that holds its other form, a name in another
    script before a bracket that holds a found one (``周丽华 ([ZHOU Lihua])``)."""
    out: list[Span] = []
    for m in _BRACKET.finditer(text):
        i = m.start() - 1
        while i >= 0 and text[i] in " \t":
            i -= 1
        before = tags[i] if i >= 0 and text[i].isalnum() else None
        if before in _PLACE_TAGS and _alias_ok(m.group(1), before, _place_before(text, tags, i)):
            out.append((before, *m.span(1)))
            continue
        inside = [tags[k] for k in range(*m.span(1)) if text[k].isalnum()]
        cjk = re.search(  # "יוסף בן-דוד ([Yosef Ben-David])"
            rf"(?:[{CJK}]{{2,12}}|[{_OTHER}](?:[{_OTHER}]|[ \-](?=[{_OTHER}])){{1,30}})[ \t]*$",
            text[max(0, m.start() - 40) : m.start()],
        )
        if cjk and inside and all(t in _PLACE_TAGS for t in inside):
            title = re.match(r"[\u0370-\u03ff]{1,2}\.?[ \t]+(?=\S)", cjk.group(0))  # "κα", "κ."
            start = m.start() - len(cjk.group(0)) + (title.end() if title else 0)
            out.append((inside[0] or "NAME", start, m.start()))
    for m in _CJK_RUN.finditer(text):  # a name in another script after a found one: "梁詠詩"
        gap = re.search(r"[^\s()]\)?[ \t]*$", text[max(0, m.start() - 4) : m.start()])
        j = m.start() - len(gap.group(0)) if gap else -1
        name = len(m.group(0)) <= 4 and m.group(0) not in CJK_LABELS
        if gap and j >= 0 and tags[j] == "NAME" and name:
            out.append(("NAME", *m.span()))
    return out


def _acronym_repeats(text: str, spans: list[Span], defined: bool = False) -> list[Span]:
    """Every other use of an acronym found as a place (``LUTH`` once ``(LUTH)`` was)."""
    acronyms = {
        text[s:e]
        for tag, s, e in spans
        if tag != "NAME" and (defined or is_place_acronym(text[s:e]))
    }
    out: list[Span] = []
    for a in acronyms:
        out += [("LOCATION", *m.span()) for m in re.finditer(rf"\b{a}\b", text)]
    return out


_CAPS = re.compile(r"\b[A-Z]{4,8}\b")


def _place_acronyms(text: str, spans: list[Span]) -> list[Span]:
    """Every use of an acronym that spells a found hospital of the note, wherever it stands
    (``KATH`` where ``Komfo Anokye Teaching Hospital`` was found), of four letters or more;
    never a clinical or common word (``STOP``), nor one of three letters (``MRI`` beside
    ``Manchester Royal Infirmary``)."""
    places = {text[s:e] for tag, s, e in spans if tag == "LOCATION" and HOSPITAL.search(text[s:e])}
    acronyms = {
        a for a in set(_CAPS.findall(text)) - places if not (is_clinical(a) or is_common(a.lower()))
    }
    found = {a for a in acronyms if any(spells_place(a, p) for p in places)}
    return [("LOCATION", *m.span()) for m in _CAPS.finditer(text) if m.group(0) in found]


_CAPS_BEFORE_NAME = re.compile(
    r"(?:^|(?<=[:|(])|\b(?:Dr|Mr|Ms|Mrs|Prof)\.?)[ \t]*((?:[A-Z]{2,12}[ \t]+){0,2}"
    r"[A-Z]{2,12})(?:[ \t]*,)?[ \t]+(?=\S)",
    re.M,
)
_SUFFIX_AFTER_NAME = re.compile(r"[ \t]+(?:JR|SR|Jr|Sr|Jnr|Snr)\b\.?")


def _caps_name_spans(text: str, tags: list[str | None]) -> list[Span]:
    """A surname in capitals at a field's start before a found name (``WANG [Lihua]``,
    ``DELA CRUZ, [Maria]``) and ``Jr``/``III`` after one."""
    out: list[Span] = []
    for m in _CAPS_BEFORE_NAME.finditer(text):
        words = m.group(1).split()
        known = [w for w in words if is_clinical(w) or w in ID_LABELS or w.capitalize() in STOP]
        if m.end() < len(text) and tags[m.end()] == "NAME" and not known:
            out.append(("NAME", *m.span(1)))
    for m in _SUFFIX_AFTER_NAME.finditer(text):
        if m.start() and tags[m.start() - 1] == "NAME":
            out.append(("NAME", m.start() + 1, m.end()))
    return out


_NAME_PARTICLE = re.compile(
    r"(?<![\w/])(?:al|el|bin|binti|binte|bint|ibn|abu|ould|d/o|s/o|w/o|a/l|a/p|dela|del|de|"
    r"da|di|dos|das|du|van|von|der|den|ter|ten|le|la)(?:-|[ \t]+)(?=\w)"
)


def _particle_spans(text: str, tags: list[str | None]) -> list[Span]:
    """A name's particle in lower case: ``al-[Khoury]``, ``[Nur] binte [Yusof]``, ``[Ana]
    dela [Cruz]`` (hyphened to a found name, or between two of its found parts)."""
    out: list[Span] = []
    for m in _NAME_PARTICLE.finditer(text):
        s, e = m.span()
        before = re.search(r"(\w)[ \t]+$", text[max(0, s - 3) : s])
        joined = m.group(0).endswith("-") or (
            before and tags[s - len(before.group(0))] in _PLACE_TAGS
        )
        if tags[e] == "NAME" and joined:
            out.append(("NAME", s, e))
    return out


_POSTCODE_PART = re.compile(
    r",[ \t]*((?:[A-Z][^\W\d_]+[ \t]+){1,2}(?:[A-Z]{2,3}[ \t]+)?\d{4,6})(?=[ \t]*(?:[,;)]|$))",
    re.M,
)


def _postcode_spans(text: str, tags: list[str | None]) -> list[Span]:
    """``, Manila 1000``, ``, Glebe NSW 2037`` on a line with a found place before it."""
    out: list[Span] = []
    for m in _POSTCODE_PART.finditer(text):
        line = text.rfind("\n", 0, m.start()) + 1
        places = any(t in ("LOCATION", "ADDRESS") for t in tags[line : m.start()])
        words = re.findall(r"[^\W\d_]+", m.group(1))
        if places and not any(is_clinical(w) for w in words):
            out.append(("ADDRESS", *m.span(1)))
    return out


def close_spans(text: str, spans: list[Span]) -> list[Span]:
    """The spans to add to the found ``spans``: the rest of the identifiers they are part
    of (see the module doc)."""
    defined = defined_places(text)
    more = _unit_spans(text) + cjk_spans(text) + defined
    tags = _tags(text, spans + more)
    more += _facility_spans(text, tags) + _caps_name_spans(text, tags)
    more += _particle_spans(text, tags)
    tags = _tags(text, spans + more)
    more += _postcode_spans(text, tags)
    tags = _tags(text, spans + more)
    more += _alias_spans(text, tags)
    more += [r for r in _acronym_repeats(text, more) if r not in more]
    more += _place_acronyms(text, spans + more)
    return more + _acronym_repeats(text, defined[1::2], defined=True)
