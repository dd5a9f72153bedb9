"""The breast_ctv clinical record and rule table: which compartments make up the CTV.

The ground-truth CTV is the union of the compartments :func:`ctv_components` names for a
case's clinical fields (documented in docs/phantoms.md):

============  =============================================================
surgery       BCS -> ipsilateral breast; total mastectomy -> ipsilateral chest wall
N0            no nodal regions
N1mi          nodal regions only when T3/T4 (micrometastasis alone is treated as N0)
N1, N2, N3    axilla + supraclavicular fossa + internal mammary chain, ipsilateral
laterality    ``both`` targets both sides with the same rules
============  =============================================================

Example:
    >>> c = BreastClinical(55, "left", "T2", "N2", "M0", "BCS", True, "IDC", clips=False)
    >>> sorted(ctv_components(c))
    ['axilla_left', 'breast_left', 'imn_left', 'scf_left']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from oncoseg.data.phantom import draw

LABELS = {"background": 0, "ctv": 1}
REGION_NAMES = [
    f"{r}_{s}" for r in ("breast", "chestwall", "axilla", "scf", "imn") for s in ("left", "right")
]
REGIONS = {name: i + 1 for i, name in enumerate(REGION_NAMES)}  # region map values
NODAL_REGIONS = ("axilla", "scf", "imn")
N_STAGES = ("N0", "N1mi", "N1", "N2", "N3")

CASE_MIX: dict[str, dict[str, dict[str, float]]] = {
    "internal": {
        "laterality": {"left": 0.50, "right": 0.47, "both": 0.03},
        "surgery": {"BCS": 0.62, "mastectomy": 0.38},
        "n_stage": {"N0": 0.40, "N1mi": 0.08, "N1": 0.30, "N2": 0.14, "N3": 0.08},
        "t_stage": {"T1": 0.40, "T2": 0.42, "T3": 0.12, "T4": 0.06},
        "pathology": {"IDC": 0.82, "ILC": 0.11, "DCIS": 0.07},
    },
    "external": {
        "laterality": {"left": 0.50, "right": 0.48, "both": 0.02},
        "surgery": {"BCS": 0.80, "mastectomy": 0.20},
        "n_stage": {"N0": 0.58, "N1mi": 0.07, "N1": 0.22, "N2": 0.09, "N3": 0.04},
        "t_stage": {"T1": 0.50, "T2": 0.38, "T3": 0.08, "T4": 0.04},
        "pathology": {"IDC": 0.82, "ILC": 0.11, "DCIS": 0.07},
    },
}
CLINICAL_FIELDS = [
    "age",
    "laterality",
    "t_stage",
    "n_stage",
    "m_stage",
    "surgery",
    "chemotherapy",
    "pathology",
    "clips",
]


@dataclass(frozen=True)
class BreastClinical:
    """The clinical fields of one breast case (one row of clinical.csv)."""

    age: int
    laterality: str  # left | right | both
    t_stage: str  # Tis | T1 | T2 | T3 | T4
    n_stage: str  # N0 | N1mi | N1 | N2 | N3
    m_stage: str  # M0
    surgery: str  # BCS | mastectomy
    chemotherapy: bool
    pathology: str  # IDC | ILC | DCIS
    clips: bool  # surgical clips in the tumour bed (BCS only); visible on CT

    def __post_init__(self) -> None:
        if self.laterality not in ("left", "right", "both"):
            raise ValueError(f"laterality must be left/right/both, got {self.laterality!r}")
        if self.n_stage not in N_STAGES:
            raise ValueError(f"n_stage must be one of {N_STAGES}, got {self.n_stage!r}")
        if self.surgery not in ("BCS", "mastectomy"):
            raise ValueError(f"surgery must be BCS or mastectomy, got {self.surgery!r}")

    @classmethod
    def from_row(cls, row: dict[str, str]) -> BreastClinical:
        """The fields of one clinical.csv row (strings, as :meth:`row` writes them)."""
        try:
            return cls(
                age=int(row["age"]),
                laterality=row["laterality"],
                t_stage=row["t_stage"],
                n_stage=row["n_stage"],
                m_stage=row["m_stage"],
                surgery=row["surgery"],
                chemotherapy=row["chemotherapy"] == "yes",
                pathology=row["pathology"],
                clips=row["clips"] == "yes",
            )
        except KeyError as e:
            raise ValueError(f"clinical row lacks the field {e.args[0]!r}") from None

    @property
    def sides(self) -> tuple[str, ...]:
        return ("left", "right") if self.laterality == "both" else (self.laterality,)

    def row(self) -> dict[str, Any]:
        out = asdict(self)
        out["chemotherapy"] = "yes" if self.chemotherapy else "no"
        out["clips"] = "yes" if self.clips else "no"
        return out


def nodal_irradiation(c: BreastClinical) -> bool:
    """Whether the regional nodes are part of the CTV (the rule table)."""
    if c.n_stage == "N1mi":
        return c.t_stage in ("T3", "T4")
    return c.n_stage != "N0"


def ctv_components(c: BreastClinical) -> set[str]:
    """Names of the regions (see ``REGIONS``) whose union is the CTV."""
    parts: set[str] = set()
    for side in c.sides:
        parts.add(f"breast_{side}" if c.surgery == "BCS" else f"chestwall_{side}")
        if nodal_irradiation(c):
            parts.update(f"{r}_{side}" for r in NODAL_REGIONS)
    return parts


def sample_clinical(rng: np.random.Generator, site: str) -> BreastClinical:
    """Draw one case's clinical fields from the site's case mix."""
    mix = CASE_MIX[site]
    pathology = draw(rng, mix["pathology"])
    t_stage, n_stage = draw(rng, mix["t_stage"]), draw(rng, mix["n_stage"])
    if pathology == "DCIS":
        t_stage, n_stage = "Tis", "N0"
    surgery = draw(rng, mix["surgery"])
    positive = n_stage not in ("N0", "N1mi")
    chemo = bool(rng.random() < 0.15 + 0.5 * positive + 0.2 * (t_stage in ("T3", "T4")))
    return BreastClinical(
        age=int(np.clip(round(rng.normal(56, 11)), 28, 89)),
        laterality=draw(rng, mix["laterality"]),
        t_stage=t_stage,
        n_stage=n_stage,
        m_stage="M0",
        surgery=surgery,
        chemotherapy=chemo,
        pathology=pathology,
        clips=bool(surgery == "BCS" and rng.random() < 0.6),
    )


def counterfactual(c: BreastClinical, **changes: Any) -> BreastClinical:
    """The same case with some clinical fields changed (e.g. ``n_stage="N2"``)."""
    return replace(c, **changes)
