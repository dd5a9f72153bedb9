"""An address is one run on its line: what lies between two of its found parts, and the unit
word before its house number, is part of it.

The rules and the safe-word layer find an address's parts by their shape (a house number, a
postcode, a word no list knows) and leave the parts that are safe alone: ``Street 4`` and
``Model Town`` between ``House 17`` and ``Lahore``, ``Co. Cork`` before an Eircode, ``depto``
between two numbers, ``village`` after a village's name, ``House No.`` before its number.
Here a gap between two found spans on one line, at least one of them a place, is filled
when every token in it could be part of an address: a capitalised word that is no clinical,
field or function word, a number, a single letter, an abbreviation (``Co.``), a lower-case
address noun (``village``, ``depto``) or a particle. A gap with a field break (two spaces, a
tab), a clinical word or a sentence's end keeps them apart.

Example:
    >>> t = "House 17, Street 4, Block C, Model Town, Lahore"
    >>> spans = [("LOCATION", 6, 8), ("NAME", 20, 27), ("NAME", 41, 47)]
    >>> [(tag, t[s:e]) for tag, s, e in fill_address_gaps(t, spans)]
    [('ADDRESS', 'House 17, Street 4, Block C, Model Town, Lahore')]
"""

from __future__ import annotations

import re

from oncoseg.text.deid_vocab import STOP, is_clinical, is_common

Span = tuple[str, int, int]
PLACES = ("ADDRESS", "LOCATION")
_UNIT_BEFORE = re.compile(
    r"\b(?:House|Flat|Apt|Apartment|Unit|Suite|Block|Blk|Plot|Lot|Building|Bldg|Sector|Phase|"
    r"Casa|Haus|Villa|Quinta|Lote|depto|dpto|apto|piso|andar)\.?"
    r"(?:[ \t]+(?i:No|Nr|Nº|N°|#)\.?)?[ \t]*$"
)
# lower-case words of addresses in several languages
_ADDRESS_NOUNS = frozenset(
    re.findall(
        r"\S+",
        """village town city district county province region state suburb colony sector block
        phase road street lane floor flat apt depto dpto apto piso andar bloco bairro barrio
        colonia quartier étage etg stock woning ul al os no nr de del della da das do dos di du
        van von der den la le las los y e et am an im s/n
        avenue ave av avda avenida drive cres crescent place pl way court ct close boulevard
        blvd terrace tce square sq gardens parade highway hwy rd st calle rua rue via viale
        piazza praça plaza largo travessa camino carrera cra carretera chemin allée impasse quai
        straße strasse str gasse weg platz allee laan straat plein vej gade gata gatan veien vei
        ulica caddesi cad sokak sk mahallesi mah jalan jln lorong soi marg nagar ro gil gu dong
        cnr corner north south east west upper lower centro""",
    )
)
_FIELDS = frozenset(
    re.findall(
        r"\S+",
        """DOB MRN NHS Tel Phone Fax Email Ref Date Age Sex Hosp Mob Mobile Name Patient Re Dr
        Mr Mrs Ms Prof The And Of For With To From In On At By Seen Plan""",
    )
)
_TOKEN = re.compile(r"s/n|[^\s,/]+")


def _address_token(tok: str) -> bool:
    """Whether one token of a gap could be part of an address."""
    if tok in ("-", "–", "#", "&"):
        return True
    word = tok.rstrip(".")
    if tok.endswith(".") and len(word) > 4:
        return False  # a sentence's end, not "Co." or "No."
    if not word or word[0].isdigit():
        return bool(re.fullmatch(r"\d[\dA-Za-zº°ª\-/]{0,7}", word))
    if word.lower() in _ADDRESS_NOUNS:
        return True
    if not word[0].isupper() or word in _FIELDS or is_clinical(word):
        return False
    return len(word) == 1 or word not in STOP or (tok.endswith(".") and not is_common(word))


def _joins(text: str, a: Span, b: Span) -> bool:
    """Whether the gap between two spans on one line holds only address tokens."""
    gap = text[a[2] : b[1]]
    if len(gap) > 48 or "  " in gap or not re.fullmatch(r"[\w .,'’/\-–ºª°#&]*", gap):
        return False  # a field break, a line break, a bracket, a colon: not one address
    if a[0] not in PLACES and b[0] not in PLACES:
        return False
    return all(_address_token(t) for t in _TOKEN.findall(gap))


_LEAD = re.compile(r"(?:^|(?<=[\n,:;(|]))[ \t]*((?:[^\s,:;()|]+[ \t]+){1,3})$")
_TAIL = re.compile(
    r"[ \t]*,?[ \t]*(?:[A-Z]{2,5}|\d{1,2})(?=[ \t]*(?:$|[\n;)|]|\.(?!\w)|[ \t]{2}))", re.M
)


def _lead(text: str, s: int) -> int:
    """Where an address starts that a found part starts late in: ``Im``, ``C/``, ``3
    place``, ``No.``, ``81`` before it at the start of its field."""
    m = _LEAD.search(text, max(0, s - 24), s)
    if not m or "  " in m.group(1):
        return s
    tokens = _TOKEN.findall(m.group(1))
    lead = all(_address_token(t) for t in tokens) and not any(t in _FIELDS for t in tokens)
    return m.start(1) if lead else s


def _tail(text: str, e: int) -> int:
    """Where an address ends that its last found part stops short of: ``, CDMX``,
    ``Dublin 6`` (a code in capitals or a district number that ends the field)."""
    m = _TAIL.match(text, e)
    return m.end() if m and not is_clinical(m.group(0).strip(" ,\t")) else e


def fill_address_gaps(text: str, spans: list[Span]) -> list[Span]:
    """``spans`` (sorted or not) with the gaps between an address's parts filled and the unit
    word before a house number taken; spans merged so become one ADDRESS."""
    out: list[Span] = []
    for tag, s, e in sorted(spans, key=lambda t: (t[1], -t[2])):
        if out and e <= out[-1][2]:  # inside the span before (a layer found it twice)
            if tag in PLACES and out[-1][0] not in PLACES:
                out[-1] = (tag, *out[-1][1:])
            continue
        unit = _UNIT_BEFORE.search(text, max(0, s - 16), s)
        house = re.match(r"\d[\dA-Za-z]{0,4}(?:/\d{1,4})?(?![\w\-/])", text[s:e])  # Unit 4/27
        if unit and tag in (*PLACES, "ID") and house:
            tag, s = "ADDRESS", unit.start()
        if out and out[-1][2] <= s and _joins(text, out[-1], (tag, s, e)):
            prev = out.pop()
            tag, s = "ADDRESS", prev[1]
        out.append((tag, s, e))
    return [(t, _lead(text, s), _tail(text, e)) if t == "ADDRESS" else (t, s, e) for t, s, e in out]
