"""The training losses: Dice + cross-entropy per deep-supervision level, and the extra term
on the voxels only the note decides (``train.note_voxel_weight``)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from monai.losses import DeepSupervisionLoss, DiceCELoss

from oncoseg.data.loader import NODAL_VOXELS, SIDE_VOXELS, SURGERY_VOXELS
from oncoseg.infer.config import RunConfig


def segmentation_loss(cfg: RunConfig) -> Any:
    """Dice + cross-entropy 1:1 (the Dice term over every class, background included), per
    deep-supervision level if the model has them; ``train.class_weights`` weigh the classes
    in both terms."""
    class_w = cfg.train.class_weights  # checked by the config loader
    loss_fn: Any = DiceCELoss(
        to_onehot_y=True,
        softmax=True,
        lambda_dice=1.0,
        lambda_ce=1.0,
        weight=torch.tensor(class_w, dtype=torch.float32) if class_w else None,
    )
    if cfg.model.deep_supervision:
        # weights 1, 1/2, 1/4 ... normalised to sum to 1 (nnU-Net); labels are resized to
        # each output by nearest-neighbour interpolation, hence passed as float
        n = cfg.model.deep_supervision + 1
        weights = [0.5**k / sum(0.5**j for j in range(n)) for k in range(n)]
        loss_fn = DeepSupervisionLoss(loss_fn, weights=weights)
    return loss_fn


def note_voxel_loss(logits: torch.Tensor, label: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The loss on what only the note decides (``train.note_voxel_weight``): for each kind
    of note-dependent voxel in ``mask`` (B x 1 x ..., bits of
    :func:`oncoseg.data.loader.note_dependent_voxels`: nodal, side, surgery), the cross-entropy
    averaged over its voxels; summed over kinds, so the few nodal voxels are not outweighed
    by a breast's worth of side voxels (0 for a kind absent from the batch). Not weighted by
    ``train.class_weights``: the mask already picks the voxels that matter."""
    ce = F.cross_entropy(logits, label[:, 0], reduction="none")  # B x D x H x W
    total = ce.new_zeros(())
    for bit in (NODAL_VOXELS, SIDE_VOXELS, SURGERY_VOXELS):
        m = ((mask[:, 0] & bit) > 0).to(ce.dtype)
        total = total + (ce * m).sum() / m.sum().clamp_min(1.0)
    return total
