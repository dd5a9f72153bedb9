"""Clinical terms named after people or places, kept by the words around them (issue #33).

An eponym or a classification named after a town reads like a name (``Billroth``,
``Nottingham``, ``Traverso-Longmire``); the name list of text.deid_names protects the common
ones word by word. Here a capitalised word (or two, or a hyphened pair) is protected by what
follows or precedes it, never by a list of the names themselves:

1. a clinical head noun after it: ``Bristol stool type 5``, ``Richter transformation``,
   ``Ryle's tube``, ``Trucut biopsy``, ``Traverso-Longmire modification``, ``Lauren diffuse
   type``; a title-case scoring head: ``Nottingham Prognostic Index``, ``Cambridge
   Prognostic Group``, ``Glasgow Prognostic Score``;
2. a Roman numeral after a single eponym with no capitalised word before it: ``Billroth II
   reconstruction``, ``Bismuth-Corlette IV,`` (not ``John Smith III``);
3. a staging system named after a stage: ``stage IIIA (Ann Arbor)``, ``stadio IIB secondo
   Ann Arbor``, ``Stadium II nach Ann-Arbor``, ``stopień IIIA wg Ann Arbor``; an eponym in
   brackets after a type, risk or grade (``tipo difuso (Lauren)``, ``high risk (Sanz)``);
   an eponym after an anatomical or surgical head noun and ``of``/``de`` (``fossa of
   Rosenmüller``, ``mastectomie de Patey``, ``grau 3 de Quirke``);
4. ``Ph+``, ``Ph-negative``, ``Ph positive`` (the Philadelphia chromosome);
5. a hyphened compound whose last part is a clinical word of another language
   (text.deid_cognates) or a common word of seven letters or more: ``Whipple-Operation``,
   ``Stent-Implantation``, ``B-Zell-Lymphom`` (not ``Pryce-Davies``, ``Nwosu-Kaplan``,
   ``Rivière-des-Prairies``), or a medical word by its shape (``Sentinel-Lymphknoten``);
6. a regimen by its hyphened letters, a word or a small part and capitals at the end
   (``Pola-R-CHP``, ``R-mini-CHOP``, ``Albyl-E``);
7. a trial's protocol code where a protocol is named (``per AEWS0031``, ``COG
   AALL0932-based protocol``): letters and digits that would otherwise read as a record number;
8. public codes: a trial's registry number by its prefix (``NCT05139056``, ``ISRCTN…``,
   ``EudraCT 2019-001234-56``, ``ChiCTR…``, ``jRCT…``, ``CTRI/2021/03/031234``); an ICD-10 code
   with its decimals (``C50.41``) or an ICD-O morphology code (``M8140/3``, ``8500/3``) on a
   line that names a code or a diagnosis (``ICD``, ``Dx``, ``Diagnose``, ``morphology``) and
   not right after a record label (``Hospital number K12.34``, ``Lab no. 9123/0`` stay
   identifiers): they name a trial or a disease, not a patient;
9. the radiotherapy target regions oncoseg's notes name, in any case: ``Chest Wall``,
   ``Tumour Bed``, ``Supraclavicular Fossa``, ``Internal Mammary Chain``, ``Axillary Levels
   I-III``, ``Whole Breast`` (a title-cased plan is still a plan);
10. the section headings of a clinical note at a line's start, before a colon or the line's
   end, in any case: ``PAST MEDICAL HISTORY``, ``Presenting complaint:``, ``PLAN:`` (a line
   of capitals opening a note is otherwise read like a letterhead).

The spans are protected like text.deid_names.PROTECT: no layer masks inside them.

Example:
    >>> t = "Billroth II reconstruction; Bristol stool type 6; seen by John Smith III."
    >>> [t[s:e] for s, e in kept_spans(t)]
    ['Billroth II', 'Bristol stool type']
"""

from __future__ import annotations

import re

from oncoseg.text.deid_cognates import is_cognate_clinical
from oncoseg.text.deid_names import PROTECT, given_names
from oncoseg.text.deid_vocab import is_clinical, is_common, is_medical_shape

_EP = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]{2,}"
_EPONYM = rf"{_EP}(?:-{_EP})?(?:['’]s?)?"
_HEAD = re.compile(
    rf"\b{_EPONYM}(?:[ \t]+(?:[a-z]{{4,12}}[ \t]+)?(?:type|classification|grading)\b|[ \t]+"
    r"(?:stool|tube|transformation|biopsy|catheter|reconstruction|modification|anastomosis|"
    r"criteria|algorithm|macroglobulin(?:a?emia)?|phenomenon|dressing)\b)"
)
_TITLE_HEAD = re.compile(
    rf"\b{_EP}(?:[ \t\-]+{_EP})?[ \t]+(?:(?:Prognostic|Risk|Comorbidity)[ \t]+"
    r"(?:Index|Group|Score|Scale|Model|Category)|Index|Score|Scale|Criteria|Classification|"
    r"Staging|Nomogram)\b"
)
_ROMAN = re.compile(
    rf"\b{_EP}(?:-{_EP})?[ \t]+(?:IV|I{{1,3}})(?![\w+\-/])(?=[ \t]+[a-z]|[ \t]*[,;.)]|[ \t]*$)",
    re.M,
)
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’.\-]*)[ \t]*$")
_STAGE = (
    r"(?i:stage|stadio|stadium|estadio|est[áa]dio|stade|staging|stopie[ńn]|stopnia|evre|"
    r"st[áa]dium|stadij|stadiul?)[ \t]+[0-4IV]{1,4}"
    r"(?:[ \t]?[A-E])?\d?"
)  # Stadium IV B
_SYSTEM_AFTER_STAGE = re.compile(
    rf"{_STAGE}[ \t]*(?:\(|,?[ \t]+(?i:per|according[ \t]+to|secondo|nach|selon|seg[úu]n|"
    rf"segundo|volgens|enligt|ifølge|wg\.?|według|gemäß|podle|dle|după)[ \t]+)"
    rf"({_EP}(?:[ \t\-]{_EP})?)\b"
)
_TYPE_WORD = (  # a histological type named after its author, a given name too (Lauren)
    r"(?i:type|typ|tipo|diffuse|difuso|diffus|diffuso|intestinal|intestinale|mixed|mixto|misto)"
)
_RISK_WORD = r"(?i:risk|riesgo|rischio|risque|risiko|grade|grado|grau|stage|score)"
_BRACKET_AFTER_CUE = re.compile(
    rf"\b(?:({_TYPE_WORD})|{_RISK_WORD})[ \t]*\(({_EP}(?:[\-/]{_EP})?)\)"
)
_HEAD_BEFORE = re.compile(
    r"\b(?i:fossa|fosse|fosa|mastectom(?:y|ie|ía|ia)|operation|opération|operación|operação|"
    r"procedure|procédure|procedimiento|procedimento|technique|técnica|tecnica|sign|signe|"
    r"signo|segno|maneuver|manoeuvre|manœuvre|maniobra|manobra|grade|grado|grau|triangle|"
    r"ligament|ligamento|pouch|space|espace|espacio|classification|classificação|"
    r"clasificación|classificazione)(?:[ \t]+\d)?[ \t]+(?:of|de|di|du|da|del|des)[ \t]+"
    rf"({_EPONYM})(?![\w\-])"
)
_PH = re.compile(r"\bPh(?:[+\-]|[ \t\-]+(?:positive|negative|chromosome|pos|neg)\b)")


def _roman_spans(text: str) -> list[tuple[int, int]]:
    """An eponym before a Roman numeral with no capitalised word before it."""
    out = []
    for m in _ROMAN.finditer(text):
        before = _WORD_BEFORE.search(text, max(0, m.start() - 30), m.start())
        if before and before.group(1)[0].isupper() and text[before.end(1)] in " \t":
            continue  # "John Smith III", "Dr Jones II"
        out.append(m.span())
    return out


_COMPOUND = re.compile(rf"\b(?:{_EP}|[A-Z]{{1,5}})(?:-[^\W\d_]+)*-({_EP})(?![\w\-])")


def _compound_spans(text: str) -> list[tuple[int, int]]:
    """A hyphened compound whose last part is a clinical or long common word."""
    out = []
    for m in _COMPOUND.finditer(text):
        last = m.group(1)
        if re.search(r"-[a-zß-öø-ÿ]{1,3}-", m.group(0)):
            continue  # a town: Rivière-des-Prairies
        long_common = len(last) >= 7 and is_common(last.lower())
        cognate = is_cognate_clinical(last) and not is_clinical(last)  # not Nwosu-Kaplan
        if long_common or cognate or (len(last) >= 7 and is_medical_shape(last.lower())):
            out.append(m.span())
    return out


# a regimen by its hyphened letters: a word or a small part, and capitals at the end
_REGIMEN = re.compile(
    r"\b(?=[\w\-]*-(?:[A-Z][a-z]{1,6}|[a-z]{2,6})-|(?:[A-Z][a-z]{1,6}|[a-z]{2,6})-)"
    r"(?:[A-Z]{1,5}|[A-Z][a-z]{1,6}|[a-z]{2,6})(?:-(?:[A-Z]{1,5}|[A-Z][a-z]{1,6}|[a-z]{2,6}))*"
    r"-[A-Z]{1,5}\b(?![\-/]?\d)"
)
# a trial's protocol code where a protocol is named: "per AEWS0031", "COG AALL0932-based"
_TRIAL_CODE = re.compile(
    r"\b(?i:per|protocol|trial|study|studie|estudio|étude|protokoll)[ \t]+"
    r"((?:[A-Z]{2,5}[ \t]+)?[A-Z]{3,6}\d{3,5}(?:-based)?)\b(?![\-/]\d)|"
    r"\b((?:[A-Z]{2,5}[ \t]+)?[A-Z]{3,6}\d{3,5}(?:-based)?)(?=[ \t]+(?i:protocol|trial|study)\b)"
)


# a trial's registry number: its prefix says what it is ("NCT05139056", "EudraCT-Nr. 2019-…")
_REGISTRY = re.compile(
    r"(?<![\w.\-/])(?:(?:NCT|ISRCTN|DRKS)[ \t]?\d{8}|ACTRN\d{14}|UMIN\d{9}|KCT\d{7}|"
    r"ChiCTR-?[A-Z]{0,4}\d{6,12}|jRCT[sd]?\d{8,10}|CTRI/\d{4}/\d{2,3}/\d{4,6}|"
    r"Eudra[ \-]?CT(?:[ \t\-]*(?i:no\.?|number|nr\.?))?[ \t:#]*\d{4}-\d{6}-\d{2})"
    r"(?![\w/\-]|\.\d)"
)
# a diagnosis code only where the line names one ("ICD-10 C50.41", "Dx: C90.00", "morphology
# M8140/3"), never after a record label ("Hospital number K12.34", "Lab no. 9123/0")
_CODE_CUE = re.compile(
    r"(?i:\b(?:ICD|CIE|CIM|ICD-?10(?:-CM)?|ICD-?O(?:-3)?|Dx|diagnos\w*|code|morpholog\w*|"
    r"histolog\w*|topograph\w*))\b[^\n]{0,40}$"
)
_ID_LABEL = re.compile(
    r"(?i:\b(?:MRN|ID|no|nr|number|num|bed|room|case|fall|lab|accession|ref|tel|phone|fax|"
    r"insurance|sample|ticket|hospital|patient|#)\W{0,3})$"
)
_DIAGNOSIS_CODE = re.compile(
    r"(?<![\w.\-/])(?:[A-Z]\d{2}\.\d{1,3}|M-?[89]\d{3}/[0-3]|[89]\d{3}/[0-3])(?![\w/\-]|\.\d)"
)


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Registry numbers anywhere; diagnosis codes on a line that names a code or diagnosis,
    not right after a record label."""
    out = [m.span() for m in _REGISTRY.finditer(text)]
    for m in _DIAGNOSIS_CODE.finditer(text):
        before = text[max(0, m.start() - 60) : m.start()]
        if _CODE_CUE.search(before) and not _ID_LABEL.search(before):
            out.append(m.span())
    return out


_TARGET = re.compile(
    r"\b(?i:chest[ \t]+wall|tumou?r[ \t]+bed|(?:supra|infra)clavicular[ \t]+(?:fossa|nodes|region)|"
    r"internal[ \t]+mammary[ \t]+(?:chain|nodes)|axillary[ \t]+(?:levels?|nodes)(?:[ \t]+"
    r"(?:IV|I{1,3}|[1-4])(?:[ \t]*[-–][ \t]*(?:IV|I{1,3}|[1-4]))?)?|"
    r"(?:whole|partial)[ \t]+breast)\b"
)

_HEADING = re.compile(
    r"(?im)^[ \t]*((?:past[ \t]+(?:medical|surgical|oncological)[ \t]+history|"
    r"history[ \t]+of[ \t]+(?:the[ \t]+)?present(?:ing)?[ \t]+(?:complaint|illness)|"
    r"(?:presenting|chief)[ \t]+complaint|(?:social|family|drug|smoking)[ \t]+history|"
    r"review[ \t]+of[ \t]+systems|(?:physical[ \t]+)?examination|treatment[ \t]+summary|"
    r"clinical[ \t]+(?:history|summary|details)|medications?|allergies|investigations|"
    r"impression|assessment|diagnosis|plan))[ \t]*(?::|\r?$)"
)


def kept_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the clinical terms above, sorted by their start."""
    patterns = (_HEAD, _TITLE_HEAD, _PH, _REGIMEN, _TARGET)
    spans = [m.span() for p in patterns for m in p.finditer(text)] + _code_spans(text)
    spans += [m.span(m.lastindex or 0) for m in _TRIAL_CODE.finditer(text)]
    spans += _compound_spans(text)
    spans += [m.span(1) for m in _SYSTEM_AFTER_STAGE.finditer(text)]
    spans += [m.span(1) for m in _HEADING.finditer(text)]
    spans += [  # a single eponym; a given name only after a histological type ("Lauren")
        m.span(2) for m in _BRACKET_AFTER_CUE.finditer(text) if m[1] or m[2] not in given_names()
    ]
    spans += [m.span(1) for m in _HEAD_BEFORE.finditer(text) if m[1] not in given_names()]
    return sorted(spans + _roman_spans(text))


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Text no layer masks: the eponyms of text.deid_names.PROTECT (``pouch of Douglas``)
    and the terms kept by their context (:func:`kept_spans`)."""
    return [m.span() for m in PROTECT.finditer(text)] + kept_spans(text)
