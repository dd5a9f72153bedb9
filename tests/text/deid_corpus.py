"""A seeded corpus of synthetic clinical notes with planted identifiers and their spans.

Identifiers come in many formats (UK/US/ISO dates, phone styles, record-number labels,
accented names, street addresses with postcodes, ages over 89) and sit among clinical text
full of look-alikes that must survive (pN2a (5/19), 50 Gy/25 fx, ER 8/8, Ki-67 20%, T2N1M0,
ages under 90, years alone).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from oncoseg.data.phantom import case_rng
from oncoseg.tasks import brain_tumor, breast_ctv
from oncoseg.tasks.breast_ctv.notes import narrative_note

FIRST = [
    "Maria",
    "John",
    "Aisha",
    "Wei",
    "Olga",
    "Pierre",
    "Fatima",
    "Liam",
    "Sofia",
    "Kenji",
    "Grace",
    "Tomasz",
    "Nkechi",
    "Henrik",
    "Priya",
    "Mateo",
    "Ewa",
    "Siobhan",
    "José",
    "Anne-Marie",
]
LAST = [
    "García",
    "O'Neil",
    "Okafor",
    "Zhang",
    "Ivanova",
    "Dubois",
    "Haddad",
    "Murphy",
    "Rossi",
    "Tanaka",
    "Müller",
    "Kowalski",
    "Adeyemi",
    "Larsen",
    "Sharma",
    "Silva",
    "Smith-Jones",
    "McAllister",
    "Nguyen",
    "Van Dijk",
]
DATE_FORMATS = [
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B",
    "%m/%d/%y",
    "%b %Y",
    "%d-%m-%Y",
]
PHONES = [
    "({a}) {b}-{c}",
    "{a}-{b}-{c}",
    "+44 20 {b} {c}",
    "07{a} {b}{c2}",
    "+1 {a}.{b}.{c}",
    "0161 {b} {c}",
]
ADDRESSES = [
    "{n} Baker Street, London NW1 6XE",
    "{n} Pennsylvania Avenue, Washington, DC 20500",
    "{n} Elm Close, Leeds LS6 2QT",
    "{n} Longwood Ave, Boston, MA 02115",
    "{n} Station Road, Bristol BS1 4DJ",
    "{n} Oak Lane, Springfield, IL 62704",
    "{n} Rue de Rivoli, 75001 Paris",
]
ID_FORMATS = [
    ("MRN: ", "{d7}"),
    ("MRN ", "{d8}"),
    ("Hospital number: ", "K{d7}"),
    ("Medical record number ", "{d9}"),
    ("NHS number ", "{d3} {d3b} {d4}"),
    ("Accession #: ", "A{d6}"),
    ("Acc# ", "{d8}-{d2}"),
    ("Patient ID ", "{d7}"),
]
CONFOUNDERS = [
    "ER 8/8, PR 6/8, HER2 1+.",
    "Ki-67 20%.",
    "50 Gy in 25 fractions over 5 weeks.",
    "Boost 16 Gy/8 fx to the tumour bed.",
    "Tumour 23 x 18 mm, grade 3.",
    "Closest margin 2 mm.",
    "BRCA2 negative.",
    "CT planning with 3 mm slices.",
    "Level II and III nodes dissected.",
    "Onset of symptoms in 2019.",
    "Oncotype score 24.",
    "Dose 2.67 Gy x 15.",
    "Seen 3 times in clinic.",
    "Weight 68 kg, BMI 24.1.",
    "Hb 12.4 g/dL.",
]


@dataclass(frozen=True)
class Planted:
    tag: str
    start: int
    end: int
    text: str


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.planted: list[Planted] = []
        self.pos = 0

    def text(self, s: str) -> None:
        self.parts.append(s)
        self.pos += len(s)

    def ident(self, tag: str, s: str) -> None:
        self.planted.append(Planted(tag, self.pos, self.pos + len(s), s))
        self.text(s)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def _name(rng: np.random.Generator, full: bool = True) -> str:
    last = LAST[int(rng.integers(len(LAST)))]
    return f"{FIRST[int(rng.integers(len(FIRST)))]} {last}" if full else last


def _date(rng: np.random.Generator) -> str:
    d = dt.date(1940, 1, 1) + dt.timedelta(days=int(rng.integers(0, 30000)))
    return d.strftime(DATE_FORMATS[int(rng.integers(len(DATE_FORMATS)))])


def _phone(rng: np.random.Generator) -> str:
    f = PHONES[int(rng.integers(len(PHONES)))]
    return f.format(a=_digits(rng, 3), b=_digits(rng, 3), c=_digits(rng, 4), c2=_digits(rng, 3))


def _header(b: _Builder, rng: np.random.Generator) -> None:
    kind = int(rng.integers(4))
    if kind == 0:
        b.text("Patient: "), b.ident("NAME", _name(rng)), b.text("  DOB: ")
        b.ident("DATE", _date(rng)), b.text("\n")
    elif kind == 1:
        b.text("Name: "), b.ident("NAME", _name(rng)), b.text(". ")
        label, slot = ID_FORMATS[int(rng.integers(len(ID_FORMATS)))]
        value = slot.format(
            d7=_digits(rng, 7),
            d8=_digits(rng, 8),
            d9=_digits(rng, 9),
            d3=_digits(rng, 3),
            d3b=_digits(rng, 3),
            d4=_digits(rng, 4),
            d6=_digits(rng, 6),
            d2=_digits(rng, 2),
        )
        b.text(label), b.ident("ID", value), b.text("\n")
    elif kind == 2:
        b.text("Clinic letter, "), b.ident("DATE", _date(rng)), b.text(". Address: ")
        addr = ADDRESSES[int(rng.integers(len(ADDRESSES)))].format(n=int(rng.integers(1, 400)))
        b.ident("ADDRESS", addr), b.text(".\n")
    else:
        b.text("Referred by Dr. "), b.ident("NAME", _name(rng, full=bool(rng.integers(2))))
        local = "".join(ch for ch in _name(rng, False).lower() if ch.isalpha())
        b.text(" ("), b.ident("EMAIL", f"{local}{int(rng.integers(10, 99))}@hospital.example.org")
        b.text("), tel "), b.ident("PHONE", _phone(rng)), b.text(".\n")


def _footer(b: _Builder, rng: np.random.Generator) -> None:
    kind = int(rng.integers(3))
    if kind == 0:
        b.text(" Next of kin: "), b.ident("NAME", _name(rng)), b.text(", ")
        b.ident("PHONE", _phone(rng)), b.text(".")
    elif kind == 1:
        b.text(" Dictated by "), b.ident("NAME", _name(rng)), b.text(" on ")
        b.ident("DATE", _date(rng)), b.text(".")
    else:
        b.text(" Follow-up on "), b.ident("DATE", _date(rng)), b.text(" with Mr. ")
        b.ident("NAME", _name(rng, full=False)), b.text(".")


def make_corpus(n: int = 60, seed: int = 0) -> list[tuple[str, list[Planted]]]:
    """``n`` notes, each with 3–6 planted identifiers and their character spans."""
    out = []
    for i in range(n):
        rng = case_rng(seed, i)
        b = _Builder()
        _header(b, rng)
        if i % 3 == 2:
            c = brain_tumor.sample_clinical(rng, "internal")
            body = brain_tumor.narrative_note(c, rng)
        else:
            c2 = breast_ctv.sample_clinical(rng, "internal")
            body = narrative_note(c2, rng)
        if rng.random() < 0.35:  # an age over 89, stated as real notes state it
            age = int(rng.integers(90, 104))
            b.text("A "), b.ident("AGE", str(age)), b.text("-year-old woman. ")
        b.text(
            body
            + " "
            + " ".join(CONFOUNDERS[int(j)] for j in rng.choice(len(CONFOUNDERS), 3, replace=False))
        )
        _footer(b, rng)
        if rng.random() < 0.3:
            _header(b, rng)
        out.append(("".join(b.parts), b.planted))
    return out


# Hand-written notes in phrasings the generator does not use, identifiers marked [[TAG|text]].
HANDWRITTEN = [
    "RT consult [[DATE|14 Feb 2024]]. [[NAME|Ingrid Svensson]] ([[AGE|92]] yo) with Rt breast IDC, "
    "pT1c pN0(sn) (0/2), ER+ HER2-. Lumpectomy by Mr [[NAME|Barrow]]. Plan WBRT 26 Gy/5#.",
    "Pt name: [[NAME|Rahul Mehta]]; hosp no. [[ID|RX-0048213]]; seen with daughter "
    "([[PHONE|07911 123456]]). L mastectomy + ALND, 6/21 LN+, pT2 pN2a. For PMRT incl. SCF/IMN.",
    "Called Mrs. [[NAME|Dolores Abernathy]]? no - called patient at [[PHONE|(617) 555-0143]] on "
    "[[DATE|3/7/24]] re: CT sim. Lives at [[ADDRESS|18 Kingfisher Way, Norwich NR4 7TJ]].",
    "E-mail from [[EMAIL|r.okonkwo@nhs.example.net]]: 58F, bilateral DCIS, no nodes sampled, "
    "BCS both sides [[DATE|January 2023]]. Accession [[ID|CT-22-118834]].",
    "Glioma MDT [[DATE|2024-05-30]]: 41M, L temporal LGG (IDH-mut), stable R frontal meningioma "
    "not for RT. Consultant: Dr. [[NAME|H. Lindqvist]]. MRN [[ID|00912274]].",
    "Aged [[AGE|97]], frail. R chest wall recurrence after mastectomy in 2009. Contact son "
    "[[NAME|Peter Quinn]] on [[PHONE|+353 1 555 0192]]. 30 Gy in 10 fractions palliative.",
    "Seen by [[NAME|Ana Lúcia Ferreira]] (registrar) [[DATE|12th March 2024]]. pT3 N1mi, BCS, "
    "no clips. Home: [[ADDRESS|742 Evergreen Terrace, Springfield, OR 97403]].",
    "Ref: NHS [[ID|485 777 3456]]. 66 y/o with left breast ILC, T2 N1 (2/9), WLE + SLNB, "
    "adjuvant AC-T, now for RT to breast and axilla level I-III.",
]


def handwritten_corpus() -> list[tuple[str, list[Planted]]]:
    """Parse ``HANDWRITTEN``: strip the markup and record the marked spans."""
    import re

    out = []
    for raw in HANDWRITTEN:
        b = _Builder()
        pos = 0
        for m in re.finditer(r"\[\[(\w+)\|(.+?)\]\]", raw):
            b.text(raw[pos : m.start()])
            b.ident(m.group(1), m.group(2))
            pos = m.end()
        b.text(raw[pos:])
        out.append(("".join(b.parts), b.planted))
    return out
