"""train.class_weights: checked when the config is read, and used by both loss terms."""

from __future__ import annotations

import pytest
import torch

from oncoseg.infer.config import ConfigError, load_config
from oncoseg.train.losses import segmentation_loss as _loss


@pytest.mark.parametrize("value", ["[1,2,3]", "[1]", "[0,1]", "[1,-2]"])
def test_class_weights_must_be_one_positive_weight_per_class(value: str) -> None:
    with pytest.raises(ConfigError, match="train.class_weights: expected 2 positive weights"):
        load_config(None, [f"train.class_weights={value}"])


def test_foreground_weight_makes_a_missed_voxel_cost_more() -> None:
    # a target cube the prediction misses entirely costs more with the foreground weighted 3
    label = torch.zeros(1, 1, 8, 8, 8)
    label[..., 2:6, 2:6, 2:6] = 1
    logits_miss = torch.stack([torch.full((8, 8, 8), 4.0), torch.zeros(8, 8, 8)])[None]
    plain = _loss(load_config(None, []))
    weighted = _loss(load_config(None, ["train.class_weights=[1,3]"]))
    miss_plain, miss_weighted = plain(logits_miss, label), weighted(logits_miss, label)
    assert miss_weighted > miss_plain * 1.3
    # the weights are used by the cross-entropy and the Dice term alike
    assert weighted.cross_entropy.weight.tolist() == [1.0, 3.0]
    assert weighted.dice.class_weight.tolist() == [1.0, 3.0]
    assert plain.cross_entropy.weight is None
