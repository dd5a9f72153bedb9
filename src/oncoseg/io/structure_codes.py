"""Codes and colours for output structures, chosen from the dataset's label names.

DICOM-SEG needs a coded category and type per segment, RTSTRUCT an interpreted type (GTV,
CTV, PTV, ORGAN, ...) and a display colour. A small table maps common label names (matched
case-insensitively as words or prefixes: ``CTV_Breast_L`` -> CTV) to SNOMED CT codes; any
other name gets the generic code *Tissue* and keeps its own name as the segment label.

Example:
    >>> code_for("CTV_Breast").rt_type, code_for("CTV_Breast").type.meaning
    ('CTV', 'Clinical target volume (observable entity)')
    >>> code_for("liver").rt_type
    ''
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

_SPATIAL = codes.SCT.SpatialAndRelationalConcept
_ABNORMAL = codes.SCT.MorphologicallyAbnormalStructure
_TISSUE = codes.SCT.Tissue

# (pattern on the label name, category, type, RTROIInterpretedType); first match wins
_TABLE: tuple[tuple[str, Code, Code, str], ...] = (
    (r"gtv", _SPATIAL, codes.SCT.GrossTumorVolume, "GTV"),
    (r"ctv", _SPATIAL, codes.SCT.ClinicalTargetVolume, "CTV"),
    (r"ptv", _SPATIAL, codes.SCT.PlanningTargetVolume, "PTV"),
    (r"necro", _ABNORMAL, codes.SCT.Necrosis, ""),
    (r"o?edema", _ABNORMAL, codes.SCT.Edema, ""),
    (r"tumou?r|glioma|enhancing|neoplasm", _ABNORMAL, codes.SCT.Neoplasm, "GTV"),
    (r"lesion|metasta", _ABNORMAL, codes.SCT.Lesion, ""),
)

# Distinct display colours (RGB), cycled by label order.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (255, 225, 25),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
)


@dataclass(frozen=True)
class StructureCode:
    """Coded meaning of one output structure."""

    category: Code
    type: Code
    rt_type: str  # RTROIInterpretedType; "" when unknown (the attribute is type 2)


def code_for(label_name: str) -> StructureCode:
    """The code for a label name; generic *Tissue* when the table has no entry."""
    name = label_name.lower()
    for pattern, category, type_, rt_type in _TABLE:
        if re.search(rf"(^|[^a-z])({pattern})", name):
            return StructureCode(category, type_, rt_type)
    return StructureCode(_TISSUE, _TISSUE, "")


def colour_for(index: int) -> tuple[int, int, int]:
    """Display colour of the ``index``-th structure (0-based)."""
    return PALETTE[index % len(PALETTE)]
