"""Sliding-window inference with the note's context computed once per case.

The context (B=1, N, Dt) is computed before the windows and repeated for each window
batch, so the text encoder runs once per case, never once per window.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.inferers import sliding_window_inference
from torch import Tensor

from oncoseg.models.multimodal import NoteGuidedSegmenter


def segment_volume(
    model: NoteGuidedSegmenter,
    image: Tensor,
    note: str | None,
    *,
    roi_size: Sequence[int],
    sw_batch_size: int = 2,
    overlap: float = 0.25,
    bf16: bool = False,
) -> Tensor:
    """Class probabilities (1, K, D, H, W) for ``image`` (1, C, D, H, W)."""
    if image.shape[0] != 1:
        raise ValueError(f"segment_volume takes one case at a time, got batch {image.shape[0]}")
    context = model.encode_notes([note or ""]) if model.uses_text else None

    def window(x: Tensor) -> Tensor:
        ctx = None if context is None else context.expand(x.shape[0], -1, -1)
        return model.unet(x, ctx)

    # a window no larger than the image where the network takes that size and keeps at
    # least 2 voxels at its bottleneck (instance norm needs them); MONAI pads otherwise
    div = model.unet.divisor
    roi = [
        min(r, s) if s % div == 0 and s >= 2 * div else r
        for r, s in zip(roi_size, image.shape[2:], strict=True)
    ]
    with torch.autocast(image.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = sliding_window_inference(
            image, roi, sw_batch_size, window, overlap=overlap, mode="gaussian"
        )
    assert isinstance(logits, Tensor)
    return torch.softmax(logits.float(), dim=1)
