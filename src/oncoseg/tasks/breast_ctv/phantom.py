"""Breast radiotherapy CTV phantom: a chest CT whose target depends on the clinical note.

The ground-truth CTV follows :func:`ctv_components` (the rule table below). The image is
rendered from the anatomy seed, the surgery and its side, and surgical clips only; nodal
status never changes a voxel of the image, so a vision-only model cannot know it.

The rule table and the clinical record are in :mod:`oncoseg.tasks.breast_ctv.clinical`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oncoseg.data.phantom import (
    Grid,
    ScannerProfile,
    apply_scanner,
    case_rng,
    ellipsoid,
    elliptic_cylinder,
    make_grid,
    rod,
    side_sign,
    smooth_noise,
)
from oncoseg.data.phantom_cohort import CohortSpec
from oncoseg.tasks.breast_ctv.clinical import (
    CLINICAL_FIELDS,
    LABELS,
    REGIONS,
    BreastClinical,
    ctv_components,
    sample_clinical,
)
from oncoseg.tasks.breast_ctv.notes import make_note

SITES: dict[str, ScannerProfile] = {
    "internal": ScannerProfile(
        noise_sd=12.0,
        offset=0.0,
        scale=1.0,
        blur_mm=1.0,
        thickness_mm=1.5,
        fov_xy_mm=(420.0, 450.0),
        fov_z_mm=(320.0, 340.0),
    ),
    "external": ScannerProfile(
        noise_sd=28.0,
        offset=25.0,
        scale=1.06,
        blur_mm=2.2,
        thickness_mm=3.5,
        fov_xy_mm=(460.0, 500.0),
        fov_z_mm=(290.0, 310.0),
    ),
}

# Case mix per site (proportions; the external site has more N0 and more BCS).
HU = {
    "air": -1000.0,
    "fat": -100.0,
    "soft": 40.0,
    "muscle": 50.0,
    "lung": -840.0,
    "heart": 42.0,
    "liver": 60.0,
    "bone": 750.0,
    "marrow": 300.0,
    "cord": 25.0,
    "gland": 30.0,
    "skin": 35.0,
    "clip": 2500.0,
}


@dataclass(frozen=True)
class Anatomy:
    """Patient-specific anatomy (mm), drawn from the anatomy seed only."""

    body: tuple[float, float]  # torso semi-axes LR, AP
    wall: float  # thickness of soft tissue over the ribs, anterior
    breast: tuple[float, float, float]  # breast radii LR, AP (depth), SI
    breast_x: float  # |x| of breast centre
    breast_z: float
    clav_z: float
    heart: tuple[float, float, float]
    asym: float  # right/left breast size ratio


def sample_anatomy(rng: np.random.Generator) -> Anatomy:
    a, b = rng.uniform(150, 180), rng.uniform(100, 125)
    return Anatomy(
        body=(a, b),
        wall=rng.uniform(16, 24),
        breast=(rng.uniform(60, 78), rng.uniform(30, 60), rng.uniform(52, 68)),
        breast_x=rng.uniform(0.45, 0.55) * a,
        breast_z=rng.uniform(-45, -20),
        clav_z=rng.uniform(95, 110),
        heart=(rng.uniform(-30, -15), rng.uniform(5, 20), rng.uniform(-55, -35)),
        asym=rng.uniform(0.92, 1.08),
    )


def _regions(
    g: Grid,
    an: Anatomy,
    body: np.ndarray,
    inner: np.ndarray,
    skin5: np.ndarray,
    breasts: dict[str, np.ndarray],
) -> np.ndarray:
    """The compartment map (values from ``REGIONS``), independent of the clinical fields."""
    a, b = an.body
    cage = elliptic_cylinder(g, (0.0, 0.0), (a - an.wall - 8, b - an.wall - 8))
    regions = np.zeros(g.x.shape, np.uint8)
    rb, _, rz = an.breast
    for side in ("left", "right"):
        s = side_sign(side)
        foot = (
            (
                ((g.x - s * an.breast_x) / (rb + 12)) ** 2 + ((g.z - an.breast_z) / (rz + 12)) ** 2
                <= 1.0
            )
            & (g.y > 0.2 * b)
            & (s * g.x > 0)
        )
        regions[foot & ~cage & inner & ~breasts[side]] = REGIONS[f"chestwall_{side}"]
        regions[breasts[side] & skin5] = REGIONS[f"breast_{side}"]
        ax = ellipsoid(g, (s * (a - 28), 0.15 * b, an.breast_z + rz + 30), (26, 34, 32))
        regions[ax & inner & ~cage & (regions == 0)] = REGIONS[f"axilla_{side}"]
        scf = ellipsoid(g, (s * 55, 0.2 * b, an.clav_z + 30), (24, 22, 19))
        regions[scf & inner & (regions == 0)] = REGIONS[f"scf_{side}"]
        imn = elliptic_cylinder(
            g, (s * 28, b - an.wall - 16), (7, 7), (an.breast_z - 30, an.clav_z - 5)
        )
        regions[imn & (regions == 0)] = REGIONS[f"imn_{side}"]
    return regions


def _tissue(
    g: Grid,
    an: Anatomy,
    rng: np.random.Generator,
    breasts_present: dict[str, bool],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """True HU image plus body, inner-body and 5 mm-inside-skin masks and the breast masks."""
    a, b = an.body
    torso = elliptic_cylinder(g, (0.0, 0.0), (a, b))
    breasts = {}
    for side in ("left", "right"):
        present = breasts_present[side]
        breasts[side] = _mound(g, an, side) & ~torso if present else np.zeros_like(torso)
    body = torso | breasts["left"] | breasts["right"]
    shrink = {}
    for mm in (3.0, 5.0):
        t = elliptic_cylinder(g, (0.0, 0.0), (a - mm, b - mm))
        for side in ("left", "right"):
            if breasts_present[side]:
                t |= _mound(g, an, side, shrink_mm=mm)
        shrink[mm] = t & body
    img = np.full(g.x.shape, HU["air"], np.float32)
    img[body] = HU["skin"]
    img[shrink[3.0]] = HU["fat"]
    muscle = elliptic_cylinder(g, (0.0, 0.0), (a - an.wall * 0.6, b - an.wall * 0.6))
    img[muscle] = HU["muscle"]
    for side in ("left", "right"):  # fibroglandular tissue, denser towards the nipple
        tex = smooth_noise(rng, g.x.shape, 1.2)
        gland = breasts[side] & shrink[5.0] & (tex > 0.3)
        img[gland] = HU["gland"]
    _skeleton_and_organs(g, an, img)
    return img, body, shrink[3.0], shrink[5.0], breasts


def _skeleton_and_organs(g: Grid, an: Anatomy, img: np.ndarray) -> None:
    a, b = an.body
    ca, cb = a - an.wall - 8, b - an.wall - 8  # inner surface of the rib cage
    inside = elliptic_cylinder(g, (0.0, 0.0), (ca, cb))
    img[inside] = HU["soft"]
    for side in ("left", "right"):
        s = side_sign(side)
        lung = ellipsoid(
            g, (s * 0.5 * ca, -0.05 * cb, -25.0), (0.5 * ca, 0.92 * cb, an.clav_z + 32)
        )
        img[lung & inside & (g.z > -140)] = HU["lung"]
    img[ellipsoid(g, an.heart, (50, 42, 48)) & inside] = HU["heart"]
    img[ellipsoid(g, (0.35 * ca, 0.0, -150), (0.7 * ca, 0.8 * cb, 60)) & inside] = HU["liver"]
    img[elliptic_cylinder(g, (0.0, 0.25 * cb), (9, 9), (an.clav_z - 60, np.inf))] = HU["air"]
    img[elliptic_cylinder(g, (0.0, -cb + 25), (19, 17))] = HU["marrow"]
    img[elliptic_cylinder(g, (0.0, -cb - 2), (8, 8))] = HU["cord"]
    img[elliptic_cylinder(g, (0.0, -cb - 12), (5, 9))] = HU["bone"]
    ring = elliptic_cylinder(g, (0.0, 0.0), (ca + 8, cb + 8)) & ~inside
    # ribs slope down from the spine to the front, so an axial slice cuts short arcs
    phase = g.z - an.breast_z + 0.45 * (g.y + cb) + 12.0 * np.abs(g.x) / ca
    ribs = ring & (np.mod(phase, 26.0) < 9.0) & (np.abs(g.x) > 22)
    img[ribs] = HU["bone"]
    img[elliptic_cylinder(g, (0.0, cb + 4), (16, 6), (an.breast_z - 60, an.clav_z))] = HU["bone"]
    for side in ("left", "right"):
        s = side_sign(side)
        clav = rod(g, (s * 18, cb + 6, an.clav_z), (s * (a - 35), 0.2 * b, an.clav_z + 12), 7.0)
        img[clav] = HU["bone"]


def render(
    anatomy_seed: int,
    c: BreastClinical,
    site: str = "internal",
    size: int = 64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Render one case.

    Args:
        anatomy_seed: fixes the patient's anatomy, textures, clip positions and scanner noise.
        c: clinical fields; only ``surgery``, ``laterality`` and ``clips`` reach the image.
        site: a key of ``SITES``.
        size: voxels per axis.

    Returns:
        ``(image int16 HU, label uint8, regions uint8, affine 4x4)``, arrays of shape (S, S, S).
    """
    if site not in SITES:
        raise ValueError(f"site must be one of {sorted(SITES)}, got {site!r}")
    profile = SITES[site]
    rng = case_rng(anatomy_seed, 1)
    an = sample_anatomy(rng)
    fov_xy, fov_z = rng.uniform(*profile.fov_xy_mm), rng.uniform(*profile.fov_z_mm)
    g = make_grid(size, (fov_xy, fov_xy * 0.75, fov_z), (0.0, 0.1 * an.body[1], 15.0))
    removed = set(c.sides) if c.surgery == "mastectomy" else set()
    present = {s: s not in removed for s in ("left", "right")}
    true_hu, body, inner, skin5, breasts = _tissue(g, an, case_rng(anatomy_seed, 2), present)
    full = {s: _tissue_breast_only(g, an, s) for s in ("left", "right")}
    regions = _regions(g, an, body, inner, skin5, {s: full[s] & present[s] for s in full})
    if c.clips:
        _add_clips(g, an, c, breasts, true_hu, case_rng(anatomy_seed, 3))
    image = apply_scanner(true_hu, g.spacing, profile, case_rng(anatomy_seed, 4))
    image = np.clip(np.round(image), -1024, 3071).astype(np.int16)
    label = np.isin(regions, [REGIONS[n] for n in ctv_components(c)]).astype(np.uint8)
    return image, label, regions, g.affine


def _mound(g: Grid, an: Anatomy, side: str, shrink_mm: float = 0.0) -> np.ndarray:
    """The breast ellipsoid on one side (anterior half), optionally shrunk by ``shrink_mm``."""
    b = an.body[1]
    k = an.asym if side == "right" else 1.0
    radii = tuple(r * k - shrink_mm for r in an.breast)
    c = (side_sign(side) * an.breast_x, b * 0.93, an.breast_z)
    return ellipsoid(g, c, radii) & (g.y > 0.3 * b)  # type: ignore[arg-type]


def _tissue_breast_only(g: Grid, an: Anatomy, side: str) -> np.ndarray:
    a, b = an.body
    return _mound(g, an, side) & ~elliptic_cylinder(g, (0.0, 0.0), (a, b))


def _add_clips(
    g: Grid,
    an: Anatomy,
    c: BreastClinical,
    breasts: dict[str, np.ndarray],
    img: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """3–5 surgical clips around a tumour bed inside the (first) treated breast."""
    side = c.sides[0]
    idx = np.argwhere(breasts[side])
    if len(idx) == 0:
        return
    centre = idx[rng.integers(len(idx))]
    for _ in range(int(rng.integers(3, 6))):
        p = np.clip(centre + rng.integers(-2, 3, 3), 0, np.array(img.shape) - 1)
        img[tuple(p)] = HU["clip"]


def _render_for_cohort(
    anatomy_seed: int,
    c: BreastClinical,
    site: str,
    size: int,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray | None, np.ndarray]:
    image, label, regions, affine = render(anatomy_seed, c, site, size)
    return [image], label, regions, affine


def cohort_spec() -> CohortSpec:
    """The breast_ctv generator, for :func:`oncoseg.data.phantom_cohort.write_cohort`."""
    return CohortSpec(
        task="breast_ctv",
        prefix="bctv",
        channel_names={"0": "CT"},
        labels=LABELS,
        clinical_fields=CLINICAL_FIELDS,
        sites=tuple(SITES),
        sample_clinical=sample_clinical,
        render=_render_for_cohort,
        make_note=make_note,
        region_names=REGIONS,
    )
