"""train.rule_out: the classes a note rules out get no probability in the loss; and
data.crop_ratios: patches centred per class."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oncoseg.data.loader import train_transform
from oncoseg.infer.config import ConfigError, load_config
from oncoseg.tasks.openkbp.convert import prescription
from oncoseg.text.readers import get_reader
from oncoseg.train.rule_out import RuledOut, mask_logits, zero_ruled_out

LABELS = {"background": 0, "PTV70": 1, "PTV63": 2, "PTV56": 3}


def _ruled() -> RuledOut:
    reader = get_reader("openkbp")
    assert reader is not None
    return RuledOut(reader, LABELS, 4)


def test_each_note_rules_out_what_its_prescription_leaves_out() -> None:
    ruled = _ruled()
    notes = [prescription(["PTV70", "PTV56"]), prescription(["PTV70"]), "70 Gy to the primary"]
    assert ruled(notes).tolist() == [  # type: ignore[union-attr]
        [False, False, True, False],
        [False, False, True, True],
        [False, False, False, False],  # one dose and nothing else rules nothing out
    ]
    assert ruled([prescription(["PTV70", "PTV63", "PTV56"]), ""]) is None


def test_masked_classes_get_no_probability_and_no_gradient() -> None:
    logits = torch.randn(2, 4, 3, 3, 3, requires_grad=True)
    absent = torch.tensor([[False, False, True, False], [False, False, False, False]])
    out = mask_logits([logits, logits[..., :2, :2, :2]], absent)
    probs = torch.softmax(out[0].detach(), 1)
    assert float(probs[0, 2].max()) < 1e-15 and float(probs[1, 2].min()) > 1e-4
    assert out[1].shape == (2, 4, 2, 2, 2) and out[0].dtype == torch.float32
    out[0][:, 2].sum().backward()
    assert float(logits.grad[0, 2].abs().max()) == 0.0  # type: ignore[index]
    assert float(logits.grad[1, 2].abs().min()) > 0.0  # type: ignore[index]


def test_loss_no_longer_pays_for_a_ruled_out_class() -> None:
    from oncoseg.train.losses import segmentation_loss

    loss_fn = segmentation_loss(
        load_config(None, ["model.out_channels=4", "model.deep_supervision=0"])
    )
    label = torch.zeros(1, 1, 6, 6, 6, dtype=torch.long)
    label[..., :3, :, :] = 1  # PTV70; no PTV63 in this patient
    logits = torch.zeros(1, 4, 6, 6, 6)
    logits[:, 2] = 3.0  # the model would draw PTV63 everywhere
    logits[:, 1, :3] = 2.0
    logits[:, 0, 3:] = 2.0
    absent = _ruled()([prescription(["PTV70", "PTV56"])])
    assert absent is not None
    masked = mask_logits(logits, absent)
    assert float(loss_fn(masked, label)) < 0.5 * float(loss_fn(logits, label))
    probs = zero_ruled_out(torch.softmax(logits, 1), absent)
    assert not bool((probs.argmax(1) == 2).any())
    assert torch.allclose(probs.sum(1), torch.ones(1, 6, 6, 6))


def test_rule_out_and_crop_ratios_are_checked() -> None:
    with pytest.raises(ConfigError, match="train.rule_out: needs a note-guided model"):
        load_config(None, ["train.rule_out=true"])
    with pytest.raises(ConfigError, match="train.rule_out: needs .* reader"):
        load_config(None, ["train.rule_out=true", "model.fusion=two_way"])
    ok = ["train.rule_out=true", "model.fusion=two_way", "text.reader=openkbp"]
    assert load_config(None, ok).train.rule_out
    for bad in ("[1,1,1]", "[1,-1]", "[0,0]"):
        with pytest.raises(ConfigError, match="data.crop_ratios: expected 2 ratios"):
            load_config(None, [f"data.crop_ratios={bad}"])


def test_crop_ratios_centre_patches_on_a_small_target() -> None:
    image = np.random.default_rng(0).random((1, 40, 40, 40)).astype(np.float32)
    label = np.zeros((1, 40, 40, 40), np.int64)
    label[0, 30:33, 30:33, 30:33] = 2  # a 27-voxel target in one corner
    label[0, :20] = 1

    def hits(ratios: tuple[float, ...]) -> int:
        t = train_transform((10, 10, 10), flips=False, augment=False, crop_ratios=ratios)
        t.set_random_state(seed=0)
        out = 0
        for _ in range(40):
            item = t({"image": image, "label": label})
            item = item[0] if isinstance(item, list) else item
            assert tuple(item["image"].shape) == (1, 10, 10, 10)
            out += int((np.asarray(item["label"]) == 2).any())
        return out

    assert hits((0.0, 0.0, 1.0)) == 40  # every patch sees the small target
    assert hits(()) < 10  # uniform crops mostly miss it
    assert 8 <= hits((1.0, 1.0, 1.0)) <= 24  # a third of them, give or take
