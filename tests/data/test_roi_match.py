from __future__ import annotations

import pytest

from oncoseg.data.roi_match import RoiRule, match_rois, parse_roi_rules


def test_parse_rules_in_label_order() -> None:
    rules = parse_roi_rules(" CTV = CTV_Breast* | CTVp* , GTV=GTV*,")
    assert rules == [RoiRule("CTV", ("CTV_Breast*", "CTVp*")), RoiRule("GTV", ("GTV*",))]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CTV", "expected LABEL=PATTERN"),
        ("=CTV*", "expected LABEL=PATTERN"),
        ("CTV=", "expected LABEL=PATTERN"),
        ("", "expected LABEL=PATTERN"),
        ("background=BODY", "'background' is label 0"),
        ("CTV=a*,CTV=b*", "given twice"),
    ],
)
def test_bad_rules_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_roi_rules(text)


def test_match_is_case_insensitive_and_reports_each_kind() -> None:
    rules = parse_roi_rules("CTV=CTV_Breast*,GTV=GTV*|tumo*r*,PTV=PTV*")
    m = match_rois([" ctv_BREAST_left ", "GTVp", "Tumour bed", "Heart", "BODY"], rules)
    assert m.found == {"CTV": " ctv_BREAST_left "}
    assert m.ambiguous == {"GTV": ["GTVp", "Tumour bed"]}
    assert m.missing == ["PTV"]
    assert m.unmatched == ["Heart", "BODY"]
    assert not m.ok
    assert m.problems() == [
        "no ROI matches label 'PTV'",
        "label 'GTV' is ambiguous: ROIs 'GTVp', 'Tumour bed' match",
    ]


def test_a_roi_claimed_by_two_labels_is_ambiguous() -> None:
    rules = parse_roi_rules("CTV=CTV*,CTVn=CTV_N*")
    m = match_rois(["CTV_Breast", "CTV_N1"], rules)
    assert m.ambiguous == {"CTV": ["CTV_Breast", "CTV_N1"], "CTVn": ["CTV_N1"]}
    assert m.found == {} and m.unmatched == []
    ok = match_rois(["CTV_Breast", "CTV_N1"], parse_roi_rules("CTV=CTV_B*,CTVn=CTV_N*"))
    assert ok.ok and ok.found == {"CTV": "CTV_Breast", "CTVn": "CTV_N1"}
