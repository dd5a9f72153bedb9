"""Validation Dice of a model on full volumes (sliding window), as training reports it."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from monai.metrics import compute_dice

from oncoseg.data.loader import Sample
from oncoseg.infer.config import RunConfig
from oncoseg.models.multimodal import NoteGuidedSegmenter
from oncoseg.models.sliding import segment_volume
from oncoseg.train.rule_out import RuledOut, zero_ruled_out


def validation_dice(
    model: NoteGuidedSegmenter,
    samples: list[Sample],
    cfg: RunConfig,
    device: torch.device,
    ruled_out: RuledOut | None = None,
) -> float:
    """Mean foreground Dice over ``samples`` (full volumes, sliding window); with
    ``ruled_out`` (``train.rule_out``) the classes each note rules out are not drawn.

    Runs on rank 0 alone, so it uses MONAI's functional ``compute_dice``: the cumulative
    ``DiceMetric`` all-gathers across ranks when torch.distributed is up and would wait
    forever for ranks that do not validate.
    """
    scores = []
    model.eval()
    k = cfg.model.out_channels
    with torch.no_grad():
        for s, probs in _probabilities(model, samples, cfg, device):
            if ruled_out is not None:
                probs = zero_ruled_out(probs, ruled_out([s.note]))
            pred = torch.nn.functional.one_hot(probs.argmax(1), k).permute(0, 4, 1, 2, 3)
            assert s.label is not None
            gt = torch.nn.functional.one_hot(torch.as_tensor(s.label)[None, 0].to(device), k)
            scores.append(compute_dice(pred, gt.permute(0, 4, 1, 2, 3), include_background=False))
    model.train()
    if not scores:
        return float("nan")
    return float(torch.nanmean(torch.cat(scores).float()).item())  # classes absent: NaN


def _probabilities(
    model: NoteGuidedSegmenter, samples: list[Sample], cfg: RunConfig, device: torch.device
) -> Iterator[tuple[Sample, torch.Tensor]]:
    """``(sample, class probabilities 1 x K x ...)`` for each sample. Two cases that are each
    exactly one window (a phantom the patch's size) run as one batch of two, with their own
    notes; the rest through :func:`segment_volume`. Two distinct cases cost what one case
    costs as the batch of two the U-Net runs it as on the CPU without gradients, and the
    result is the same: a single window's Gaussian weight divides out, and every layer acts
    per sample."""
    patch = tuple(cfg.data.patch_size)
    whole = [s for s in samples if tuple(s.image.shape[1:]) == patch]
    for a, b in zip(whole[::2], whole[1::2], strict=False):
        x = torch.stack([torch.as_tensor(a.image), torch.as_tensor(b.image)]).to(device)
        context = model.encode_notes([a.note, b.note])
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.train.bf16):
            logits = model.unet(x, context)
        assert isinstance(logits, torch.Tensor)  # deep supervision only in training
        probs = torch.softmax(logits.float(), dim=1)
        yield a, probs[:1]
        yield b, probs[1:]
    paired = {id(s) for s in whole[: len(whole) // 2 * 2]}
    for s in samples:
        if id(s) not in paired:
            image = torch.as_tensor(s.image)[None].to(device)
            yield (
                s,
                segment_volume(
                    model,
                    image,
                    s.note,
                    roi_size=cfg.data.patch_size,
                    bf16=cfg.train.bf16,
                    sw_batch_size=cfg.train.sw_batch_size,
                ),
            )
