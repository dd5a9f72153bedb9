"""Validation Dice of a model on full volumes (sliding window), as training reports it."""

from __future__ import annotations

import torch
from monai.metrics import compute_dice

from oncoseg.data.loader import Sample
from oncoseg.infer.config import RunConfig
from oncoseg.models.multimodal import NoteGuidedSegmenter
from oncoseg.models.sliding import segment_volume


def validation_dice(
    model: NoteGuidedSegmenter, samples: list[Sample], cfg: RunConfig, device: torch.device
) -> float:
    """Mean foreground Dice over ``samples`` (full volumes, sliding window).

    Runs on rank 0 alone, so it uses MONAI's functional ``compute_dice``: the cumulative
    ``DiceMetric`` all-gathers across ranks when torch.distributed is up and would wait
    forever for ranks that do not validate.
    """
    scores = []
    model.eval()
    k = cfg.model.out_channels
    with torch.no_grad():
        for s in samples:
            probs = segment_volume(
                model,
                torch.as_tensor(s.image)[None].to(device),
                s.note,
                roi_size=cfg.data.patch_size,
                bf16=cfg.train.bf16,
                sw_batch_size=cfg.train.sw_batch_size,
            )
            pred = torch.nn.functional.one_hot(probs.argmax(1), k).permute(0, 4, 1, 2, 3)
            assert s.label is not None
            gt = torch.nn.functional.one_hot(torch.as_tensor(s.label)[None, 0].to(device), k)
            scores.append(compute_dice(pred, gt.permute(0, 4, 1, 2, 3), include_background=False))
    model.train()
    if not scores:
        return float("nan")
    return float(torch.nanmean(torch.cat(scores).float()).item())  # classes absent: NaN
