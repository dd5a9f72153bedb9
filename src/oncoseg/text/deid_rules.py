"""Patterns for the de-identifier other than names: dates, numbers, phones, places, ages.

Each rule is ``(tag, pattern, group)``: the group of a match holding the identifier. The
order matters (text.deid keeps the first rule's span where two overlap). Clinical
look-alikes kept on purpose: ``ER 8/8``, ``(2/14)`` nodes, ``T2N1mi``, ``KEYNOTE-522``,
``Ki-67``, doses, years alone, ages under 90.
"""

from __future__ import annotations

import re

from oncoseg.text.deid_intl import (
    FACILITY_LAST_INTL,
    ID_LABEL_INTL,
    INTL_AGE_RULES,
    INTL_DATE_RULES,
    INTL_PLACE_RULES,
)

Rule = tuple[str, re.Pattern[str], int]

_MONTHS = [
    ("January", "Jan"),
    ("February", "Feb"),
    ("March", "Mar"),
    ("April", "Apr"),
    ("May", "May"),
    ("June", "Jun"),
    ("July", "Jul"),
    ("August", "Aug"),
    ("September", "Sept|Sep"),
    ("October", "Oct"),
    ("November", "Nov"),
    ("December", "Dec"),
]


def _cased(words: list[str]) -> str:
    """Title and UPPER case forms (``Jan|JAN``), never lower case (``may``, ``mar``)."""
    return "|".join(f"{w}|{w.upper()}" for w in sorted(words, key=len, reverse=True))


MONTH_FULL = rf"(?:{_cased([full for full, _ in _MONTHS])})"
MONTH = rf"(?:{_cased([m for full, ab in _MONTHS for m in [full, *ab.split('|')]])})\.?"
WEEKDAY = (
    r"(?:Mon(?:day)?|Tue(?:s(?:day)?)?|Wed(?:nesday)?|Thu(?:r(?:s(?:day)?)?)?|Fri(?:day)?|"
    r"Sat(?:urday)?|Sun(?:day)?|MON|TUE|WED|THU|FRI|SAT|SUN)\.?"
)
_ORD = r"\d{1,2}(?:st|nd|rd|th)?"
_DM = (  # day/month or month/day, not a dose such as "2.5 mg"
    r"(?:[12]\d|3[01]|0?[1-9])(?:/|\.(?!\d+\s*(?:mg|g|Gy|cm|mm|ml|mL|%|mcg|units?)\b))"
    r"(?:[12]\d|3[01]|0?[1-9])"
)
_DATE_CONTEXT = (
    r"(?i:on|from|to|until|till|since|by|before|after|dated?|admitted|discharged|review|"
    r"reviewed|seen|visit|appt|appointment|scan|call|w/c|week\s+of|due|PET|CT|MRI)"
)
_ID_LABEL = (
    r"(?i:MRN|Hosp(?:ital)?\.?\s*(?:no\.?|number|ID|#)?|Medical\s+record(?:\s+(?:number|no\.?))?|"
    r"Record\s*(?:no|number|#)|Accession(?:\s*(?:no|number|#))?|Acc(?:t|ount)?(?:\.|#)?|"
    r"NHS(?:\s+(?:no|number))?|SSN|CHI|Unit(?:\s+no\.?)?|Episode|Lab\.?\s+no|"
    r"Specimen(?:\s+no)?|Case\s*(?:no|#)|Op(?:eration)?\.?(?:\s+note)?\s+no|Encounter|"
    rf"(?:Patient|Study|Hospital|Trial)\s+ID|ID|Ref(?:erence)?|{ID_LABEL_INTL})"
)
# a record number: digits in groups, with a prefix of capitals ("RMH 1102934", "INCA 776.441-2")
# and a check letter or digits after a hyphen ("4451902-A", "123.456.789-09")
_ID_VALUE = (
    r"(?=(?:[A-Z\-/ .]*\d){4})[A-Z]{0,5}[\-/ ]?\d[\dA-Z]*"
    r"(?:(?:[ \-/]|\.(?=\d))\d[\dA-Z]*|-[A-Z]{1,2}\b)*"
)
_STREET = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|"
    r"Terrace|Close|Crescent|Square|Sq|Highway|Hwy|Parkway|Gardens|Grove|Row|Walk|Mews|Hill)\.?"
)
_CAP = (
    r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]{1,30}(?:-[A-Za-zÀ-ÿ][a-zß-öø-ÿ'’]{1,30}){0,3}"  # a capitalised word
)
_CAPS = rf"{_CAP}(?:[ \t]+(?:(?:y|le|la|de|upon|on|in|under)[ \t]+)?{_CAP}){{0,2}}"
_SP = r"(?:[ \t]+|[ \t]*\n[ \t]*)"  # a space, or one line break
_POSTCODE = r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
_STATES = (
    r"AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|"
    r"NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)
# facility words that alone do not make a place a name ("Breast Unit", "Day Surgery")
GENERIC = frozenset(
    re.findall(
        r"\S+",
        """
        cancer oncology medical health care general university district community teaching
        regional national specialist private nhs foundation trust hospital hospitals centre
        center clinic unit ward surgery practice institute hospice the and of for day outpatient
        inpatient acute assessment treatment infusion research clinical intensive high
        dependency critical breast thyroid lung skin survivorship chemotherapy radiotherapy
        radiation haematology hematology surgical renal cardiac stroke neuro plastics burns
        maternity paediatric pediatric palliative pain fertility genetics endocrine respiratory
        urology gynae gynaecology colorectal upper lower head neck eye dental mental joint late
        effects tumour tumor sarcoma lymphoma myeloma brain spinal prostate bladder kidney liver
        bone marrow transplant robotic thoracic vascular plastic oncoplastic orthopaedic
        hepatobiliary minimal access laparoscopic reconstructive emergency major minor salvage
        cytoreductive conserving previous prior planned further recent definitive initial
        primary radical revision elective my your our his her their this that same left right
        department team service services suite bay lab laboratory pharmacy radiology pathology
        imaging theatre theatres x-ray admissions reception discharge follow-up
        """,
    )
)
_FACILITY = (
    r"(?:Hospitals?|Infirmary|Hospice|Surgery|Practice|Clinic|Institute|Centre|Center|Unit|Wing|"
    r"Trust|Memorial|Associates|Laborator(?:y|ies)|Labs|Diagnostics|Health\s+Cent(?:re|er)|Medical\s+(?:Cent(?:re|er)|Practice|Group)|"
    rf"{FACILITY_LAST_INTL})"
)
_PLACE_WORD = rf"(?:St\.?|Saint|{_CAP}(?:'s|’s)?)"

RULES: list[Rule] = [
    ("EMAIL", re.compile(r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b"), 0),
    (
        "EMAIL",
        re.compile(
            r"\b[\w.+\-]+[ \t]*(?:\bat\b|\[at\]|\(at\))[ \t]*[\w\-]+(?:[ \t]*(?:\bdot\b|\[dot\]|"
            r"\(dot\))[ \t]*[\w\-]+)*[ \t]*(?:\bdot\b|\[dot\]|\(dot\))[ \t]*"
            r"(?:com|net|org|uk|edu|gov|nhs|au|ca|ie|nz|de|fr|nl|es|it)\b"
        ),
        0,
    ),  # an e-mail written out: jsmith at nhs dot net
    ("ID", re.compile(r"(?<![\w@])@[A-Za-z][\w.]{2,30}\b"), 0),  # a social-media handle
    ("DATE", re.compile(r"\b\d{4}[\-./]\d{1,2}[\-./]\d{1,2}\b"), 0),
    ("DATE", re.compile(rf"\b{MONTH}[\-/]'?\d{{2}}(?:\d{{2}})?\b(?![\-/.]\d)"), 0),  # Mar-24
    ("DATE", re.compile(r"\b\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})\b(?![/.\-]\d)"), 0),
    (
        "DATE",
        re.compile(
            rf"\b(?:{WEEKDAY},?\s+)?{_ORD}[\s\-/]*(?:of\s+)?{MONTH}(?:[\s\-/,]+(?:\d{{4}}|"
            rf"'?\d{{2}})\b(?!\.?\d))?(?![A-Za-z])"
        ),
        0,
    ),
    (
        "DATE",
        re.compile(
            rf"\b(?:{WEEKDAY},?\s+)?{MONTH}\s+(?:the\s+(?=\d{{1,2}}(?:st|nd|rd|th)))?"
            rf"(?:{_ORD}\b(?![./:]\d),?(?:\s+\d{{4}}\b)?|\d{{4}}\b|'\d{{2}}\b|"
            rf"\d{{1,2}}\b(?![./:]\d))"
        ),
        0,
    ),
    ("DATE", re.compile(rf"\b{WEEKDAY}\s+(?:{_DM}\b(?![/.]\d)|{_ORD}\b)(?![./:]\d)"), 0),
    (
        "DATE",
        re.compile(
            rf"\b(?:{_DATE_CONTEXT}|\d{{1,2}}:\d{{2}})\s+({_DM})\b(?![/.]\d)(?!\s+(?i:ago|later)\b)"
        ),
        1,
    ),
    (
        "DATE",
        re.compile(
            r"\b(?i:on|from|until|by|before|after)\s+the\s+(\d{1,2}(?:st|nd|rd|th))\b"
            r"(?!\s+(?:of\s+)?(?i:cycle|fraction|dose|day|week|ventricle|rib|line|course))"
        ),
        1,
    ),
    (
        "DATE",
        re.compile(
            rf"\b(?i:in|since|from|until|till|during|early|mid|late|end\s+of|start\s+of|"
            rf"beginning\s+of)[\s\-]+({MONTH_FULL})\b"
        ),
        1,
    ),
    *INTL_DATE_RULES,
    (  # the label a word of its own: not the "ID" of "IDH1 R132H"
        "ID",
        re.compile(rf"\b{_ID_LABEL}(?![^\W\d_])\.?\s*(?:#|no\.?|number)?\s*[:=]?\s*({_ID_VALUE})"),
        1,
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![\w+])(?:\+|\b00)\d{1,3}(?:[ \t.\-]?\(0?\d{0,5}\))?(?:[ \t.\-]?\d{1,5})"
            r"(?:[ \t.\-]\d{1,5}){1,5}\b(?:[ \t]*(?i:ext\.?|extn\.?|x)[ \t]*\d{1,5}\b)?"
        ),
        0,
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![\w/])(?:\+\d{1,3}[\s\-.]?|\b1[\-.\s])?(?:\(\d{2,5}\)\s?|\d{2,5}[\s\-.])"
            r"\d{3,5}[\s\-.]?\d{3,4}\b(?:\s*(?i:ext\.?|extn\.?|x)\s*\d{1,5}\b)?"
        ),
        0,
    ),
    (
        "PHONE",
        re.compile(
            r"\b(?i:bleep|bleeper|pager|ext\.?|extn\.?|extension)\s*(?:no\.?)?\s*:?\s*(\d{3,6})\b"
        ),
        1,
    ),
    (
        "ADDRESS",
        re.compile(
            r"(?:\b(?:Flat|Apt|Apartment|Unit|Suite|Lot|Plot|Shop|Level|Floor|Office|Building)"
            rf"\s+[\w/]+,?\s+|\b(?:Blk|Block)\s+)?"
            rf"\b(?:\d{{1,5}}[\-/])?\d{{1,5}}[A-Za-z]?,?\s+"
            rf"(?:[NSEW]\.?\s+)?(?:{_CAP}\s+){{1,3}}{_STREET}"
            rf"(?:,\s*(?:Apt|Flat|Unit|Suite|#)\.?\s*\w+)?(?:,\s*{_CAPS})?"
            rf"(?:,?\s*(?:{_STATES})\s+\d{{5}}(?:-\d{{4}})?)?"
        ),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            rf"\b\d{{1,5}},?\s+(?:Rue|Avenue|Boulevard|Via|Viale|Calle|Plaza|Piazza|Rua|Praça|"
            rf"Chemin|Place)\s+(?:[\w']+\s+){{0,3}}{_CAP}(?:,?\s*\d{{4,5}}\s+{_CAP})?"
        ),
        0,
    ),  # continental style
    (
        "ADDRESS",
        re.compile(rf"(?:(?:{_CAPS}),[ \t]*){{0,3}}(?:{_CAPS}[ \t]+)?{_POSTCODE}"),
        0,
    ),  # house name, street, town before a UK postcode
    (
        "ADDRESS",
        re.compile(
            rf"(?:\b{_CAPS},\s+)?\b{_CAPS},\s+(?:(?:{_STATES})\s+\d{{5}}(?:-\d{{4}})?|"
            rf"(?!MD\b)(?:{_STATES})(?![\w\-]))"
        ),
        0,
    ),  # US town, state (ZIP)
    ("ADDRESS", re.compile(rf"\b(?:{_STATES})\s+\d{{5}}(?:-\d{{4}})?\b"), 0),
    (
        "ADDRESS",
        re.compile(
            rf"\b(?i:lives?|living|resides?|resident|moved|relocated|home|works?|worked|worker|"
            rf"teacher|born|grew\s+up|travels?|drives?|driving|transport|commutes?|man|woman|"
            rf"lady|gentleman|boy|girl|holiday(?:ing)?|visiting|flew|flies|flying|returned|returning|"
            rf"based|treated|died)\b(?:[^.\n]|\n(?!\n)){{0,30}}?\b(?:in|from|at|near|to)\s+"
            rf"((?!(?:The|Dr|Mr|Mrs|Ms|Monday|Friday)\b){_CAPS}(?:,\s+(?:{_STATES})(?![\w\-])|"
            rf",\s+{_CAP}(?=[,.;\s]))?)"
        ),
        1,
    ),
    (
        "LOCATION",
        re.compile(
            rf"\b(?:(?!(?:To|The|On|At|From|Via|Back|Home|Same|This|That|Your|His|Her)\b){_CAP}|"
            rf"\d{{1,2}}[A-Z]?)\s+[Ww]ard\b"
        ),
        0,
    ),
    (
        "LOCATION",
        re.compile(r"\b[Ww]ard\s+[A-Z]?\d{1,3}[A-Z]?(?:\s+(?:West|East|North|South)\b)?"),
        0,
    ),
    (
        "LOCATION",
        re.compile(
            r"\b(?i:ward|hospital|clinic|practice|gp[ \t]+practice|surgery|hospice|facility|"
            rf"institution|referring[ \t]+(?:hospital|centre|center|unit))[ \t]*:[ \t]*({_CAPS})"
        ),
        1,
    ),  # a place in a labelled field: "Ward: Nightingale", "Hospital: Mercy"
    (
        "LOCATION",
        re.compile(r"\b[A-Z][a-z]+[ \t]+\d{1,2}[A-Z]?[ \t]+(?:North|South|East|West)\b"),
        0,
    ),  # a ward: Pavilion 12 North
    (
        "LOCATION",
        re.compile(
            r"\b(?:[A-Z][a-z]+[ \t]+)?(?:Suite|Pod|Wing|Bunker|Zimmer|Sala|Quarto)[ \t]+"
            r"(?:[A-Z]?\d{1,3}[A-Z]?|[A-Z])\b(?![\-/.]\d)|"
            r"\bStation[ \t]+(?:\d{1,2}[B-KM-OQS-Z]|[A-Z])\b|"
            r"\b\d{1,2}[A-Z]?[ \t]+(?:North|South|East|West)\b(?:[ \t]+[A-Z][a-z]+)?"
        ),
        0,
    ),  # a unit by its letter or number: Brachytherapy Suite B, Station 3B (not EBUS 4R), 6 West
    (
        "LOCATION",
        re.compile(
            rf"\b(?:The[ \t]+)?(?:{_PLACE_WORD}{_SP}(?:(?:and|of|upon|on)[ \t]+)?){{1,5}}"
            rf"{_FACILITY}\b"
        ),
        0,
    ),
    (
        "LOCATION",
        re.compile(rf"\b(?i:at|to|from)\s+(?:the\s+|(?=The\s))((?:The\s+)?{_CAP}(?:\s+{_CAP})?)"),
        1,
    ),  # "at The Christie", "to the Royal Marsden"
    (
        "ADDRESS",
        re.compile(
            rf"\b(?:Hospital|Cent(?:re|er)|Infirmary|Hospice|Clinic|Institute)\s+"
            rf"\(({_CAP}(?:\s+{_CAP})?)\)"
        ),
        1,
    ),  # the town after a hospital: "... Cancer Centre (Wirral)"
    *INTL_PLACE_RULES,
]

AGE_RULES: list[Rule] = [
    (
        "AGE",
        re.compile(r"\b(9\d|1[01]\d)(?=(?:\s*|-)(?:years?|yrs?|y/?o|y\b|-year|F\b|M\b))", re.I),
        1,
    ),
    ("AGE", re.compile(r"\b(?i:aged?)\s*[:=]?\s*(9\d|1[01]\d)\b"), 1),
    (
        "AGE",
        re.compile(r"(?:\(|(?<=[^\W\d_]),\s+|\bnow\s+|\.\s+)(9\d|1[01]\d)(?=\)|[,.;]\s|\s*[MF]\b)"),
        1,
    ),  # "Smith (94)", "Smith, 97, with", "now 90,"
    *INTL_AGE_RULES,
]

ID_RULES: list[Rule] = [  # record numbers in shapes no label announces
    ("ID", re.compile(r"(?<![\w/.])\d{7,}(?![\w/])"), 0),
    ("ID", re.compile(r"\b[A-Z]{1,4}\d{5,}[A-Z]?\b"), 0),
    ("ID", re.compile(r"\b\d{5,}[A-Z]\b"), 0),
    ("ID", re.compile(r"\b[A-Z]{1,4}\d{0,4}[\-/]\d{2,4}[\-/]\d{3,8}\b"), 0),
    ("ID", re.compile(r"\b[A-Z]{1,4}\d{2}[\-/]\d{4,}\b"), 0),
    ("ID", re.compile(r"\b[A-Z]{1,4}-\d{5,}\b"), 0),
    ("ID", re.compile(r"\b\d{2,3}-\d{2,3}-\d{3,4}\b"), 0),
]


def place_is_generic(span_text: str) -> bool:
    """True for ``Breast Unit``, ``Day Surgery``: every word is a facility or specialty word."""
    if any(ch.isdigit() for ch in span_text):
        return False
    words = re.findall(r"[^\W\d_]+", span_text)
    return all(w.lower().removesuffix("'s") in GENERIC for w in words)
