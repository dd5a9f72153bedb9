"""What the safe-word layer (text.deid_safe) knows to be safe: word lists and number shapes.

Word lists (sources and licences in each file's header; rebuilt by text.deid_wordlists):
``deid_common_words.txt.gz`` (SCOWL lower-case words), ``deid_rare_words.txt.gz`` (long
rare SCOWL words), ``deid_name_words.txt`` (names that are
also words), ``deid_medical_words.txt.gz`` (drug and disease words), ``deid_clinical.txt``
(eponyms, systems, regimens, trials, abbreviations; written for oncoseg).

Numbers: a number is clinical by its shape (a decimal, a percentage, a stage or marker code
such as ``pT2``, ``HER2``, ``Ki-67``, a time, ``4+3=7``, an ordinal, a year alone) or by its
neighbours (a unit after it, a laboratory or score label before it, ``ER`` before a count,
``nodes`` after one). Record numbers, phone parts, house and bed numbers, references with
``#`` and dates in no format the rules know are none of these and are masked.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

from oncoseg.text.deid_intl import FOREIGN_WORDS
from oncoseg.text.deid_names import TITLES, given_names
from oncoseg.text.deid_rules import GENERIC


@cache
def _words(name: str) -> frozenset[str]:
    """The words of a shipped list, lower case; ``#`` lines are its header."""
    raw = resources.files("oncoseg.text").joinpath(name).read_bytes()
    text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")
    header = re.match(r"(?:#[^\n]*\n)*", text)
    body = text[header.end() if header else 0 :]
    # the built lists are lower case already; the hand-written one has comments between groups
    body = re.sub(r"(?m)^#.*$", "", body) if "#" in body else body
    return frozenset((body if body.islower() else body.lower()).split())


def is_common(low: str) -> bool:
    return low in _words("deid_common_words.txt.gz")


def is_foreign_common(low: str) -> bool:
    """A frequent word of another language (names among them: a feature, not a verdict);
    looked up casefolded as wordfreq stores its words (``straße`` as ``strasse``, a final
    ``ς`` as ``σ``)."""
    return unicodedata.normalize("NFC", low).casefold() in _words("deid_foreign_words.txt.gz")


def _known_part(part: str) -> bool:
    return is_foreign_common(part) or is_common(part) or is_clinical(part)


@lru_cache(maxsize=1 << 16)
def is_compound(low: str, depth: int = 1) -> bool:
    """Known words joined (up to three; the last of four letters or more, the others of four
    or of three with a linking ``s``): ``rückenhaut``, ``infektionsrisiko``,
    ``stammzelltransplantation`` (and surnames such as ``bergmann``: a feature, not a
    verdict). Words over 40 letters are none (the search grows with the square)."""
    if not 8 <= len(low) <= 40 or not low.isalpha():
        return False
    for i in range(4, len(low) - 3):
        head, tail = low[:i], low[i:]
        if (_known_part(head) or (head[-1] == "s" and _known_part(head[:-1]))) and (
            _known_part(tail) or (depth < 2 and is_compound(tail, depth + 1))
        ):
            return True
    return False


def is_name_word(low: str) -> bool:
    return low in _words("deid_name_words.txt")


def folded(low: str) -> str:
    """``waldenström`` -> ``waldenstrom``: the word without its accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))


def is_clinical(word: str) -> bool:
    """A clinical word: in the hand-written list, or a drug or disease word of six letters or
    more (the short ones of DrugBank and MeSH are mostly gene symbols and abbreviations that
    read like names: ``Seng``, ``Hemi``, ``Nata``); with or without its accents
    (``Waldenström``, ``Sézary``)."""
    low = word.lower()
    plain = folded(low)
    if plain != low and is_clinical(plain):
        return True
    return (
        low in _words("deid_clinical.txt")
        or (len(low) >= 6 and low in _words("deid_medical_words.txt.gz"))
        or low in _words("deid_rare_words.txt.gz")
    )


def is_medical_listed(low: str) -> bool:
    """A drug or disease word of six letters or more in the shipped lists."""
    return len(low) >= 6 and low in _words("deid_medical_words.txt.gz")


def is_medical(word: str) -> bool:
    """A drug, disease or procedure word by the shipped lists or its shape (``Glioblastoma``),
    not by the hand-written list of eponyms (``Clark`` is a name too)."""
    low = word.lower()
    if is_name_word(low) or low.capitalize() in given_names():
        return False  # Bishop (score), Grace
    listed = len(low) >= 6 and low in _words("deid_medical_words.txt.gz")
    return listed or low in _words("deid_rare_words.txt.gz") or is_medical_shape(low)


_MEDICAL_SUFFIX = re.compile(
    r"[a-z]{3,}(?:ectomy|ectomies|ostomy|otomy|oscopy|oscopic|plasty|pexy|rrhaphy|[^a]itis|"
    r"osis|oses|a?emia|a?emic|penia|penic|ology|ologist|ological|therapy|graphy|gram|mab|"
    r"tinib|ciclib|parib|platin|taxel|rubicin|mycin|cillin|floxacin|azole|prazole|statin|"
    r"parin|lutamide|trozole|relin|plasia|plastic|trophy|pathy|algia|megaly|ectasia|lysis|"
    r"cytosis|blastoma|carcinoma|sarcoma|lymphoma|melanoma|glioma|noma|omas|ectal|ostomies)"
)


_PREFIX = re.compile(
    r"(?:re|pre|post|non|sub|inter|intra|peri|para|hyper|hypo|neo|anti|co|multi|over|under|oligo|"
    r"de|un|mis|semi|trans|extra|retro|supra|infra|micro|macro|mono|bi|tri|poly|pseudo|"
    r"chemo|radio|immuno|onco|lympho|myelo|neuro|cardio|gastro|hepato|nephro|uro|gyn(?:a?e)?|"
    r"naso|oro|jejuno|duodeno|o?esophago|pancreatico|broncho|pleuro|thoraco|laparo|colo|recto|"
    r"vesico|uretero|pyelo|osteo|chondro|angio|ha?emato|cyto|histo|endo|cholangio)"
    r"-?(?=[a-z]{4,}$)"
)


# prefixes that start many surnames: the word after them must be long (restaging, debulking)
_SHORT_PREFIXES = frozenset(["re", "de", "co", "un", "bi", "tri", "mis", "over", "under", "para"])


# stems of clinical words in the languages of European letters (Mammakarzinom, carcinome
# canalaire, Strahlentherapie, quimioterapia); six letters or more, so no surname is one
_FOREIGN_STEM = re.compile(
    r"karzinom|carcinom|sarkom|sarcom|lymphom|linfom|melanom|tumeur|tumore|metasta|"
    r"onkolog|oncolog|radiother|radioter|strahlenther|chimioth|quimiot|chemiot|chemioter|"
    r"chemother|immunoth|hormonoth|therapie|thérapie|terapia|terapie|chirurg|cirurg|cirug|"
    r"ektomie|ectomie|ectomía|ectomia|biopsi|mammogra|mammakarz|mastekt|mastect|lumpekt|"
    r"quadrantect|leukäm|leucém|leucem|leukem|myelom|mieloma|myélome|lymphknot|linfonod|"
    r"ganglion|adenocarc|adénocarc|plattenep|infiltr|canalaire|duttal|diagnos|prognos|"
    r"rezidiv|récidiv|recidiv|palliat|paliat|adjuvan|adyuvan|neoadjuv|néoadjuv|histolog|"
    r"patholog|patolog|zytolog|cytolog|citolog|radiolog|tomogra|szintig|scintig|ecograf|"
    r"échogra|sonogra|resonanz|résonance|resonancia|risonanza|mammaria|mammaire|"
    r"brusterhalt|tumorkonf|tumorboard|nowotw|raka?\b|cáncer|câncer|cancro|cancér|gliom|"
    r"glioblastom|astrozytom|meningeom|"
    r"wildtyp|mutiert|methyliert|fraktion|bestrahl|strahlen|carcinoom|bestraling|behandeling|"
    r"chemotera|hormonal|endokrin|ormonoter|neoplas|neoplaz|linfoma|leucemi|cancéreu|"
    r"kanker|krebs|skopi|scopi|grafi|graphie|grafía|(?<=\w{3})[uú]ri[ae]\b|ämie|hämat|"
    r"hypertoni|hypotoni|karsinom|sarkoom|lymfom|arteriell|schmerz|blutung|blødning|blödning|"
    r"insuffiz|insuffic|insufic|infekt|entzünd|terapi|kardio|kardiy"
)


def is_medical_shape(low: str) -> bool:
    """``jejunostomy``, ``mucositis``, ``restaging``: a medical word by its ending, or a
    common or medical word behind a prefix; ``Mammakarzinom``, ``chimiothérapie``: a stem of
    a clinical word in another language."""
    if _MEDICAL_SUFFIX.fullmatch(low) or _FOREIGN_STEM.search(low):
        return True
    for plural in ("s", "es"):  # fiducials: a clinical word's plural
        stem = low.removesuffix(plural)
        if stem != low and len(stem) > 3 and is_clinical(stem):
            return True
    m = _PREFIX.match(low)
    rest = low[m.end() :] if m else ""
    if not rest or (m and m.group(0) in _SHORT_PREFIXES and len(rest) < 6):
        return False  # Declan, Underwood, Reeves, Devine: a name, not de-clan or re-eves
    return is_common(rest) or is_clinical(rest) or bool(_MEDICAL_SUFFIX.fullmatch(rest))


def is_acronym_like(word: str) -> bool:
    """``NSCLC``, ``HNSCC``, ``FNCLCC``: capitals without vowels are not a name."""
    return not re.search(r"[AEIOUY]", word)


# capitalised words never masked by this layer (titles, labels, function words, facilities)
STOP = FOREIGN_WORDS | frozenset(
    re.findall(r"[A-Za-z]+", TITLES)
    + [w.capitalize() for w in GENERIC]
    + re.findall(
        r"\S+",
        """The A An And Or Of In On At To For With From By As But Not No Yes If So Then This That
    These Those His Her Hers Him He She They Them Their We Our Us You Your I Me My It Its Is Was
    Were Are Be Been Has Had Have Do Does Did Will Would Can Could Should May Might Must Shall
    Dear Re Patient Pt Name Surname Forename Date Dob Address Tel Phone Mobile Email Fax Ref
    Consultant Registrar Nurse Specialist Doctor Professor Team Department Dept Service Unit
    Left Right Bilateral Plan Impression Summary History Findings Diagnosis Procedure Outcome
    Examination Investigations Medications Allergies Social Family Past Medical Drug Problem
    Problems Note Notes Letter Report Copy Cc Encl Yours Kind Regards Best Wishes Sincerely
    Faithfully Thanks Thank Many Signed Dictated Typed Seen Reviewed Verified Authorised
    Discussed Referred Requested Reported Accompanied Checked Mr Mrs Ms Dr Miss Prof
    Son Daughter Wife Husband Partner Mum Mom Dad Mother Father Niece Nephew Carer Brother
    Sister Aunt Uncle Grandson Granddaughter Grandmother Grandfather Friend Neighbour Neighbor
    Assistant Surgeon Anaesthetist Anesthetist Attending Fellow Resident Acct Account Episode
    Case Ward Bed Bay Room Key Worker Chaplain Interpreter Translator""",
    )
)

UNIT_AFTER = re.compile(
    r"[ \t]*(?:-[ \t]*)?(?i:mg|g|kg|mcg|ug|µg|ng|gy|cgy|ml|l|dl|cc|mm|cm|m|km|%|units?|iu|"
    r"mbq|gbq|msv|mmol|umol|µmol|mol|kcal|mins?|minutes?|hrs?|hours?|h|days?|d|weeks?|wks?|w|"
    r"months?|mo|years?|yrs?|y|yo|fractions?|fx|#|x|×|cycles?|doses?|mmhg|bpm|beats|breaths|"
    r"hz|secs?|seconds?|ms|cells|copies|pack|packs|ppd|units|tablets?|tabs?|caps?|puffs?|"
    r"drops?|litres?|liters?|times|nodes?|lns?|cores?|lesions?|mets|metastases|sites?|"
    r"micrograms?|milligrams?|grams?|mls|millilit(?:re|er)s?|nmol|pmol|miu|u|metres?|meters?|"
    r"yards?|miles?|feet|ft|steps|patients|pts|cases|participants|people|women|men|"
    r"x10|x\s*10|[a-zµ]{1,5}/[a-zµ0-9]{1,5}|/(?:l|ul|µl|mm3|hpf|10))"
    r"(?![a-z])"
)
_LABEL_BEFORE = re.compile(
    r"(?<![A-Za-z])(?i:cd\d{1,3}(?:\s+count)?|psa|cea|ca|ca-?125|ca\s*19-9|ca\s*15-3|ldh|afp|hcg|hb|hgb|haemoglobin|hemoglobin|plt|"
    r"platelets?|wcc|wbc|neuts?|neutrophils?|anc|lymphs?|lymphocytes|creat|creatinine|egfr|"
    r"gfr|bili|bilirubin|alt|ast|alp|ggt|alb|albumin|na|sodium|k|potassium|calcium|mg|glucose|"
    r"hba1c|tsh|t4|ferritin|b12|folate|inr|aptt|troponin|bnp|crp|esr|score|oncotype|rs|"
    r"leu\w*|neu|neutro\w*|tro|trombo\w*|thrombo\w*|plaquet\w*|piastrin\w*|linfo\w*|"
    r"lymfo\w*|leuco\w*|leuko\w*|krea\w*|gb|pcr|vsg|h[äe]moglobin\w*|"
    r"(?-i:Cr)|urea|lact|lactate|phos|"
    r"dose|total|weight|wt|height|ht|bmi|bp|hr|rr|pulse|sats|spo2|o2|temp|volume|vol|suv|"
    r"suvmax|hu|mu|cgy|gy|lvef|ef|ps|ecog|kps|karnofsky|qtc|qrs|vol|size|measuring|"
    r"rtog|eortc|nsabp|calgb|acosog|swog|nrg|gog|jcog|ncic|keynote|checkmate|impower|"
    r"trial|protocol|"
    r"measures|measured|up\s+to|approx|approximately|about|~|of|x|×|=|<|>|≤|≥|-|to|and|"
    r"by|from|cycle|day|week|fraction|level|grade|stage|group|type|phase|line|arm|v|version|"
    r"exon|codon|count|counts|igg|iga|igm|kappa|lambda|paraprotein|ratio|index|pack|"
    r"years|decline|rise|fell|rose|nadir|peak|baseline|increased|decreased)[ \t:=]*$"
)
_COUNT_CONTEXT = re.compile(
    r"(?i:\bER|\bPR|\bPgR|allred|score|nodes?|LNs?|SLNs?|positive|involved|cores?|pN\w*|N[0-3]\w*|"
    r"ypN\w*|\bpT\w*|quick\s+score|H-score|TPS|CPS|\(|harvested|examined|retrieved|sampled|"
    r"removed|were|of|gcs|power|strength|mrc|fractions?|fx|cycles?|doses?|va|vision)[ \t(:]*$"
)
# 2/52, 3/7, 6/12: weeks, days and months (British shorthand) after "in", "for" or before "ago"
_DURATION_BEFORE = re.compile(
    r"(?i:\b(?:in|for|x|over|after|within|last|past|next|every|approx|about|~|of))[ \t]*$"
)
_DURATION_AFTER = re.compile(r"[ \t]*(?i:ago|later|post|history|hx|hence|previously|prior)\b")
_COUNT_AFTER = re.compile(
    r"[ \t)]*(?i:nodes?|LNs?|LN\+|SLNs?|positive|\+|pos|neg|involved|cores?|fx|fractions?|#|"
    r"ER|PR|lymph|axillary|metastatic|harvested|examined|retrieved|sampled|removed|"
    r"gangli\w*|gânglios|linfonod\w*|lymphknoten|lymfeknuder|lymfkörtlar|węzł\w*|fragment\w*|"
    r"frammenti|biops\w*|carottes|cylind\w*|stanz\w*|zylinder|"
    r"(?:con|com|with|avec|mit|z)[ \t]+(?:met[aá]st\w*|positiv\w*|invas\w*))"
)
# a pain or symptom score out of ten ("Pain 3/10", "dolor 2/10", "EVA 3/10", "ból 2/10 w
# skali NRS", "dolore lombare 5/10", "3/10 at rest, 7/10"): a word of pain or a scale within
# the sentence's last 35 characters (not "Dolores", "bolus")
_OUT_OF_TEN = re.compile(
    r"(?:\b(?i:pain\w*|dor|douleurs?|ból\w*|bolest\w*|pijn\w*|\w*schmerz\w*|smerte\w*|"
    r"smärt\w*|kipu\w*|nrs|nprs|scores?|scale|skala|escala|échelle|scala|fatigue|nausea|"
    r"distress)|\b[Dd]olor(?:e|es)?(?!\w)(?<!Dolores)|\b(?:VAS|EVA|ENS))\b[^.;\n]{0,35}$"
)
# a count whose sentence is about nodes or cores ("Sentinel node: deposit (1.1 mm), 1/14")
_NODES_IN_SENTENCE = re.compile(r"(?i:\bnodes?\b|\bLNs?\b|\bSLNs?\b|sentinel|\bcores?\b)")
_PLACE_NUMBER_BEFORE = re.compile(
    r"(?:(?i:\bbed|\bbay|\broom|\bflat|\bapt|\bhouse|\bplot|\blot|\bsector|"
    r"\bbuilding|\bbldg|\bvilla|\bcasa|\bapto|\bdepto|\bpiso)(?:[ \t]+(?i:no|nr)\.?)?|"
    r"\b(?:Lane|Street|Road|Gali|Soi|Ngo)|#)\s*$"
)
_YEAR = re.compile(r"(?:19|20)\d\d")
_AMINO = "ACDEFGHIKLMNPQRSTVWY"
_PROTEIN_CHANGE = re.compile(
    rf"(?:p\.)?[{_AMINO}]\d{{1,4}}(?:_[{_AMINO}]\d{{1,4}})?(?:[{_AMINO}*]|fs\*?\d*|del|ins[A-Z]*|dup)"
)


def is_value_label(before: str) -> bool:
    """Whether ``before`` ends with a lab, score or measurement label (``Lactate``, ``HR``)."""
    return bool(_LABEL_BEFORE.search(before))


def _digits(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def number_is_clinical(core: str, before: str, after: str) -> str | None:
    """The tag to mask a number-like chunk with, or None when its shape or context is
    clinical. ``before``/``after``: the text just around it."""
    if core.startswith("#"):  # a reference: "#4471-22" (a fraction count is written "5#")
        return "ID" if _digits(core) > 2 or re.search(r"[A-Za-z]", core) else None  # #2: a count
    if re.fullmatch(r"\d{1,2}#", core):
        return None  # a number of fractions: 50 Gy in 25#
    if _PROTEIN_CHANGE.fullmatch(core):
        return None  # a protein change: H1047R, V600E, T790M, E746_A750del
    nd = _digits(core)
    if re.fullmatch(r"[cgmnpr]\.[\w>*_+\-]*\d[\w>*_+\-]*|[vV]\d{1,2}(?:\.\d{1,4}){1,2}", core):
        return None  # a sequence variant: c.5946delT, p.V600E; a version: v2.2024
    if re.fullmatch(r"[89]\d{3}/[0-369]", core):
        return None  # an ICD-O morphology code: 8500/3
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})*(?:[.,]\d+)?/(?i:mm3|mm³|mmc|µl|μl|ul|hpf)", core):
        return None  # a count per volume: 78.000/mm3, 8.900/mmc
    if re.search(r"[A-Za-z]", core):  # codes mixing letters and digits
        year = re.fullmatch(r"(?:19|20)\d\d(?:s|'s)?|[A-Z]{2,5}-?(?:19|20)\d\d", core)
        return "ID" if nd >= 4 and not year else None  # a trial named by its year: BC2001
    if re.fullmatch(r"\d+(?:[.,]\d+)?%?|\d+%", core) and nd <= 2:
        place = _PLACE_NUMBER_BEFORE.search(before)  # Bed 4, House No. 9, Plot 12, Lane 3
        return "LOCATION" if place and not UNIT_AFTER.match(after) else None
    percent = r"%?\d+(?:[.,]\d+)?%|%\d+(?:[.,]\d+)?"
    if re.fullmatch(rf"\d*\.\d+%?|\d+\.\d+%?|{percent}|\d{{1,3}},\d{{1,2}}", core):
        return None  # a decimal or a percentage (40,05 Gy: a decimal comma; Turkish %60)
    if re.fullmatch(r"\d{1,2}[:.]\d{2}(?:[ap]m)?|\d{1,2}:\d{1,2}", core, re.I):
        return None  # a time, a ratio 1:1
    if re.search(r"[+=<>≤≥]", core):
        return None  # a Gleason sum, a threshold
    if _YEAR.fullmatch(core) or re.fullmatch(r"(?:19|20)\d\d[\-–/](?:19|20)?\d\d", core):
        return None  # a year, a span of years
    if re.fullmatch(r"\d{1,2}(?:\.\d+)?[\-–]\d{1,2}(?:\.\d+)?", core):
        return None  # a range: 18-24 months, 2.5-5 mg
    if re.fullmatch(r"\d{1,3}(?:[\-–]\d{1,3})?", core):
        return None if UNIT_AFTER.match(after) or is_value_label(before) else "ID"
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{4,6}", core):
        return None if UNIT_AFTER.match(after) or is_value_label(before) else "ID"
    ratio = re.fullmatch(r"(\d{1,3})/(\d{1,3})", core)
    if ratio:  # a count (5/14 nodes, ER 8/8) or a date (3/7): only context tells
        a, b = int(ratio.group(1)), int(ratio.group(2))
        bp = re.search(r"(?i:\bbp|blood\s+pressure)[ \t:]*$", before)
        sentence = re.split(r"[.;]\s|\n", before)[-1]
        nodes = _NODES_IN_SENTENCE.search(sentence)
        if bp or nodes or _COUNT_CONTEXT.search(before) or _COUNT_AFTER.match(after):
            return None
        if 0 in (a, b) or (b == 10 and _OUT_OF_TEN.search(sentence)):
            return None  # no day or month 0 (ECOG 0/1, 0/14); a score out of ten
        duration = _DURATION_BEFORE.search(before) or _DURATION_AFTER.match(after)
        if b in (7, 12, 52) and duration:
            return None
        if max(a, b) > 31 or min(a, b) > 12:
            return None  # no month in it (MMSE 24/30)
        return "DATE"
    return "ID"
