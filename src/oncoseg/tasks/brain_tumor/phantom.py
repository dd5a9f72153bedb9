"""Brain tumour phantom: 4-channel MRI (T1, T1ce, T2, FLAIR) whose target is named by the note.

Every case has one target glioma (high grade: enhancing rim, necrosis, oedema; low grade:
non-enhancing, bright on T2/FLAIR). A share of cases also carries a non-target lesion, which
the note says is not for treatment: a known stable meningioma, a treated metastasis, or a
second focus of the same glioma treated in an earlier course, which looks like the target
(same grade, same tissues, a similar size): only the note tells which of the two is treated
now, as with the nodal regions of the breast phantoms. The label (1 = target) covers the
target lesion only (tumour and its oedema).

Example:
    >>> import numpy as np
    >>> c = sample_clinical(np.random.default_rng(0), "internal")
    >>> c.hemisphere in ("left", "right")
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from oncoseg.data.phantom import (
    Grid,
    ScannerProfile,
    apply_scanner,
    case_rng,
    draw,
    ellipsoid,
    make_grid,
    side_sign,
    smooth_noise,
)
from oncoseg.data.phantom_cohort import CohortSpec
from oncoseg.text.templates import clinical_field, raw_note

LABELS = {"background": 0, "target": 1}
# the region map: the target lesion and the non-target one (a second focus's note variant
# takes the other lesion as its label: oncoseg.tasks.brain_tumor.variants)
REGION_NAMES = {"background": 0, "target": 1, "other_lesion": 2}
CHANNELS = {"0": "T1", "1": "T1ce", "2": "T2", "3": "FLAIR"}
CLINICAL_FIELDS = [
    "age",
    "hemisphere",
    "lobe",
    "grade",
    "history",
    "nontarget",
    "nontarget_hemisphere",
    "nontarget_lobe",
]
# Lobe centres in head coordinates (|x| mm from midline, y anterior, z superior).
LOBES = {
    "frontal": (32.0, 42.0, 18.0),
    "parietal": (35.0, -22.0, 35.0),
    "temporal": (48.0, 8.0, -18.0),
    "occipital": (25.0, -62.0, 8.0),
}
# Tissue intensities per channel (T1, T1ce, T2, FLAIR), arbitrary units.
TISSUE = {
    "scalp": (0.9, 0.9, 0.6, 0.6),
    "skull": (0.08, 0.08, 0.08, 0.08),
    "csf": (0.15, 0.15, 1.0, 0.1),
    "gm": (0.45, 0.47, 0.55, 0.5),
    "wm": (0.65, 0.66, 0.35, 0.4),
    "oedema": (0.42, 0.42, 0.85, 0.85),
    "rim": (0.45, 1.0, 0.6, 0.6),
    "necrosis": (0.22, 0.22, 0.92, 0.5),
    "lgg": (0.35, 0.37, 0.8, 0.8),
    "meningioma": (0.45, 0.95, 0.5, 0.5),
}
SITES: dict[str, ScannerProfile] = {
    "internal": ScannerProfile(
        noise_sd=0.02,
        offset=0.0,
        scale=1.0,
        blur_mm=0.8,
        thickness_mm=1.0,
        fov_xy_mm=(200.0, 215.0),
        fov_z_mm=(180.0, 190.0),
        bias=0.04,
    ),
    "external": ScannerProfile(
        noise_sd=0.045,
        offset=0.03,
        scale=0.9,
        blur_mm=1.6,
        thickness_mm=3.0,
        fov_xy_mm=(225.0, 240.0),
        fov_z_mm=(170.0, 180.0),
        bias=0.09,
    ),
}
CASE_MIX = {"internal": {"high": 0.7, "low": 0.3}, "external": {"high": 0.6, "low": 0.4}}
NONTARGET_SHARE = 0.5
# the non-target lesion's kind; a second focus looks like the target (the note decides)
NONTARGET_KINDS = {"meningioma": 0.3, "treated_metastasis": 0.2, "second_focus": 0.5}


@dataclass(frozen=True)
class BrainClinical:
    """Clinical fields of one brain case."""

    age: int
    hemisphere: str
    lobe: str
    grade: str  # high | low
    history: str  # e.g. "biopsy-proven", "progressive on imaging"
    nontarget: str  # "" | meningioma | treated_metastasis | second_focus
    nontarget_hemisphere: str
    nontarget_lobe: str

    def row(self) -> dict[str, Any]:
        return asdict(self)


def sample_clinical(rng: np.random.Generator, site: str) -> BrainClinical:
    grade = draw(rng, CASE_MIX[site])
    hemi, lobe = draw(rng, {"left": 1, "right": 1}), draw(rng, dict.fromkeys(LOBES, 1.0))
    nontarget, nt_hemi, nt_lobe = "", "", ""
    if rng.random() < NONTARGET_SHARE:
        nontarget = draw(rng, NONTARGET_KINDS)
        nt_hemi = draw(rng, {"left": 1, "right": 1})
        others = [lb for lb in LOBES if lb != lobe or nt_hemi != hemi]
        nt_lobe = others[int(rng.integers(len(others)))]
    age = int(np.clip(round(rng.normal(58 if grade == "high" else 40, 12)), 19, 85))
    history = draw(rng, {"biopsy-proven": 1, "progressive on imaging": 1, "new seizures": 1})
    return BrainClinical(age, hemi, lobe, grade, history, nontarget, nt_hemi, nt_lobe)


def _lesion_centre(lobe: str, hemisphere: str, rng: np.random.Generator) -> np.ndarray:
    x, y, z = LOBES[lobe]
    return np.array([side_sign(hemisphere) * x, y, z]) + rng.normal(0, 5, 3)


def _paint(img: np.ndarray, mask: np.ndarray, tissue: str) -> None:
    img[:, mask] = np.array(TISSUE[tissue], np.float32)[:, None]


def _head(g: Grid, rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Scalp, skull, CSF, grey and white matter, ventricles; returns the brain mask."""
    r = np.array([68.0, 88.0, 72.0]) * rng.uniform(0.93, 1.07, 3)
    for tissue, shrink in (
        ("scalp", 0.0),
        ("skull", 5.0),
        ("csf", 11.0),
        ("gm", 13.0),
        ("wm", 17.0),
    ):
        _paint(img, ellipsoid(g, (0, 0, 0), tuple(r - shrink)), tissue)
    brain = ellipsoid(g, (0, 0, 0), tuple(r - 13.0))
    folds = (
        brain
        & ~ellipsoid(g, (0, 0, 0), tuple(r - 24.0))
        & (smooth_noise(rng, g.x.shape, 1.0) > 0.4)
    )
    _paint(img, folds, "gm")
    _paint(img, brain & (np.abs(g.x) < 1.5), "csf")  # falx
    w = rng.uniform(0.8, 1.3)
    for s in (-1.0, 1.0):
        _paint(img, ellipsoid(g, (s * 10 * w, 5, 8), (7 * w, 28, 10)), "csf")
    return brain


def _glioma(
    g: Grid,
    c: BrainClinical,
    rng: np.random.Generator,
    img: np.ndarray,
    brain: np.ndarray,
    centre: np.ndarray | None = None,
) -> np.ndarray:
    """Paint the glioma of ``c`` (at its lobe, or at ``centre``); its mask (tumour, oedema)."""
    centre = _lesion_centre(c.lobe, c.hemisphere, rng) if centre is None else centre
    rad = rng.uniform(10, 18)
    core = ellipsoid(g, tuple(centre), tuple(rad * rng.uniform(0.8, 1.2, 3))) & brain
    oedema = ellipsoid(g, tuple(centre), tuple(rad * rng.uniform(1.4, 1.9, 3))) & brain
    if c.grade == "high":
        _paint(img, oedema, "oedema")
        _paint(img, core, "rim")
        _paint(img, ellipsoid(g, tuple(centre), (rad * 0.55,) * 3) & brain, "necrosis")
    else:
        _paint(img, oedema & ellipsoid(g, tuple(centre), (rad * 1.2,) * 3), "lgg")
        oedema = oedema & ellipsoid(g, tuple(centre), (rad * 1.2,) * 3)
    return core | oedema


def _nontarget(
    g: Grid,
    c: BrainClinical,
    rng: np.random.Generator,
    img: np.ndarray,
    brain: np.ndarray,
    target: np.ndarray,
) -> np.ndarray:
    """Paint the non-target lesion of ``c``; its voxels (never the target's)."""
    centre = _lesion_centre(c.nontarget_lobe, c.nontarget_hemisphere, rng)
    if c.nontarget == "second_focus":  # the target's twin, painted apart: the target wins
        twin = np.zeros_like(img)
        lesion = _glioma(g, c, rng, twin, brain & ~target, centre) & ~target
        img[:, lesion] = twin[:, lesion]
        return lesion
    if c.nontarget == "meningioma":  # extra-axial: pushed to the brain surface
        direction = centre / np.linalg.norm(centre)
        centre = direction * 62.0
        lesion = ellipsoid(g, tuple(centre), (rng.uniform(7, 12),) * 3) & ~target
        _paint(img, lesion, "meningioma")
        return lesion
    # treated metastasis: small cavity with a thin enhancing rim
    rad = rng.uniform(5, 9)
    lesion = ellipsoid(g, tuple(centre), (rad,) * 3) & brain & ~target
    _paint(img, lesion, "rim")
    _paint(img, ellipsoid(g, tuple(centre), (rad * 0.6,) * 3) & brain & ~target, "csf")
    return lesion


def render(
    anatomy_seed: int,
    c: BrainClinical,
    site: str = "internal",
    size: int = 64,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None, np.ndarray]:
    """Render one case: four float32 channels, the uint8 label, the region map
    (:data:`REGION_NAMES`), the affine."""
    if site not in SITES:
        raise ValueError(f"site must be one of {sorted(SITES)}, got {site!r}")
    profile = SITES[site]
    rng = case_rng(anatomy_seed, 1)
    fov_xy, fov_z = rng.uniform(*profile.fov_xy_mm), rng.uniform(*profile.fov_z_mm)
    g = make_grid(size, (fov_xy * 0.85, fov_xy, fov_z), (0.0, 0.0, 5.0))
    img = np.zeros((4, *g.x.shape), np.float32)
    brain = _head(g, case_rng(anatomy_seed, 2), img)
    target = _glioma(g, c, case_rng(anatomy_seed, 3), img, brain)
    regions = target.astype(np.uint8)
    if c.nontarget:
        other = _nontarget(g, c, case_rng(anatomy_seed, 4), img, brain, target)
        regions[other] = REGION_NAMES["other_lesion"]
    noise_rng = case_rng(anatomy_seed, 5)
    channels = [
        np.clip(apply_scanner(img[k], g.spacing, profile, noise_rng), 0, None) * 1000.0
        for k in range(4)
    ]
    return [ch.astype(np.float32) for ch in channels], target.astype(np.uint8), regions, g.affine


def brain_prompt(row: Mapping[str, Any]) -> str:
    """A one-line prompt for a brain case: ``"left frontal, high-grade glioma"``."""
    grade = "high-grade" if clinical_field(row, "grade") == "high" else "low-grade"
    return f"{clinical_field(row, 'hemisphere')} {clinical_field(row, 'lobe')}, {grade} glioma"


def narrative_note(c: BrainClinical, rng: np.random.Generator) -> str:
    grade = {
        "high": ("high-grade glioma", "glioblastoma, WHO grade 4", "HGG"),
        "low": ("low-grade glioma", "diffuse astrocytoma, WHO grade 2", "LGG"),
    }[c.grade]
    g = grade[int(rng.integers(3))]
    lines = [f"{c.age}-year-old with a {c.hemisphere} {c.lobe} {g}, {c.history}."]
    if c.nontarget:
        what = {
            "meningioma": "known stable meningioma",
            "treated_metastasis": "previously treated metastasis, no active disease",
            "second_focus": "second focus, treated in the earlier course",
        }[c.nontarget]
        lines.append(
            f"Also a {what} in the {c.nontarget_hemisphere} {c.nontarget_lobe} "
            f"region; not a target."
        )
    lines.append(
        [
            "Target: the glioma only.",
            "Plan: radiotherapy to the glioma.",
            "Referred for radical RT.",
        ][int(rng.integers(3))]
    )
    return " ".join(lines)


def make_note(c: BrainClinical, style: str, rng: np.random.Generator) -> str:
    if style == "prompt":
        return brain_prompt(c.row())
    if style == "raw":
        return raw_note(c.row(), CLINICAL_FIELDS)
    if style == "narrative":
        return narrative_note(c, rng)
    raise ValueError(f"note style must be prompt, narrative or raw, got {style!r}")


def cohort_spec() -> CohortSpec:
    """The brain_tumor generator, for :func:`oncoseg.data.phantom_cohort.write_cohort`."""
    return CohortSpec(
        task="brain_tumor",
        prefix="brain",
        channel_names=CHANNELS,
        labels=LABELS,
        clinical_fields=CLINICAL_FIELDS,
        sites=tuple(SITES),
        sample_clinical=sample_clinical,
        render=render,
        make_note=make_note,
        region_names=REGION_NAMES,
    )
