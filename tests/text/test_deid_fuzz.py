"""Property-based tests of the note cleaner and de-identifier (hypothesis).

- nothing crashes on arbitrary unicode, and the spans found are sorted, disjoint, in range;
- de-identification is idempotent: running it on its own output changes nothing;
- an identifier the de-identifier removes on its own (``MRN 4451290``) is still removed when
  planted anywhere in random clinical text.
"""

from __future__ import annotations

import datetime as dt
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncoseg.text.deid import deidentify as default_deidentify
from oncoseg.text.deid_names import given_names
from oncoseg.text.notes import clean_note
from tests.text.layers import deidentify, find_identifiers

# DEID_FUZZ_EXAMPLES=1000 for a longer search than the default run's
FUZZ = settings(
    max_examples=int(os.environ.get("DEID_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

CLINICAL = [
    "Left breast IDC, grade 2, ER 8/8, Her2 negative, T2N1mi.",
    "pT1c pN0(sn) (0/2).",
    "Gleason 4+3=7, PSA 14.2, cT3a N0 M0.",
    "Plan 40 Gy in 15 fractions to the right chest wall.",
    "Paget's disease of the nipple not seen.",
    "On letrozole and Zoladex; Kadcyla stopped.",
    "MRI: 23 x 18 mm enhancing lesion, left temporal lobe.",
    "Ki-67 20%. BRCA2 negative.",
    "Ivor Lewis oesophagectomy, no Virchow's node.",
    "ECOG PS 1. Hb 12.4 g/dL.",
    "Seen in clinic.",
    "Discussed at MDT.",
    "Breslow thickness 2.4 mm, Clark level IV.",
    "KEYNOTE-522 regimen, cycle 3.",
    "\n",
]
_DIGITS = st.text("0123456789", min_size=1, max_size=1)
_NAMES = sorted(given_names())
_SURNAME = st.from_regex(r"[A-Z][a-z]{3,9}", fullmatch=True)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.lists(_DIGITS, min_size=n, max_size=n).map("".join)


@st.composite
def planted(draw: st.DrawFn) -> str:
    """A labelled identifier in one of the shapes the rules know."""
    kind = draw(st.sampled_from(["mrn", "nhs", "phone", "date", "name", "email", "age"]))
    if kind == "mrn":
        return "MRN " + draw(_digits(draw(st.integers(7, 10))))
    if kind == "nhs":
        return f"NHS No {draw(_digits(3))} {draw(_digits(3))} {draw(_digits(4))}"
    if kind == "phone":
        fmt = draw(st.sampled_from(["07{a} {b}{c}", "({a}) {b}-{c}", "0161 {b} {c}"]))
        return "Tel " + fmt.format(a=draw(_digits(3)), b=draw(_digits(3)), c=draw(_digits(4)))
    if kind == "date":
        day = draw(st.dates(dt.date(1920, 1, 1), dt.date(2030, 12, 31)))
        fmt = draw(st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%d %b"]))
        return "DOB " + day.strftime(fmt)
    if kind == "name":
        title = draw(st.sampled_from(["Dr", "Mr", "Mrs", "Patient:", "Re:"]))
        return f"{title} {draw(st.sampled_from(_NAMES))} {draw(_SURNAME)}"
    if kind == "email":
        return f"{draw(_SURNAME).lower()}@nhs.example.net"
    return f"aged {draw(st.integers(90, 110))}"


def _value(ident: str) -> str:
    """The identifying part of a planted string (after its label or title)."""
    for label in ("MRN ", "NHS No ", "Tel ", "DOB ", "Patient: ", "Re: ", "aged "):
        if ident.startswith(label):
            return ident[len(label) :]
    return ident.split(" ", 1)[1] if " " in ident and "@" not in ident else ident


@FUZZ
@given(st.text(max_size=400))
def test_never_crashes_and_spans_are_sane(text: str) -> None:
    for note in (text, clean_note(text)):
        spans = find_identifiers(note)
        assert all(0 <= r.start < r.end <= len(note) for r in spans)
        assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
        assert isinstance(deidentify(note).text, str)


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(CLINICAL), planted(), st.text(max_size=30)), max_size=12))
def test_idempotent(parts: list[str]) -> None:
    once = deidentify(clean_note(" ".join(parts))).text
    assert deidentify(once).text == once


@FUZZ
@given(
    st.lists(st.sampled_from(CLINICAL), max_size=6),
    st.lists(st.sampled_from(CLINICAL), max_size=6),
    planted(),
    st.sampled_from([" ", ". ", "\n", ", ", "; "]),
)
def test_planted_identifier_never_returned(
    before: list[str], after: list[str], ident: str, sep: str
) -> None:
    value = _value(ident)
    assert value not in deidentify(ident).text  # recognised on its own ...
    note = " ".join(before) + sep + ident + sep + " ".join(after)
    assert value not in deidentify(note).text  # ... and still removed in context
    assert value not in deidentify(clean_note(note)).text


@FUZZ
@given(st.lists(st.sampled_from(CLINICAL[:-1]), min_size=1, max_size=8))
def test_clinical_text_alone_is_untouched(parts: list[str]) -> None:
    note = " ".join(parts)
    assert deidentify(note).text == note
    assert default_deidentify(note).text == note  # with the learned layer too
