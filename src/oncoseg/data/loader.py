"""Load dataset cases as model-ready arrays and iterate batches with MONAI augmentation.

Every case is reoriented to the model's voxel order (LPS), normalised per channel,
resampled to the configured spacing when one is set (``data.spacing``) and kept with its
note. Training batches get a random crop to the patch size (when the volume is
larger), random intensity scale/shift and noise, and left-right flips for vision-only
models only (a flip would contradict the side written in the note). A sample may carry
*note variants*, each with its own label: other notes equally consistent with its image
(``train.note_swap``; the breast phantoms' other N stages) and notes naming the other side
(``train.side_swap``). The dataset's task builds them (``oncoseg.tasks``, a hook the
trainer is handed); this module only draws them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from monai import transforms as mt

from oncoseg.data.dataset import DatasetCase, DatasetFormatError, read_case, read_info, region_path
from oncoseg.data.normalize import normalize_channels
from oncoseg.data.resample import resample_image, resample_label, resampled_shape
from oncoseg.io.image import same_geometry
from oncoseg.io.orientation import spacing_in_orientation, to_orientation


@dataclass
class Sample:
    case_id: str
    image: np.ndarray  # C x D x H x W float32, model orientation
    label: np.ndarray | None  # 1 x D x H x W int64
    note: str
    spacing: tuple[float, ...]
    regions: np.ndarray | None = None  # D x H x W compartment map, when asked for
    # other notes this image is equally consistent with, each with its own 1 x D x H x W label
    variants: list[tuple[str, np.ndarray]] = field(default_factory=list)
    # the note naming the other side: [0] for its own note, [k + 1] for variants[k]
    side_variants: list[tuple[str, np.ndarray]] = field(default_factory=list)
    # the other surgery's note (train.surgery_variants): drawn with ``variants`` by note_swap
    surgery_variants: list[tuple[str, np.ndarray]] = field(default_factory=list)
    # 1 x D x H x W uint8: the voxels whose label depends on the note (note_dependent_voxels)
    note_voxels: np.ndarray | None = None


class NoteVariants(Protocol):
    """What a task hands the trainer: each training sample's note variants with their labels,
    in place (``swap``: ``Sample.variants``, other notes; ``side``: ``Sample.side_variants``,
    the other side's; ``surgery``: ``Sample.surgery_variants``, the other surgery's). Samples come
    with their region maps; raises :class:`ConfigError` when the dataset cannot give them."""

    def __call__(
        self,
        dataset: str | os.PathLike[str],
        samples: list[Sample],
        *,
        swap: bool,
        side: bool,
        surgery: bool = False,
    ) -> None: ...


def load_sample(
    root: str | os.PathLike[str],
    case_id: str,
    split: str = "Tr",
    spacing: Sequence[float] | None = None,
    regions: bool = False,
) -> Sample:
    """One case in model orientation, resampled to ``spacing`` (mm, model axis order) if given.

    With ``regions`` the case's compartment map (regions<split>/) comes along, oriented and
    resampled like the label; a missing map is an error naming the file.
    """
    info = read_info(root)
    case = read_case(root, case_id, split)
    _check_grids(case)
    modalities = [info.channel_names[str(c)] for c in range(info.num_channels)]
    affine = case.images[0].affine
    arrays = []
    for img in case.images:
        arr, t = to_orientation(np.asarray(img.array), affine)
        arrays.append(arr)
    label = None
    if case.label is not None:
        lab, _ = to_orientation(np.asarray(case.label.array), affine)
        label = lab[None].astype(np.int64)
    reg = None
    if regions:
        if case.regions is None:
            raise FileNotFoundError(
                f"{region_path(Path(root), case_id, split)}: no region map for case {case_id} "
                "(needed for note variants)"
            )
        reg, _ = to_orientation(np.asarray(case.regions.array), affine)
    image = normalize_channels(arrays, modalities)
    native = spacing_in_orientation(affine, t)
    if spacing:
        size = resampled_shape(image.shape[1:], native, spacing)
        image = resample_image(image, size)
        label = None if label is None else resample_label(label, size)
        reg = None if reg is None else resample_label(reg, size)
        native = tuple(float(v) for v in spacing)
    return Sample(case_id, image, label, case.note, native, reg)


def _check_grids(case: DatasetCase) -> None:
    """Every channel, the label and the region map on channel 0's grid, else an error
    naming the file (a model would learn from misplaced voxels)."""
    ref = case.images[0]
    others = [*case.images[1:], case.label, case.regions]
    for img in others:
        if img is not None and not same_geometry(img, ref):
            raise DatasetFormatError(
                f"{img.source}: grid (shape {img.shape}, spacing "
                f"{tuple(round(v, 3) for v in img.spacing)}) differs from {ref.source} "
                f"(shape {ref.shape}, spacing {tuple(round(v, 3) for v in ref.spacing)})"
            )


def load_samples(
    root: str | os.PathLike[str],
    case_ids: Sequence[str],
    split: str = "Tr",
    spacing: Sequence[float] | None = None,
    regions: bool = False,
) -> list[Sample]:
    return [load_sample(Path(root), c, split, spacing, regions) for c in case_ids]


NODAL_VOXELS, SIDE_VOXELS, SURGERY_VOXELS = 1, 2, 4  # bits of note_dependent_voxels


def note_dependent_voxels(s: Sample) -> np.ndarray:
    """1 x D x H x W uint8, what only the note decides: bit ``NODAL_VOXELS`` where ``s``'s own
    label and any of its note variants' labels disagree, bit ``SIDE_VOXELS`` where its own
    label and the other side's (``side_variants[0]``) do, bit ``SURGERY_VOXELS`` where the
    other surgery's does (all zero without variants). Kept on ``s``."""
    if s.note_voxels is None:
        assert s.label is not None, f"{s.case_id}: training samples need labels"
        own = s.label > 0

        def differ(pairs: list[tuple[str, np.ndarray]]) -> np.ndarray:
            out = np.zeros(own.shape, bool)
            for _, y in pairs:
                out |= (y > 0) != own
            return out

        bits = (
            NODAL_VOXELS * differ(s.variants)
            + SIDE_VOXELS * differ(s.side_variants[:1])
            + SURGERY_VOXELS * differ(s.surgery_variants)
        )
        s.note_voxels = bits.astype(np.uint8)
    return s.note_voxels


_SPATIAL = ("image", "label", "note_voxels")  # note_voxels only when the trainer asks


def train_transform(
    patch_size: Sequence[int],
    *,
    flips: bool,
    augment: bool,
    crop_ratios: Sequence[float] = (),
) -> mt.Compose:
    """MONAI dictionary transforms for one training sample (keys image, label and, where
    present, note_voxels: cropped and flipped with the label). With ``crop_ratios`` (one per
    class, background first) the patch is centred on a voxel of a class drawn with those
    ratios among the classes the sample's label has (``data.crop_ratios``); otherwise
    anywhere."""
    roi = tuple(patch_size)
    crop: mt.Transform = mt.RandSpatialCropd(
        keys=_SPATIAL, roi_size=roi, random_size=False, allow_missing_keys=True
    )
    if crop_ratios:
        crop = mt.RandCropByLabelClassesd(
            keys=_SPATIAL,
            label_key="label",
            spatial_size=roi,
            ratios=list(crop_ratios),
            num_classes=len(crop_ratios),
            num_samples=1,
            warn=False,  # a class the case lacks is skipped for it, as intended
            allow_missing_keys=True,
        )
    steps: list[mt.Transform] = [
        mt.SpatialPadd(keys=_SPATIAL, spatial_size=roi, allow_missing_keys=True),
        crop,
    ]
    if augment:
        steps += [
            mt.RandScaleIntensityd(keys="image", factors=0.1, prob=0.5),
            mt.RandShiftIntensityd(keys="image", offsets=0.05, prob=0.5),
            mt.RandGaussianNoised(keys="image", std=0.02, prob=0.3),
        ]
        if flips:
            steps.append(
                mt.RandFlipd(keys=_SPATIAL, spatial_axis=0, prob=0.5, allow_missing_keys=True)
            )
    return mt.Compose(steps)


def _sided(s: Sample, k: int, side: bool) -> bool:
    """Whether ``s`` takes the other side with note variant ``k`` (-1: its own note). Only
    its own note and its N-stage variants have other-side partners (``side_variants`` holds
    one more than ``variants``); a surgery variant (``k >= len(variants)``) keeps its side."""
    return side and bool(s.side_variants) and k < len(s.variants)


def _pick(s: Sample, k: int, side: bool) -> tuple[str, np.ndarray | None]:
    """``(note, label)`` of ``s`` with note variant ``k`` (-1: its own) and, if ``side``,
    the other side."""
    if _sided(s, k, side):
        return s.side_variants[k + 1]
    if k >= 0:
        return (s.variants + s.surgery_variants)[k]
    return s.note, s.label


def _variant_index(s: Sample, u: np.ndarray, swap: float, surgery: float) -> int:
    """Which note variant ``s`` takes (-1: its own) for the two uniform draws ``u``: swapped
    when ``u[0] < swap``; then ``u[1] < surgery`` picks the surgery variant, and the rest of
    ``u[1]``'s range, rescaled, one of the N-stage variants (so ``surgery`` 0 draws as before)."""
    if u[0] >= swap:
        return -1
    if u[1] < surgery:
        return len(s.variants) if s.surgery_variants else -1
    n = len(s.variants)
    return min(n - 1, int((u[1] - surgery) / (1.0 - surgery) * n)) if n else -1


def batches(
    samples: Sequence[Sample],
    batch_size: int,
    transform: mt.Compose,
    rng: np.random.Generator,
    *,
    rank: int = 0,
    world: int = 1,
    swap: float = 0.0,
    side: float = 0.0,
    surgery: float = 0.0,
    note_voxels: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, list[str]]]:
    """One epoch of shuffled batches ``(image B x C x ..., label B x 1 x ..., notes)``.

    With ``swap`` > 0 a sample with note variants takes, with that probability, one of them
    in place of its own note and label: with probability ``surgery`` its other surgery's
    (``surgery_variants``, where it has one), otherwise one of ``variants`` chosen uniformly
    (its own note where it has none). With ``side`` > 0 a sample with
    side variants takes, with that probability, the note naming the other side, with the
    variant the ``swap`` draw chose (its own note when not swapped); a surgery variant is never
    side-swapped, so with both the effective side share is a little below ``side``.

    With ``world`` > 1 each rank takes every ``world``-th batch of the same permutation, and
    every rank gets the same number of batches (a rank with one more would wait forever in
    DistributedDataParallel's gradient all-reduce); the remainder is left out this epoch.

    With ``note_voxels`` the label has a second channel: the sample's note-dependent voxels
    (:func:`note_dependent_voxels`), cropped with the label (B x 2 x ...).
    """
    order = rng.permutation(len(samples))
    # a draw only when swapping, so runs without it keep their old random stream
    swaps = rng.random((len(order), 2)) if swap > 0 else np.ones((len(order), 2))
    sides = rng.random(len(order)) < side if side > 0 else np.zeros(len(order), bool)
    n_batches = len(order) // batch_size // world * world
    for b in range(rank, n_batches, world):
        images, ys, notes = [], [], []
        for j in range(b * batch_size, (b + 1) * batch_size):
            s = samples[order[j]]
            k = _variant_index(s, swaps[j], swap, surgery)
            note, label = _pick(s, k, bool(sides[j]))
            assert label is not None, f"{s.case_id}: training samples need labels"
            data = {"image": s.image, "label": label}
            if note_voxels:  # nodal bits lie on its own side: dropped where that was swapped
                mask = note_dependent_voxels(s)
                data["note_voxels"] = mask & SIDE_VOXELS if _sided(s, k, sides[j]) else mask
            item = transform(data)
            item = item[0] if isinstance(item, list) else item  # a by-class crop: 1 sample
            images.append(torch.as_tensor(np.asarray(item["image"])))
            # variant labels are stored as uint8; cast before stacking
            y = torch.as_tensor(np.asarray(item["label"])).long()
            if note_voxels:
                y = torch.cat([y, torch.as_tensor(np.asarray(item["note_voxels"])).long()])
            ys.append(y)
            notes.append(note)
        yield torch.stack(images).float(), torch.stack(ys), notes
