"""train.note_voxel_weight: the voxels only the note decides, carried through the batches and
weighted by their own loss term."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from oncoseg.data.loader import (
    NODAL_VOXELS,
    SIDE_VOXELS,
    Sample,
    batches,
    note_dependent_voxels,
    train_transform,
)
from oncoseg.infer.config import ConfigError, load_config
from oncoseg.train.losses import note_voxel_loss


def _sample(i: int) -> Sample:
    """A 1 x 8 x 6 x 6 case: the breast (x < 4) always a target, a 'node' slab (x >= 6)
    only in variant 1, another in variant 2 (z row 0)."""
    image = np.full((1, 8, 6, 6), float(i + 1), np.float32)
    label = np.zeros((1, 8, 6, 6), np.int64)
    label[0, :4] = 1
    node = label.copy()
    node[0, 6:] = 1
    other = label.copy()
    other[0, :, 0] = 1
    return Sample(
        f"c{i}", image, label, "N0", (1.0, 1.0, 1.0), variants=[("N2", node), ("N1", other)]
    )


def test_note_dependent_voxels_are_where_any_variant_disagrees() -> None:
    s = _sample(0)
    mask = note_dependent_voxels(s)
    expected = np.zeros((1, 8, 6, 6), np.uint8)
    expected[0, 6:] = NODAL_VOXELS
    expected[0, 4:6, 0] = NODAL_VOXELS  # variant 2's row outside the breast
    assert mask.dtype == np.uint8 and np.array_equal(mask, expected)
    assert note_dependent_voxels(s) is mask  # kept on the sample
    # the other side's label (breast at x >= 4 instead of x < 4) marks side voxels too
    s = _sample(0)
    other = np.zeros_like(s.label)
    other[0, 4:] = 1
    s.side_variants = [("right", other)]
    mask = note_dependent_voxels(s)
    assert (mask[0, :] & SIDE_VOXELS > 0).all()  # every x differs between the two sides
    assert np.array_equal(mask & NODAL_VOXELS, expected)
    plain = Sample("c", s.image, s.label, "N0", (1.0, 1.0, 1.0))
    assert not note_dependent_voxels(plain).any()  # no variants: nothing depends on the note


@pytest.mark.parametrize("side", [0.0, 1.0])
def test_batches_carry_the_mask_cropped_and_flipped_with_the_label(side: float) -> None:
    samples = [_sample(i) for i in range(4)]
    for i, s in enumerate(samples):
        # sample i, slice z reads 100 (i + 1) + 10 z: intensity augmentation scales and
        # shifts it, so the crop's offset and flip are read back from the slice means
        s.image = (100.0 * (i + 1) + 10.0 * np.arange(8, dtype=np.float32))[None, :, None, None]
        s.image = np.broadcast_to(s.image, (1, 8, 6, 6)).copy()
        other = np.zeros_like(s.label)
        other[0, 4:] = 1
        s.side_variants = [("other side", other), ("other side N2", other), ("os N1", other)]
    # a random crop along z and random flips of that axis, with intensity augmentation
    tf = train_transform((4, 6, 6), flips=True, augment=True)
    tf.set_random_state(seed=0)
    flips = set()
    for _ in range(4):
        got = batches(
            samples, 2, tf, np.random.default_rng(0), swap=0.5, side=side, note_voxels=True
        )
        for image, label, _notes in got:
            assert label.shape == (2, 2, 4, 6, 6) and label.dtype == torch.int64
            for img, lab in zip(image, label, strict=True):
                m = img[0].mean(dim=(1, 2)).double()
                scale, flipped = abs(float(m[1] - m[0])) / 10, bool(m[1] < m[0])
                v = float(m[0]) / scale
                s, z = samples[int(v // 100) - 1], round((v % 100) / 10)
                z0 = z - 3 if flipped else z
                full = torch.as_tensor(note_dependent_voxels(s)[0, z0 : z0 + 4])
                full = full.flip(0) if flipped else full
                # side-swapped samples keep only their side voxels
                expected = full & SIDE_VOXELS if side else full
                assert torch.equal(lab[1], expected)  # the image's offset and flip
                flips.add(flipped)
    assert flips == {True, False}
    image, label, _ = next(iter(batches(samples, 2, tf, np.random.default_rng(0), swap=0.5)))
    assert label.shape == (2, 1, 4, 6, 6)  # without the flag the label stays one channel


def test_note_voxel_loss_averages_each_kind_on_its_own() -> None:
    label = torch.zeros(1, 1, 4, 4, 4, dtype=torch.long)
    logits = torch.zeros(1, 2, 4, 4, 4)  # CE = ln 2 everywhere
    logits[0, 0, 1:] = 10.0  # confident, right background elsewhere: CE ~ 0
    mask = torch.zeros_like(label)
    mask[0, 0, 0, 0, 0] = NODAL_VOXELS  # one uncertain nodal voxel
    mask[0, 0, 1:] = SIDE_VOXELS  # 48 well-predicted side voxels
    # a sum of per-kind means: the single nodal voxel keeps its full weight
    assert note_voxel_loss(logits, label, mask).item() == pytest.approx(math.log(2), rel=1e-3)


def test_note_voxel_loss_is_the_cross_entropy_over_the_mask_only() -> None:
    label = torch.zeros(1, 1, 2, 2, 2, dtype=torch.long)
    label[0, 0, 0] = 1
    logits = torch.zeros(1, 2, 2, 2, 2)  # p = 0.5 everywhere: CE = ln 2 per voxel
    logits[0, 1, 1] = -10.0  # confident background where the label is 0: CE ~ 0
    mask = torch.zeros_like(label)
    mask[0, 0, 0] = 1  # only the four uncertain target voxels count
    assert note_voxel_loss(logits, label, mask).item() == pytest.approx(math.log(2), rel=1e-5)
    mask[0, 0, 1] = 1  # four more, near 0 loss: the mean halves
    assert note_voxel_loss(logits, label, mask).item() == pytest.approx(math.log(2) / 2, rel=1e-3)
    assert note_voxel_loss(logits, label, torch.zeros_like(mask)).item() == 0.0


@pytest.mark.parametrize(
    "overrides",
    [
        ["train.note_voxel_weight=1"],
        ["train.note_voxel_weight=-1", "train.note_swap=0.5"],
        ["train.note_voxel_weight=nan", "train.note_swap=0.5"],
        ["train.note_voxel_weight=1", "train.note_swap=0.5", "model.fusion=none"],
        ["train.note_voxel_weight=1", "train.note_swap=0.5", "train.augment=false"],
    ],
)
def test_note_voxel_weight_needs_note_variants_and_a_positive_weight(
    overrides: list[str],
) -> None:
    with pytest.raises(ConfigError, match="train.note_voxel_weight"):
        load_config(None, overrides)
    cfg = load_config(None, ["train.note_voxel_weight=2", "train.note_swap=0.5"])
    assert cfg.train.note_voxel_weight == 2.0


def test_surgery_variants_need_note_swap() -> None:
    with pytest.raises(ConfigError, match=r"train\.surgery_variants.*note_swap > 0"):
        load_config(None, ["train.surgery_variants=0.2"])
    for bad in ("1.5", "-0.1"):
        with pytest.raises(ConfigError, match=r"train\.surgery_variants: expected a share"):
            load_config(None, [f"train.surgery_variants={bad}", "train.note_swap=0.5"])
    cfg = load_config(None, ["train.surgery_variants=0.2", "train.note_swap=0.5"])
    assert cfg.train.surgery_variants == 0.2


def test_surgery_variants_start_after_the_given_epochs() -> None:
    from oncoseg.train.trainer import note_shares

    cfg = load_config(
        None, ["train.surgery_variants=0.2", "train.note_swap=0.5", "train.surgery_after=8"]
    )
    assert [note_shares(cfg, e)["surgery"] for e in (0, 7, 8, 27)] == [0.0, 0.0, 0.2, 0.2]
    assert note_shares(cfg, 0)["swap"] == 0.5  # the N-stage variants from the first epoch
    assert note_shares(cfg)["surgery"] == 0.2
    vision = load_config(None, ["train.surgery_variants=0.2", "train.note_swap=0.5"])
    vision.model.fusion = "none"
    assert note_shares(vision, 9) == {"swap": 0.0, "side": 0.0, "surgery": 0.0}
    with pytest.raises(ConfigError, match=r"train\.surgery_after: expected epochs >= 0"):
        load_config(None, ["train.surgery_after=-1"])


def test_runs_written_when_surgery_variants_was_a_switch_still_load(tmp_path: Path) -> None:
    """Run folders of 7774f59 store ``surgery_variants: false`` (or true): they load, as the
    share the switch stood for (none, or one draw in five)."""
    for old, share in ((False, 0.0), (True, 0.2)):
        path = tmp_path / f"{old}.yaml"
        train = {"surgery_variants": old, "note_swap": 0.5}
        path.write_text(yaml.safe_dump({"version": 2, "train": train}))
        assert load_config(path, []).train.surgery_variants == share
