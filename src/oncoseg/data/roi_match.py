"""Match RTSTRUCT ROI names to dataset labels by shell patterns (case-insensitive).

A rule set is written ``LABEL=PATTERN[|PATTERN...],...``, e.g.
``CTV=CTV_Breast*|CTVp_Breast*,GTV=GTV*``; labels get values 1, 2, ... in that order.
Patterns follow :mod:`fnmatch` (``*``, ``?``, ``[...]``) and ignore case and surrounding
spaces. For one patient, a label is *found* when exactly one ROI matches it, *missing* when
none does and *ambiguous* when several do (or when one ROI matches several labels); ROIs
that match no label are *unmatched* (reported, not an error).

Example:
    >>> rules = parse_roi_rules("CTV=CTV_Breast*,GTV=GTV*|tumo*r*")
    >>> m = match_rois(["ctv_breast_L", "GTVp", "GTVn", "Heart"], rules)
    >>> m.found, m.ambiguous, m.unmatched
    ({'CTV': 'ctv_breast_L'}, {'GTV': ['GTVp', 'GTVn']}, ['Heart'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class RoiRule:
    """One dataset label and the ROI-name patterns that map to it."""

    label: str
    patterns: tuple[str, ...]

    def matches(self, roi_name: str) -> bool:
        name = roi_name.strip().lower()
        return any(fnmatchcase(name, p.strip().lower()) for p in self.patterns)


def parse_roi_rules(text: str) -> list[RoiRule]:
    """``"CTV=CTV_Breast*|CTVp*,GTV=GTV*"`` -> rules in label order; bad text: ``ValueError``."""
    rules: list[RoiRule] = []
    usage = "expected LABEL=PATTERN[|PATTERN...] separated by commas, e.g. 'CTV=CTV_Breast*'"
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        label, sep, pats = (s.strip() for s in part.partition("="))
        patterns = tuple(p.strip() for p in pats.split("|") if p.strip())
        if not sep or not label or not patterns:
            raise ValueError(f"--roi {text!r}: {part!r}: {usage}")
        if label.lower() == "background":
            raise ValueError(f"--roi {text!r}: 'background' is label 0 and cannot take ROIs")
        if label in (r.label for r in rules):
            raise ValueError(f"--roi {text!r}: label {label!r} given twice (join with '|')")
        rules.append(RoiRule(label, patterns))
    if not rules:
        raise ValueError(f"--roi {text!r}: {usage}")
    return rules


@dataclass
class RoiMatch:
    """The outcome of matching one structure set's ROI names."""

    found: dict[str, str] = field(default_factory=dict)  # label -> the one ROI name
    missing: list[str] = field(default_factory=list)  # labels no ROI matched
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # label -> ROI names
    unmatched: list[str] = field(default_factory=list)  # ROI names no label matched

    @property
    def ok(self) -> bool:
        return not self.missing and not self.ambiguous

    def problems(self) -> list[str]:
        """One line per missing or ambiguous label (ROI names are not patient identity)."""
        out = [f"no ROI matches label '{label}'" for label in self.missing]
        out += [
            f"label '{label}' is ambiguous: ROIs {', '.join(repr(n) for n in names)} match"
            for label, names in self.ambiguous.items()
        ]
        return out


def match_rois(names: Sequence[str], rules: Sequence[RoiRule]) -> RoiMatch:
    """Match ROI ``names`` (one structure set) against ``rules``."""
    hits = {r.label: [n for n in names if r.matches(n)] for r in rules}
    claimed: dict[str, list[str]] = {}
    for label, found in hits.items():
        for n in found:
            claimed.setdefault(n, []).append(label)
    result = RoiMatch(unmatched=[n for n in names if n not in claimed])
    for label, found in hits.items():
        shared = [n for n in found if len(claimed[n]) > 1]
        if not found:
            result.missing.append(label)
        elif len(found) > 1 or shared:
            result.ambiguous[label] = found
        else:
            result.found[label] = found[0]
    return result
