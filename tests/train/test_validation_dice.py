"""Validation Dice: one-window cases run in pairs, each with its own note, and score as
one at a time."""

from __future__ import annotations

import numpy as np
import torch
from monai.metrics import compute_dice

from oncoseg.data.loader import Sample
from oncoseg.infer.config import load_config
from oncoseg.models.multimodal import ModelConfig, build_model
from oncoseg.models.sliding import segment_volume
from oncoseg.train.validation_dice import validation_dice
from tests.models.test_models import NOTES, CountingEncoder


def _sample(i: int, shape: tuple[int, int, int]) -> Sample:
    rng = np.random.default_rng(i)
    image = rng.normal(size=(1, *shape)).astype(np.float32)
    label = (rng.random((1, *shape)) > 0.7).astype(np.int64)
    return Sample(f"c{i}", image, label, NOTES[i % 2] + f" {i}", (1.0, 1.0, 1.0))


def test_pairs_of_one_window_cases_score_as_one_case_at_a_time() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(preset="tiny", fusion="two_way"), CountingEncoder()).eval()
    cfg = load_config(None, ["model.preset=tiny", "data.patch_size=[32,32,32]"])
    samples = [_sample(i, (32, 32, 32)) for i in range(3)] + [_sample(3, (48, 32, 32))]
    batches: list[int] = []
    model.unet.register_forward_pre_hook(lambda _m, args: batches.append(args[0].shape[0]))
    got = validation_dice(model, samples, cfg, torch.device("cpu"))
    # two distinct cases in one batch; the odd one out and the larger case windowed alone
    assert batches[0] == 2 and len(batches) >= 3
    expected = []
    with torch.no_grad():
        for s in samples:
            probs = segment_volume(
                model, torch.as_tensor(s.image)[None], s.note, roi_size=(32,) * 3
            )
            pred = torch.nn.functional.one_hot(probs.argmax(1), 2).permute(0, 4, 1, 2, 3)
            gt = torch.nn.functional.one_hot(torch.as_tensor(s.label)[None, 0], 2)
            expected.append(float(compute_dice(pred, gt.permute(0, 4, 1, 2, 3), False).mean()))
    assert abs(got - float(np.mean(expected))) < 1e-6
    # each case kept its own note: swapping the notes of the paired cases changes the score
    swapped = [
        Sample(s.case_id, s.image, s.label, samples[1 - i].note, s.spacing)
        for i, s in enumerate(samples[:2])
    ] + samples[2:]
    assert validation_dice(model, swapped, cfg, torch.device("cpu")) != got
