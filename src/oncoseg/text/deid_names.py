"""Finding people's names in clinical notes, with or without a title.

Names are found by their context (a title, a label such as ``Re:`` or ``Surgeon:``, a relation
such as ``daughter``, a sign-off, an age or record number right after them), by shape
(``HOLLOWAY, Margaret``, ``Pryce-Davies``, ``Bob (Robert) Kaczmarek``) and by a list of given
names (US Census 1990, without names that are also English words; see given_names.txt). Every
word of a name found once is then removed wherever else it occurs in the note.
Eponyms (``Ivor Lewis``, ``pouch of Douglas``, ``Paget's disease``) are protected.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from oncoseg.text.deid_intl import LOWER_TITLES, SIGNOFF, TITLES_INTL

Rule = tuple[str, re.Pattern[str], int]

TITLES = rf"(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Professor|Doctor|Sir|Dame|Rev|Revd|{TITLES_INTL})"
# capitalised words that are never (the start of) a name
_NOT_NAME = (
    rf"(?:{TITLES}|Dear|Re|Patient|Pt|Consultant|Clinical|Specialty|Specialist|Registrar|"
    r"Oncologist|Surgeon|Nurse|Senior|Associate|Lecturer|Director|Lead|Head|Department|"
    r"Hospital|Clinic|Ward|Unit|Centre|Center|Surgery|Practice|Plan|Diagnosis|Histology|"
    r"Impression|Summary|History|Findings|Procedure|Outcome|Date|Tel|Phone|Email|Address|"
    r"Uro|The|This|That|These|She|He|They|His|Her|Their|We|I|It|Yours|Kind|Best|With|"
    r"Thank|Many|Regards|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec|January|February|"
    r"March|April|June|July|August|September|October|November|December|Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday|Left|Right|Colleague|Colleagues|Madam|All|"
    r"Team|Interpreter|Spanish|English|MD|PhD|Hosp|No|Number|Episode|Case|Ref|Acct|Account|"
    r"Lab|Specimen|Accession|Record|Medical|Op|Mob|Mobile|Bleep|Ext|Fax|Born|Age|Aged|Son|"
    r"Daughter|Wife|Husband|Mother|Father|Mum|Mom|Dad|Sister|Brother|Partner|Niece|Nephew|"
    r"Carer|Friend|To|From|At|On|In|Of|And|For|Requested|Reported|Signed|Dictated|Typed|Seen|"
    r"Reviewed|Verified|Authorised|Authorized|Discussed|Accompanied|Referred|Checked)"
    r"(?![\w'’\-])"
)
# a name word: capitalised, unicode letters, O'Neil / D'Arcy / McAllister / Smith-Jones
W = (
    rf"(?!{_NOT_NAME})[A-ZÀ-ÖØ-Þ](?:[a-zß-öø-ÿ]|['’][A-Z])[^\W\d_]{{0,30}}"
    r"(?:['’\-][^\W\d_]{1,30}){0,3}"
    r"(?![\w'’\-]|\s*:)"
)
_PARTICLE = (
    r"(?:de|da|di|du|del|della|dos|das|do|van|von|der|den|la|le|los|las|ter|ten|bin|al|y|i|e|"
    r"Ó|Ní|Nic|Mac|Uí|['’]t)"
)
_SP = r"(?:[ \t]+|[ \t]*\n[ \t]*)"  # a space, or one line break
_INITIALS = r"(?:\b[A-Z]\.?[ \t]*){1,2}"
_LEAD = (  # De la, van der, DE LEON
    r"(?:(?i:Ó|Ní|Nic|Mac|Uí|De|Da|Di|Du|Van|Von|Der|Den|Del|Della|Dos|Das|Le|La|Al|El|Ter|Ten)"
    r"[ \t]+){0,2}"
)
NAME = rf"(?:{_INITIALS})?{_LEAD}{W}(?:{_SP}(?:{_PARTICLE}[ \t]+)*(?:[A-Z]\.[ \t]*)?{W}){{0,3}}"
NAME2 = rf"{W}(?:{_SP}(?:{_PARTICLE}[ \t]+)*(?:[A-Z]\.[ \t]*)?{W}){{1,3}}"
_UP = "A-ZÀ-ÖØ-Þ"
CAPS_NAME = (
    rf"{_LEAD}[{_UP}][{_UP}'’\-]*[{_UP}],[ \t]+{W}(?:[ \t]+(?:{_PARTICLE}[ \t]+)*{W}){{0,3}}"
)
# words that label a field before a number, never a name before its record number
_FIELD = (
    r"(?:Study|Trial|Zip|Postcode|Code|Case|Lab|Specimen|Sample|Block|Slide|Batch|Lot|Room|Bed|"
    r"Bay|Order|Request|Report|Reference|Policy|Member|Group|Insurance|Claim|Invoice|Visit|"
    r"Encounter|Admission|Registration|Folder|File|Chart|Record|Account|Protocol|Cycle|Day)"
)
_RELATION = (
    r"(?i:husband|wife|partner|son|daughter|mother|father|mum|mom|dad|brother|sister|niece|"
    r"nephew|aunt|uncle|grandson|granddaughter|grandmother|grandfather|carer|caregiver|friend|"
    r"neighbour|neighbor|fianc[ée]e?|nurse|specialist|CNS|radiographer|registrar|"
    r"physio(?:therapist)?|key\s+worker|social\s+worker)"
)
_LABEL = (
    r"(?i:patient(?:\s+name)?|pt(?:\s+name)?|name|surname|forename|re|referring|paciente|"
    r"patiente?|patientin|pacjent(?:ka)?|paziente|betreft|betr|naam|nome|nom|nombre|pat|"
    r"assistit[oa]|ime|navn|namn|referral|referring"
    r"(?:\s+(?:physician|doctor|clinician|consultant))?|consultant|surgeon|assistant|"
    r"anaesthetist|anesthetist|oncologist|physician|attending|caller|key\s+worker|cns|referrer|"
    r"to|from|next\s+of\s+kin|nok|contact|carer|signed|dictated|author|pcp|gp|"
    r"family\s+(?:doctor|physician|md)|primary\s+care(?:\s+(?:physician|provider))?|"
    r"(?:treating|ordering|submitting|attending)(?:\s+(?:physician|doctor|provider|md))?)"
)
_BY = (
    r"(?i:signed|dictated|typed|seen|reviewed|reported|verified|authori[sz]ed|discussed|"
    r"accompanied|requested|covered|performed|operated|checked|consented)\s+by"
)
_NOT_INITIALS = r"(?:MDT|GP|CT|MRI|PET|USS?|ED|AE|ENT|CNS|OT|PT|ICU|ITU|HDU|OGD|NHS|MRN|DOB|ID)\b"

NAME_RULES: list[Rule] = [
    ("NAME", re.compile(rf"\b(?:{TITLES}|{LOWER_TITLES})\.?[ \t]+({NAME})"), 1),
    (
        "NAME",
        re.compile(rf"\b{_LABEL}\.?[ \t]*[:\-][ \t]*(?:{TITLES}\.?[ \t]+)?({CAPS_NAME}|{NAME})"),
        1,
    ),
    ("NAME", re.compile(rf"(?m)^[ \t]*(?:\d{{1,2}}[.)][ \t]*|[-*•][ \t]*)?({CAPS_NAME})"), 1),
    (
        "NAME",
        re.compile(rf"\b{_BY}[ \t]*:?[ \t]*(?!{_NOT_INITIALS})([A-Z]{{2,3}}\b(?![\w\-])|{NAME})"),
        1,
    ),
    ("NAME", re.compile(rf"(?m)^(?i:dear)[ \t]+({NAME})"), 1),
    ("NAME", re.compile(rf"\b{_RELATION}(?:'s)?(?:[ \t]+of)?[ \t]*[(,:]?{_SP}?({NAME})"), 1),
    (
        "NAME",
        re.compile(rf"\b({NAME}),[ \t]+(?:his|her|their)[ \t]+{_RELATION}"),
        1,
    ),
    (
        "NAME",
        re.compile(
            r"\b(?i:I\s+(?:saw|see|reviewed|met|examined|called|phoned|rang)|spoke\s+(?:to|with)|"
            r"thank\s+you\s+for\s+(?:referring|asking\s+me\s+to\s+see)|consultation\s+with|"
            rf"known\s+as|goes\s+by|prefers\s+to\s+be\s+called)[ \t]+[\"“']?({NAME})"
        ),
        1,
    ),
    (
        "NAME",
        re.compile(
            rf"\b(?i:née|nee|maiden\s+name|formerly|also\s+known\s+as|aka)[ \t]*:?[ \t]*({NAME})"
        ),
        1,
    ),
    ("NAME", re.compile(rf"\b(?i:patient|pt)\.?{_SP}({NAME2})"), 1),
    (
        "NAME",
        re.compile(
            rf"\b(?i:pt|patient)\.?:?[ \t]+(?!{_NOT_INITIALS})([A-Z]{{2,3}})\b"
            r"(?=[ \t]*[,(]?[ \t]*\d{1,3}[ \t]*(?:[MF]\b|y))"
        ),
        1,
    ),  # initials for a person: "Pt AB, 67F"
    (
        "NAME",
        re.compile(
            r"\b(?i:discussed|seen|reviewed|spoke|agreed|checked)[ \t]+(?:with|by)[ \t]+"
            rf"(?!{_NOT_INITIALS})([A-Z]{{2,3}})\b(?=[ \t]*[,(]|[ \t]+(?:and|&)\b)"
        ),
        1,
    ),  # "discussed with JB (reg)"
    (
        "NAME",
        re.compile(
            rf"(?!{_FIELD}\b)((?:{_LEAD}{W},[ \t]+)?{NAME}|{CAPS_NAME})"
            r"(?=[ \t]*[(,]?[ \t\n]*(?:(?:DOB|D\.O\.B|born)\b|"
            r"(?:MRN|NHS|Hosp(?:ital)?|Unit|CHI|ID|Episode)\b[^\n\d]{0,12}\d|[A-Z]{0,4}\d{5,}\b))"
        ),
        1,
    ),  # a name right before a date of birth or record number
    (
        "NAME",
        re.compile(
            rf"({NAME2})(?=,?\s+(?:an?\s+)?\(?(?:aged\s+)?\d{{1,3}}(?![.,]\d)\)?[ \t]*"
            r"(?:[MF]\b|-?[ \t]*(?:year|yr|yo|y/o|y\.o\.)|,))"
        ),
        1,
    ),  # a name right before an age
    (
        "NAME",
        re.compile(
            rf"(?m)^[ \t]*{SIGNOFF}[ \t]*,?[ \t]*\n(?:[ \t]*\n)*[ \t]*(?:{TITLES}\.?[ \t]+)?"
            rf"({NAME})"
        ),
        1,
    ),  # the signature after a sign-off
    (
        "NAME",
        re.compile(rf"(?:^|(?<=[.!\n])[ \t]*){SIGNOFF}[ \t]*,[ \t]*(?:{TITLES}\.?[ \t]+)?({NAME})"),
        1,
    ),  # on the same line: "Groet, Sander van der Berg"
    (
        "NAME",
        re.compile(
            rf"(?m)^[ \t]*({NAME2}),[ \t]*(?:MD|DO|PhD|MBBS|FRCR|FRCS|FRCP|MRCP|PA-C|RN|NP|"
            r"(?:Specialty\s+)?Registrar|Consultant|CNS|SpR|Fellow|Resident)\b"
        ),
        1,
    ),
    (
        "NAME",
        re.compile(
            r"\b(?i:initials|our\s+ref|your\s+ref|my\s+ref)[ \t]*:?[ \t]*"
            r"([A-Z]{2,4}(?:/[A-Za-z]{2,4})?)\b"
        ),
        1,
    ),
    ("NAME", re.compile(r"\b[A-Z]{2,4}/[a-z]{2,3}\b"), 0),  # dictation reference JMH/sp
    (
        "NAME",
        re.compile(rf"\b({W},[ \t]+{W})(?=,?[ \t]+(?:MD|DO|PhD|MBBS|FRCR|FRCP|RN|NP|PA-C|DNP)\b)"),
        1,
    ),  # "Sterling, Grace MD": surname, given name, letters after
    (
        "NAME",
        re.compile(
            rf"(?m)^[ \t]*(?:{TITLES}\.?[ \t]+)?({NAME})[ \t]*\n[ \t]*(?:[\w\-]+[ \t]+)*"
            r"(?:CNS|Consultant|Registrar|Nurse|Oncologist|Surgeon|Radiographer|Specialist|"
            r"Physician|Fellow|SpR|Matron|Sister|Secretary|Coordinator)\b[^\n]*$"
        ),
        1,
    ),  # a signature: a name on its own line, the role on the next
    ("NAME", re.compile(r"(?m)^[ \t]*[-–—][ \t]*([A-Z]{2,3})\b(?=[ \t]*\()"), 1),
    ("NAME", re.compile(rf"\b({W})[ \t]+\(\1(?:[ \t]+{W})+\)"), 0),  # Jo (Jo Bloggs)
    ("NAME", re.compile(rf"\b{W}[ \t]+\({W}\)[ \t]+{W}"), 0),  # Bob (Robert) Kaczmarek
    (
        "NAME",
        re.compile(
            rf"\b(?:{W}[ \t]+)?(?!{_NOT_NAME})(?!(?i:non|co|self|follow|check|post|pre|anti|"
            r"multi|long|short|well|low|high|day|mid|semi|sub|intra|inter|extra|first|second|"
            r"third|left|right|year|two|one|x)-)"
            r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?![\w\-])(?:[ \t]+" + W + ")?"
        ),
        0,
    ),  # double-barrelled: Pryce-Davies, Lars-Erik Sjöberg
]

PROTECT = re.compile(
    r"\[[A-Z]+\]|Ivor\s+Lewis|Sister\s+Mary\s+Joseph|pouch\s+of\s+Douglas|circle\s+of\s+Willis|"
    r"Non-Hodgkin|Bloom-Richardson|Li-Fraumeni|Kaplan-Meier|Peutz-Jeghers|Guillain-Barr[ée]|"
    r"(?:von\s+)?Hippel-Lindau|Birt-Hogg-Dub[ée]|Creutzfeldt-Jakob|Stevens-Johnson|"
    r"Beckwith-Wiedemann|Muir-Torre|Wolff-Parkinson-White|Mohs\b|Barrett(?:'s|’s)|"
    r"Child[\s\-]+Pugh|Bence[\s\-]+Jones|Reed[\s\-]+Sternberg|Homer[\s\-]+Wright|"
    r"Durie[\s\-]+Salmon|Elston[\s\-]+Ellis|Lambert[\s\-]+Eaton|Zollinger[\s\-]+Ellison|"
    r"Ann[\s\-]+Arbor(?=\s+(?:stag|classif|[IV]))|Van\s+Nuys(?=\s+(?:\d|[Pp]rognostic|VNPI))|"
    r"MST\s+Continus|\bKi[\s\-]?67\b|\b[A-Z]{2,}(?:-[A-Z][a-z]{1,3})+\b(?![\w\-])|"
    r"\b(?:St\.?\s+)?[A-Z][a-z]+(?:'s|’s)?\s+(?:disease|syndrome|sign|node|nodule|procedure|operation|"
    r"fascia|pouch|space|triangle|ring|oesophagus|esophagus|lymphoma|sarcoma|tumou?r|"
    r"classification|staging|grade|score|criteria|index|test|incision|thickness|level|stage|"
    r"regimen|prognostic|nomogram|position|manoeuvre|maneuver|line)\b"
)
_WORD = re.compile(W)
_NAME_GAP = re.compile(
    rf"{_SP}(?:[\"“(]{{1,2}}{W}[\"”)]{{1,2}}{_SP})?(?:{_PARTICLE}[ \t]+)*"
    r"(?:[A-Z](?:\.|(?=[ \t]))[ \t]*)?"
)


@cache
def given_names() -> frozenset[str]:
    """Given names (see given_names.txt for the source), less words of its header and words
    notes capitalise for other reasons (``Given Zometa 4 mg``, ``English``, ``US``)."""
    text = resources.files("oncoseg.text").joinpath("given_names.txt").read_text("utf-8")
    names = (x for x in text.split() if not x.startswith("#") and x[0].isupper())
    return frozenset(names) - _NOT_GIVEN


_NOT_GIVEN = frozenset(["Given", "Census", "Bureau", "English", "German", "US", "Christian"])


def gazetteer_names(text: str) -> list[tuple[int, int]]:
    """Spans of a known given name and the name words right after it (``Margaret Anne H.``)."""
    names, spans = given_names(), []
    for m in _WORD.finditer(text):
        if m.group(0) not in names:
            continue
        end = m.end()
        while True:
            gap = _NAME_GAP.match(text, end)
            nxt = _WORD.match(text, gap.end()) if gap else None
            if nxt is None:
                break
            end = nxt.end()
        spans.append((m.start(), end))
    return spans


def name_words(span_text: str) -> set[str]:
    """Words of a found name to look for elsewhere in the note (``Holloway``, ``HOLLOWAY``)."""
    words = set()
    for w in re.findall(r"[^\W\d_][\w'’\-]*", span_text):
        if len(w) < 3 or re.fullmatch(_NOT_NAME, w) or w.lower() in _PARTICLES_LOWER:
            continue
        title = w[0] + w[1:].lower() if w.isupper() else w
        words.update({title, title.upper()})
    return words


_PARTICLES_LOWER = {p.lower() for p in _PARTICLE[3:-1].split("|")}


def repeated_names(text: str, words: set[str]) -> list[tuple[int, int]]:
    """Every other whole-word occurrence of ``words`` (and their possessive) in ``text``."""
    if not words:
        return []
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w\-'’])(?:{alt})(?![\w\-])")
    return [m.span() for m in pattern.finditer(text)]
