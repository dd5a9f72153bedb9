"""Identifiers found by their context, and clinical look-alikes kept by theirs (issue #33).

The strings are written for these tests; none is taken from a marked corpus.
"""

from __future__ import annotations

import pytest

from oncoseg.text.deid_vocab import number_is_clinical
from tests.text.layers import find_identifiers
from tests.text.test_deid_intl import assert_removed


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Hope attended with her mother. Hope is keen to start.", ["Hope"], []),
        ("Patience's husband rang twice.", ["Patience"], []),
        ("Pt AB, 67F, for review.", ["AB"], []),
        ("Discussed with JB (reg) today.", ["JB"], []),
        (
            "Write to jsmith at nhs dot net or @onc_jane.",
            ["jsmith at nhs dot net", "@onc_jane"],
            [],
        ),
        ("c/o Dolores at reception", ["Dolores"], []),
        ("cc: Dr A. Pemberton, GP; Mrs Iolanthe Grieve", ["A. Pemberton", "Iolanthe Grieve"], []),
        ("Signed: Dr A Khan (GMC 7012345)", ["A Khan", "7012345"], []),
        ("Hope this helps. Rose to 14 after the dose. Will call.", [], ["Hope", "Rose", "Will"]),
    ],
)
def test_names_by_context(text: str, gone: list[str], kept: list[str]) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        ("Patient: OKONJO-BRANDT, Ifeoma  MRN 4471290", ["OKONJO-BRANDT, Ifeoma"], []),
        ("PID|1||4471290||MBEKI^Thandiwe||19610203|F", ["MBEKI^Thandiwe"], []),
        (
            "Head and neck: OPSCC p16+, MDADI 72, MASCC 22, RATHL approach, HIPEC considered.",
            [],
            ["OPSCC", "MDADI", "MASCC", "RATHL", "HIPEC"],
        ),
        ("CNS: Glioblastoma, IDH wild-type.", [], ["Glioblastoma"]),
    ],
)
def test_words_in_capitals_are_acronyms_unless_beside_a_name(
    text: str, gone: list[str], kept: list[str]
) -> None:
    assert_removed(text, gone, kept)


@pytest.mark.parametrize(
    "keep",
    [
        "BRCA2 c.5946delT",
        "BRAF p.V600E",
        "ICD-O 8500/3",
        "NCCN guideline v2.2024",
        "review in 3/12",
        "unwell for 3/7",
        "seen 6/12 ago",
        "GCS 15/15",
        "power 5/5",
        "Fraction 12/30",
        "Wells 1.5",
        "Rockwood 4",
        "CrCl 65 mL/min",
    ],
)
def test_clinical_numbers_and_scores_survive(keep: str) -> None:
    assert_removed(f"Summary: {keep}. Plan discussed.", [], [keep])


def test_a_date_written_like_a_duration_is_still_a_date() -> None:
    text = "Seen on 3/12 in clinic; next appt 6/7."
    found = [text[r.start : r.end] for r in find_identifiers(text) if r.tag == "DATE"]
    assert found == ["3/12", "6/7"]
    assert number_is_clinical("3/12", "review in ", ".") is None
    assert number_is_clinical("3/12", "seen on ", " in") == "DATE"
