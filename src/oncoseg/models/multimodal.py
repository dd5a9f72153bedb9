"""The note-guided segmenter: a text encoder, a residual U-Net, fusion at every level.

``build_model(preset=..., fusion=..., text_encoder=...)`` wires the parts; presets live in
one registry. With ``fusion="none"`` the text encoder is never called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from oncoseg.models.fusion import FUSIONS, build_fusion
from oncoseg.models.unet import ResUNet
from oncoseg.text.cached_states import mean_sd
from oncoseg.text.encoders import TextEncoder
from oncoseg.text.readers import NoteReader, canonical_notes

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
    # coarser decoder levels with their own output and loss in training (nnU-Net's deep
    # supervision); see ResUNet
    deep_supervision: int = 0
    # two_way fusion attends on each level's features pooled to at most this many voxels per
    # axis, its update upsampled back (TwoWayFusion); 0: every voxel attends (runs trained
    # before the setting existed). The demo uses 8 (docs/models.md, "Attention grid")
    fusion_grid: int = 0


class NoteGuidedSegmenter(nn.Module):
    """Segment ``image`` (B, C, D, H, W) guided by ``notes`` (B strings) or ``context``."""

    context_mean: Tensor
    context_std: Tensor

    def __init__(
        self,
        *,
        unet: ResUNet,
        text_encoder: TextEncoder | None,
        fusion: str,
        note_reader: NoteReader | None = None,
    ) -> None:
        super().__init__()
        self.unet = unet
        self.fusion = fusion
        self.text_encoder = text_encoder
        # the task's reader turns a note written any way into the canonical form the model
        # trains on (None: notes reach the encoder as written)
        self.note_reader = note_reader
        # Per-dimension standardisation of the context, fitted on the training notes: an
        # LM's [SEG] states for notes that differ in one clinical word have cosine ~0.999,
        # so without it the fusion sees almost the same tokens for every note.
        dim = (text_encoder.num_tokens, text_encoder.out_dim) if text_encoder else (1, 1)
        self.register_buffer("context_mean", torch.zeros(dim))
        self.register_buffer("context_std", torch.ones(dim))

    @property
    def uses_text(self) -> bool:
        return self.fusion != "none"

    def encode_notes(self, notes: Sequence[str]) -> Tensor | None:
        """Context vectors (B, N, Dt), or ``None`` for a vision-only model."""
        if not self.uses_text:
            return None
        assert self.text_encoder is not None
        context = self.text_encoder.encode(canonical_notes(self.note_reader, notes))
        return (context - self.context_mean) / self.context_std  # B x N x Dt

    @torch.no_grad()
    def fit_context_norm(self, notes: Sequence[str], batch: int = 16) -> None:
        """Set the context standardisation from the training notes (mean, SD per dim)."""
        if not self.uses_text or not notes:
            return
        assert self.text_encoder is not None
        notes = canonical_notes(self.note_reader, notes)
        fit_inputs = getattr(self.text_encoder, "fit_norm", None)
        if fit_inputs is not None:  # an encoder that standardises its own LM states first
            fit_inputs(notes)
        if getattr(self.text_encoder, "standardises_output", False):
            return  # and its output too (learnt tokens would be frozen at their first scale)
        raw = torch.cat(
            [
                self.text_encoder.encode(list(notes[i : i + batch])).float()
                for i in range(0, len(notes), batch)
            ]
        )  # B x N x Dt
        mean, std = mean_sd(raw)  # never amplify pure noise dims
        self.context_mean.copy_(mean)
        self.context_std.copy_(std)

    def forward(
        self, image: Tensor, notes: Sequence[str] | None = None, context: Tensor | None = None
    ) -> Tensor | list[Tensor]:
        if context is None and notes is not None:
            context = self.encode_notes(notes)
        if self.uses_text and context is None:
            raise ValueError("this model reads the note: pass notes or context")
        return self.unet(image, context)


def build_model(
    cfg: ModelConfig, text_encoder: TextEncoder | None, *, note_reader: NoteReader | None = None
) -> NoteGuidedSegmenter:
    """Wire a U-Net preset, fusion modules at every level, the text encoder and the task's
    note reader (``oncoseg.text.readers``)."""
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
                grid=cfg.fusion_grid,
            )
            for ch in channels
        ]
    unet = ResUNet(
        in_channels=cfg.in_channels,
        out_channels=cfg.out_channels,
        channels=channels,
        fusions=fusions,
        full_resolution=full_resolution,
        deep_supervision=cfg.deep_supervision,
    )
    return NoteGuidedSegmenter(
        unet=unet,
        text_encoder=text_encoder if fusions else None,
        fusion=cfg.fusion,
        note_reader=note_reader if fusions else None,
    )
