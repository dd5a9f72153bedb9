"""The note-guided segmenter: a text encoder, a residual U-Net, fusion at every level.

``build_model(preset=..., fusion=..., text_encoder=...)`` wires the parts; presets live in
one registry. With ``fusion="none"`` the text encoder is never called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import Tensor, nn

from oncoseg.models.fusion import FUSIONS, build_fusion
from oncoseg.models.unet import ResUNet
from oncoseg.text.encoders import TextEncoder

# name -> (channels per level, first level at full resolution)
PRESETS: dict[str, tuple[tuple[int, ...], bool]] = {
    "tiny": ((8, 16, 32, 64), False),  # tests
    "small": ((16, 32, 64, 128, 256), False),  # CPU default
    "paper": ((48, 48, 96, 192, 384), True),  # the seed's Table S1 (GPU)
}


@dataclass
class ModelConfig:
    """The image model (the text side is a TextConfig)."""

    preset: str = "small"  # tiny | small | paper
    fusion: str = "two_way"  # none | concat | static | gated | two_way
    in_channels: int = 1
    out_channels: int = 2  # classes including background


class NoteGuidedSegmenter(nn.Module):
    """Segment ``image`` (B, C, D, H, W) guided by ``notes`` (B strings) or ``context``."""

    def __init__(self, *, unet: ResUNet, text_encoder: TextEncoder | None, fusion: str) -> None:
        super().__init__()
        self.unet = unet
        self.fusion = fusion
        self.text_encoder = text_encoder
        if isinstance(text_encoder, nn.Module):
            self.add_module("text", text_encoder)

    @property
    def uses_text(self) -> bool:
        return self.fusion != "none"

    def encode_notes(self, notes: Sequence[str]) -> Tensor | None:
        """Context vectors (B, N, Dt), or ``None`` for a vision-only model."""
        if not self.uses_text:
            return None
        assert self.text_encoder is not None
        return self.text_encoder.encode(list(notes))

    def forward(
        self, image: Tensor, notes: Sequence[str] | None = None, context: Tensor | None = None
    ) -> Tensor:
        if context is None and notes is not None:
            context = self.encode_notes(notes)
        if self.uses_text and context is None:
            raise ValueError("this model reads the note: pass notes or context")
        return self.unet(image, context)


def build_model(cfg: ModelConfig, text_encoder: TextEncoder | None) -> NoteGuidedSegmenter:
    """Wire a U-Net preset, fusion modules at every level and the text encoder."""
    if cfg.preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {cfg.preset!r}")
    if cfg.fusion not in FUSIONS:
        raise ValueError(f"fusion must be one of {FUSIONS}, got {cfg.fusion!r}")
    if cfg.fusion != "none" and text_encoder is None:
        raise ValueError(f"fusion {cfg.fusion!r} needs a text encoder (text.encoder != none)")
    channels, full_resolution = PRESETS[cfg.preset]
    fusions = None
    if cfg.fusion != "none":
        assert text_encoder is not None
        fusions = [
            build_fusion(
                cfg.fusion,
                channels=ch,
                context_dim=text_encoder.out_dim,
                num_tokens=text_encoder.num_tokens,
            )
            for ch in channels
        ]
    unet = ResUNet(
        in_channels=cfg.in_channels,
        out_channels=cfg.out_channels,
        channels=channels,
        fusions=fusions,
        full_resolution=full_resolution,
    )
    return NoteGuidedSegmenter(
        unet=unet, text_encoder=text_encoder if fusions else None, fusion=cfg.fusion
    )
