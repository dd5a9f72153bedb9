"""Note variants of breast_ctv cases: the same image with another N stage or side.

Each variant is a ``(note, label)`` pair: the note regenerated from the case's clinical.csv
row with one field changed (same generator and seed, so the wording stays close), the label
rebuilt from the case's region map by the rule table. :func:`add_note_variants` is the hook
this task hands the trainer (``train.note_swap`` / ``train.side_swap``).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import numpy as np

from oncoseg.data.loader import Sample
from oncoseg.data.phantom import case_rng
from oncoseg.infer.config import ConfigError
from oncoseg.tasks.breast_ctv.clinical import N_STAGES, REGIONS, BreastClinical, ctv_components
from oncoseg.tasks.breast_ctv.notes import make_note
from oncoseg.tasks.phantom_rows import phantom_rows


def note_variant(row: dict[str, str], style: str, seed: int = 0, **changes: Any) -> str:
    """The note of a clinical.csv row with ``changes`` (e.g. ``n_stage="N2"``) applied.

    Seeded by the case's anatomy seed, so the same edit gives the same wording.
    """
    c = replace(BreastClinical.from_row(row), **changes)
    return make_note(c, style, case_rng(seed, int(row["anatomy_seed"]) % 2**31))


def _variant(
    row: dict[str, str], regions: np.ndarray, style: str, seed: int, **changes: Any
) -> tuple[str, np.ndarray]:
    """``(note, label)`` of the row with ``changes``; the label read from the region map."""
    v = replace(BreastClinical.from_row(row), **changes)
    label = np.isin(regions, [REGIONS[name] for name in ctv_components(v)])
    return note_variant(row, style, seed, **changes), label.astype(regions.dtype)


def nodal_variants(
    row: dict[str, str], regions: np.ndarray, style: str, seed: int = 0
) -> list[tuple[str, np.ndarray]]:
    """The same patient with every other N stage: ``(note, label)`` pairs.

    Nodal status never changes a voxel of the image, so each variant is as consistent with
    the image as the real note is; its label is the union of the rule table's compartments
    read from the case's region map (same array shape and orientation as ``regions``).
    DCIS is Tis N0 by definition and gets no variants.
    """
    c = BreastClinical.from_row(row)
    if c.pathology == "DCIS":
        return []
    return [_variant(row, regions, style, seed, n_stage=n) for n in N_STAGES if n != c.n_stage]


def side_variants(
    row: dict[str, str], regions: np.ndarray, style: str, seed: int = 0
) -> list[tuple[str, np.ndarray]]:
    """The same image with the note's side flipped: ``(note, label)`` pairs, the CTV on
    the other side by the rule table.

    Unlike :func:`nodal_variants` these contradict what the image shows (a mastectomy or
    clips on the real side): they teach a note-guided model that the note, not the image,
    decides the side. The first pair keeps the patient's N stage; the others follow
    :func:`nodal_variants`' order (pair ``k + 1`` has the N stage of nodal variant ``k``).
    Bilateral cases have no other side and get none.
    """
    c = BreastClinical.from_row(row)
    if c.laterality not in ("left", "right"):
        return []
    other = "right" if c.laterality == "left" else "left"
    stages = [c.n_stage] + (
        [] if c.pathology == "DCIS" else [n for n in N_STAGES if n != c.n_stage]
    )
    return [_variant(row, regions, style, seed, laterality=other, n_stage=n) for n in stages]


def surgery_variants(
    row: dict[str, str], regions: np.ndarray, style: str, seed: int = 0
) -> list[tuple[str, np.ndarray]]:
    """The same image with the note's other surgery (breast-conserving <-> mastectomy), the
    patient's own N stage: one ``(note, label)`` pair, the CTV on the breast or the chest
    wall by the rule table. Like :func:`side_variants` it contradicts what the image shows (a
    breast, or none): it teaches a note-guided model that the note decides the target."""
    c = BreastClinical.from_row(row)
    other = "mastectomy" if c.surgery == "BCS" else "BCS"
    return [_variant(row, regions, style, seed, surgery=other)]


def add_note_variants(
    dataset: str | os.PathLike[str],
    samples: list[Sample],
    *,
    swap: bool = True,
    side: bool = False,
    surgery: bool = False,
) -> None:
    """Give each breast_ctv training sample its other-N-stage notes (``swap``) and its
    other-side notes (``side``) and the other surgery's note (``surgery``, drawn with the N
    stages by note_swap), with their labels (in place; labels uint8): this task's
    :class:`oncoseg.train.trainer.NoteVariants` hook.

    Needs the phantom's clinical.csv, region maps and note style (dataset.json). A case whose
    stored label is not the rule table's label for its own row is an error: the variants'
    labels would then be wrong too (a 2% disagreement is allowed for resampled cases, whose
    label and region map are interpolated separately).
    """
    named = (("note_swap", swap), ("side_swap", side), ("surgery_variants", surgery))
    keys = "/".join(k for k, on in named if on)
    rows, style, seed = phantom_rows(dataset, samples, "breast_ctv", keys)
    for s, row in zip(samples, rows, strict=True):
        assert s.regions is not None and s.label is not None  # loaded with regions=True
        own = ctv_components(BreastClinical.from_row(row))
        expected = np.isin(s.regions, [REGIONS[n] for n in own])
        wrong = np.count_nonzero(expected != (s.label[0] > 0))
        if wrong > 0.02 * max(1, int(np.count_nonzero(s.label))):
            raise ConfigError(
                f"train.{keys}: the label of {s.case_id} is not the rule table's CTV for "
                "its clinical.csv row, so its note variants cannot be labelled"
            )
        if swap:
            s.variants = [(n, y[None]) for n, y in nodal_variants(row, s.regions, style, seed)]
        if swap and surgery:
            pairs = surgery_variants(row, s.regions, style, seed)
            s.surgery_variants = [(n, y[None]) for n, y in pairs]
        if side:
            s.side_variants = [(n, y[None]) for n, y in side_variants(row, s.regions, style, seed)]
