"""Note variants of brain_tumor cases: the same image with the other glioma focus as target.

A case with a second focus holds two lesions that look alike; its note names the one
treated now. The variant names the other one, written from the case's clinical.csv row with
the two locations exchanged (the former target becomes the focus treated earlier), and takes
that lesion as its label (the region map's ``other_lesion``). It is as consistent with the
image as the real note, as the breast phantoms' other N stages are: only the note decides.
:func:`add_brain_variants` is the hook this task hands the trainer (``train.note_swap``).
"""

from __future__ import annotations

import os
from dataclasses import replace

import numpy as np

from oncoseg.data.loader import Sample
from oncoseg.data.phantom import case_rng
from oncoseg.infer.config import ConfigError
from oncoseg.tasks.brain_tumor.explain_truth import from_row
from oncoseg.tasks.brain_tumor.phantom import REGION_NAMES, make_note
from oncoseg.tasks.phantom_rows import phantom_rows


def focus_variant(
    row: dict[str, str], regions: np.ndarray, style: str, seed: int = 0
) -> list[tuple[str, np.ndarray]]:
    """``[(note, label)]`` naming the second focus as the target; ``[]`` for a case without
    one (a meningioma or a treated metastasis does not look like the target)."""
    c = from_row(row)
    if c.nontarget != "second_focus":
        return []
    swapped = replace(
        c,
        hemisphere=c.nontarget_hemisphere,
        lobe=c.nontarget_lobe,
        nontarget_hemisphere=c.hemisphere,
        nontarget_lobe=c.lobe,
    )
    note = make_note(swapped, style, case_rng(seed, int(row["anatomy_seed"]) % 2**31))
    label = (regions == REGION_NAMES["other_lesion"]).astype(np.uint8)
    return [(note, label)]


def add_brain_variants(
    dataset: str | os.PathLike[str],
    samples: list[Sample],
    *,
    swap: bool = True,
    side: bool = False,
    surgery: bool = False,
) -> None:
    """Give each brain_tumor training sample with a second focus the note naming that focus,
    with its label (in place): this task's :class:`oncoseg.data.loader.NoteVariants` hook.
    Only ``train.note_swap``: a brain note has no surgery to swap, and no other side (the
    trainer asks for ``side`` labels for ``train.note_voxel_weight`` too; a brain case gets
    none, so its note-dependent voxels are the two foci's)."""
    if surgery:
        raise ConfigError(
            "train.surgery_variants: brain_tumor has no surgery note variants (its note_swap "
            "names the other glioma focus); set it to 0"
        )
    rows, style, seed = phantom_rows(dataset, samples, "brain_tumor", "note_swap")
    for s, row in zip(samples, rows, strict=True):
        assert s.regions is not None and s.label is not None  # loaded with regions=True
        if swap:
            s.variants = [(n, y[None]) for n, y in focus_variant(row, s.regions, style, seed)]
