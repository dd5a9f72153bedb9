from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from oncoseg.data.loader import Sample, batches, load_samples, train_transform


def _toy_samples() -> list[Sample]:
    out = []
    for i, side in enumerate(("left", "right", "left", "right")):
        image = np.zeros((1, 8, 4, 4), np.float32)
        label = np.zeros((1, 8, 4, 4), np.int64)
        x = slice(6, 8) if side == "left" else slice(0, 2)  # LPS: axis 0 runs towards left
        image[0, x], label[0, x] = 1.0 + i, 1
        out.append(Sample(f"c{i}", image, label, f"N2, {side} side", (1.0, 1.0, 1.0)))
    return out


def test_batches_take_the_other_side_with_the_swapped_n_stage() -> None:
    samples = _toy_samples()
    for i, s in enumerate(samples):
        s.variants = [(f"N-variant {i}", np.full_like(s.label, 10 + i))]
        s.side_variants = [
            (f"other side {i}", np.full_like(s.label, 20 + i)),
            (f"other side, N-variant {i}", np.full_like(s.label, 30 + i)),
        ]
    by_value = {s.image.max(): (i, s) for i, s in enumerate(samples)}
    tf = train_transform((8, 4, 4), flips=False, augment=False)
    expected = {  # (swap, side) -> (note, label value) for sample i
        (0.0, 1.0): ("other side {i}", 20),
        (1.0, 1.0): ("other side, N-variant {i}", 30),
        (1.0, 0.0): ("N-variant {i}", 10),
    }
    for (swap, side), (note_fmt, base) in expected.items():
        got = batches(samples, 2, tf, np.random.default_rng(0), swap=swap, side=side)
        for image, label, notes in got:
            assert label.dtype == torch.int64
            for img, lab, note in zip(image.numpy(), label.numpy(), notes, strict=True):
                i, src = by_value[img.max()]
                assert np.array_equal(img, src.image)
                assert note == note_fmt.format(i=i) and (lab == base + i).all()


def test_batches_swap_in_a_variant_note_with_its_label() -> None:
    samples = _toy_samples()
    for i, s in enumerate(samples):
        other = np.full_like(s.label, 7 + i)
        s.variants = [(f"variant {i}", other)]
    by_value = {s.image.max(): (i, s) for i, s in enumerate(samples)}
    tf = train_transform((8, 4, 4), flips=False, augment=False)
    for swap in (0.0, 1.0):
        for image, label, notes in batches(samples, 2, tf, np.random.default_rng(0), swap=swap):
            for img, lab, note in zip(image.numpy(), label.numpy(), notes, strict=True):
                i, src = by_value[img.max()]
                assert np.array_equal(img, src.image)  # the image never changes
                if swap:
                    assert note == f"variant {i}" and (lab == 7 + i).all()
                else:
                    assert note == src.note and np.array_equal(lab, src.label)


def test_surgery_variants_share_the_pool_and_keep_their_side() -> None:
    """note_swap draws among the N-stage and surgery variants; a surgery variant drawn with a
    side swap keeps its own side (it has no other-side partner), and its note-voxel mask
    keeps every bit, where a side-swapped sample keeps only the side bit."""
    from oncoseg.data.loader import NODAL_VOXELS, SIDE_VOXELS, SURGERY_VOXELS

    samples = _toy_samples()
    for i, s in enumerate(samples):
        s.variants = [(f"N-variant {i}", np.full_like(s.label, 1))]
        s.side_variants = [
            (f"other side {i}", np.zeros_like(s.label)),
            (f"other side, N-variant {i}", np.zeros_like(s.label)),
        ]
        s.surgery_variants = [(f"surgery {i}", np.full_like(s.label, 1))]
        s.note_voxels = np.full(
            s.label.shape, NODAL_VOXELS | SIDE_VOXELS | SURGERY_VOXELS, np.uint8
        )
    by_value = {s.image.max(): (i, s) for i, s in enumerate(samples)}
    tf = train_transform((8, 4, 4), flips=False, augment=False)
    seen = set()
    for seed in range(6):
        rng = np.random.default_rng(seed)
        for image, label, notes in batches(
            samples, 2, tf, rng, swap=1.0, side=1.0, surgery=0.5, note_voxels=True
        ):
            for img, lab, note in zip(image.numpy(), label.numpy(), notes, strict=True):
                i, _ = by_value[img.max()]
                assert note in (f"other side, N-variant {i}", f"surgery {i}")
                seen.add(note.split(" ")[0])
                if note.startswith("surgery"):  # not side-swapped: every bit kept
                    assert (lab[1] == NODAL_VOXELS | SIDE_VOXELS | SURGERY_VOXELS).all()
                else:
                    assert (lab[1] == SIDE_VOXELS).all()
    assert seen == {"other", "surgery"}  # both kinds drawn


def test_same_rng_same_batches(breast_dataset: Path) -> None:
    from oncoseg.data.dataset import list_cases

    samples = load_samples(breast_dataset, list_cases(breast_dataset)[:4])
    tf = train_transform((32, 32, 32), flips=False, augment=False)
    runs = [
        [n for _, _, notes in batches(samples, 2, tf, np.random.default_rng(7)) for n in notes]
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0]) == 4


def test_region_maps_load_or_fail_by_name(breast_dataset: Path, tmp_path: Path) -> None:
    import shutil

    from oncoseg.data.dataset import list_cases

    copy = shutil.copytree(breast_dataset, tmp_path / "no-regions")
    case = list_cases(copy)[0]
    assert load_samples(copy, [case], regions=True)[0].regions is not None
    (copy / "regionsTr" / f"{case}.nii.gz").unlink()
    with pytest.raises(FileNotFoundError, match=f"regionsTr/{case}"):
        load_samples(copy, [case], regions=True)


def test_surgery_share_of_the_swaps() -> None:
    """``surgery`` is the share of swapped samples that take the other surgery's note; the
    rest draw uniformly among the N-stage variants, and a sample without any (DCIS) keeps its
    own note there instead of always taking the surgery variant."""
    samples = _toy_samples()
    for i, s in enumerate(samples):
        s.variants = [] if i == 0 else [(f"N-a {i}", s.label), (f"N-b {i}", s.label)]
        s.surgery_variants = [(f"surgery {i}", s.label)]
    tf = train_transform((8, 4, 4), flips=False, augment=False)
    counts: dict[str, dict[str, int]] = {"dcis": {}, "other": {}}
    for seed in range(300):
        rng = np.random.default_rng(seed)
        for image, _, notes in batches(samples, 2, tf, rng, swap=1.0, surgery=0.25):
            for img, note in zip(image.numpy(), notes, strict=True):
                group = counts["dcis" if img.max() == 1.0 else "other"]
                kind = note.split(" ")[0] if not note.startswith("N2,") else "own"
                group[kind] = group.get(kind, 0) + 1
    other, dcis = counts["other"], counts["dcis"]
    assert set(other) == {"surgery", "N-a", "N-b"} and set(dcis) == {"surgery", "own"}
    n_other, n_dcis = sum(other.values()), sum(dcis.values())
    assert abs(other["surgery"] / n_other - 0.25) < 0.04
    assert abs(other["N-a"] / n_other - 0.375) < 0.04
    assert abs(other["N-b"] / n_other - 0.375) < 0.04
    assert abs(dcis["surgery"] / n_dcis - 0.25) < 0.06
