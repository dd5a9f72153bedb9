"""Fusion of image features with note context, applied at every encoder level.

One Protocol: ``fusion(features (B, C, D, H, W), context (B, N, Dt)) -> (B, C, D, H, W)``.

- ``none``: identity (vision-only).
- ``concat``: the context, projected to C channels, is broadcast over space, concatenated
  with the features and mixed back to C channels by a 1x1x1 convolution.
- ``static``: features + alpha * projected context, alpha one learned scalar (a fixed
  weight, the same for every case and voxel).
- ``gated``: an input-dependent gate g = sigmoid(conv([features, context])) per voxel and
  channel weighs how much of the context enters: features + g * context (seed 1's
  dynamic fusion).
- ``two_way``: a SAM-style two-way transformer block: token self-attention, tokens attend
  to the image, an MLP on the tokens, then the image attends to the tokens; image tokens
  carry a learned encoding of their normalised (z, y, x) position (seed 2's interactive
  alignment). Besides the note's context tokens the block has a few learned output tokens
  (as SAM's mask tokens), which read the note in the self-attention. With ``grid=G`` the
  attention works on the level's features average-pooled to at most G voxels per axis
  and the voxels' update is upsampled back (trilinear): the attention's cost is in the
  voxel count (the 32³ level held 8x the voxels of all coarser levels together), the
  update it adds is smooth at that scale, and the convolutions after it keep the level's
  own resolution. ``grid=0``: every voxel attends (the original block).

Why the learned tokens matter: the U-Net normalises every convolution's output per
instance and channel (InstanceNorm), which removes anything added uniformly over space.
``static`` and ``concat`` add the note as such a uniform offset, so after the next
convolution + InstanceNorm only zero-padding border effects of it remain. With a single
context token, the image->token attention of ``two_way`` would do the same (softmax over
one key is 1 everywhere). With several tokens whose attention weights depend on each
voxel's features and position, the update varies over space and survives normalisation;
``gated`` survives for the same reason (its gate varies per voxel).
"""

from __future__ import annotations

from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

FUSIONS = ("none", "concat", "static", "gated", "two_way")


class Fusion(Protocol):
    def __call__(self, features: Tensor, context: Tensor) -> Tensor: ...


class NoFusion(nn.Module):
    """Vision-only: returns the features unchanged and never reads the context."""

    def forward(self, features: Tensor, context: Tensor | None = None) -> Tensor:
        return features


class _ContextProjection(nn.Module):
    """(B, N, Dt) -> (B, C, 1, 1, 1): all N context vectors mapped to the level's channels."""

    def __init__(self, *, context_dim: int, num_tokens: int, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(context_dim)
        self.proj = nn.Linear(num_tokens * context_dim, channels)

    def forward(self, context: Tensor) -> Tensor:
        b = context.shape[0]
        flat = self.norm(context).reshape(b, -1)  # B x (N*Dt)
        return self.proj(flat)[:, :, None, None, None]  # B x C x 1 x 1 x 1


class ConcatFusion(nn.Module):
    def __init__(self, *, channels: int, context_dim: int, num_tokens: int) -> None:
        super().__init__()
        self.context = _ContextProjection(
            context_dim=context_dim, num_tokens=num_tokens, channels=channels
        )
        self.mix = nn.Conv3d(2 * channels, channels, kernel_size=1)

    def forward(self, features: Tensor, context: Tensor) -> Tensor:
        t = self.context(context).expand_as(features)
        return self.mix(torch.cat([features, t], dim=1))


class StaticFusion(nn.Module):
    def __init__(self, *, channels: int, context_dim: int, num_tokens: int) -> None:
        super().__init__()
        self.context = _ContextProjection(
            context_dim=context_dim, num_tokens=num_tokens, channels=channels
        )
        self.alpha = nn.Parameter(torch.tensor(0.5))

    def forward(self, features: Tensor, context: Tensor) -> Tensor:
        return features + self.alpha * self.context(context)


class GatedFusion(nn.Module):
    def __init__(self, *, channels: int, context_dim: int, num_tokens: int) -> None:
        super().__init__()
        self.context = _ContextProjection(
            context_dim=context_dim, num_tokens=num_tokens, channels=channels
        )
        self.gate = nn.Conv3d(2 * channels, channels, kernel_size=1)

    def forward(self, features: Tensor, context: Tensor) -> Tensor:
        t = self.context(context).expand_as(features)
        g = torch.sigmoid(self.gate(torch.cat([features, t], dim=1)))  # B x C x D x H x W
        return features + g * t


def grid_coordinates(shape: tuple[int, int, int], device: torch.device) -> Tensor:
    """Normalised voxel coordinates in [-1, 1], shape (D*H*W, 3)."""
    axes = [torch.linspace(-1.0, 1.0, s, device=device) for s in shape]
    zz, yy, xx = torch.meshgrid(*axes, indexing="ij")
    return torch.stack([zz, yy, xx], dim=-1).reshape(-1, 3)


class TwoWayFusion(nn.Module):
    """SAM-style two-way attention between note tokens and image voxels at one level."""

    def __init__(
        self,
        *,
        channels: int,
        context_dim: int,
        num_tokens: int,
        num_heads: int = 4,
        mlp_ratio: int = 2,
        output_tokens: int = 4,
        grid: int = 0,
    ) -> None:
        super().__init__()
        if grid < 0:
            raise ValueError(f"grid must be >= 0 (0: full resolution), got {grid}")
        self.grid = grid
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.tokens = nn.Sequential(nn.LayerNorm(context_dim), nn.Linear(context_dim, channels))
        self.output_tokens = nn.Parameter(torch.randn(output_tokens, channels) * 0.5)
        self.position = nn.Linear(3, channels)
        self.self_attn = nn.MultiheadAttention(channels, num_heads, batch_first=True)
        self.token_to_image = nn.MultiheadAttention(channels, num_heads, batch_first=True)
        self.image_to_token = nn.MultiheadAttention(channels, num_heads, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(channels, mlp_ratio * channels),
            nn.GELU(),
            nn.Linear(mlp_ratio * channels, channels),
        )
        self.norms = nn.ModuleList(nn.LayerNorm(channels) for _ in range(4))
        self.gamma = nn.Parameter(torch.tensor(0.5))

    def forward(self, features: Tensor, context: Tensor) -> Tensor:
        if features.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # CPU attention kernels are about 2x slower in bf16 than in fp32 (measured on
            # 2 cores, torch 2.13): under CPU autocast this block runs in fp32
            with torch.autocast("cpu", enabled=False):
                return self._attend(features.float(), context.float()).to(features.dtype)
        return self._attend(features, context)

    def _attend(self, features: Tensor, context: Tensor) -> Tensor:
        d, h, w = features.shape[2:]
        g = self.grid
        if not g or max(d, h, w) <= g:
            return features + self.gamma * self._update(features, context)
        pooled = F.adaptive_avg_pool3d(features, (min(d, g), min(h, g), min(w, g)))
        update = self._update(pooled, context)
        return features + self.gamma * F.interpolate(
            update, size=(d, h, w), mode="trilinear", align_corners=False
        )

    def _update(self, features: Tensor, context: Tensor) -> Tensor:
        """What the voxels of ``features`` (B, C, D, H, W) read from the tokens, same shape."""
        b, c, d, h, w = features.shape
        image = features.flatten(2).transpose(1, 2)  # B x DHW x C
        keys = image + self.position(grid_coordinates((d, h, w), features.device)).to(image.dtype)
        learned = self.output_tokens[None].expand(b, -1, -1).to(image.dtype)
        t = torch.cat([learned, self.tokens(context)], dim=1)  # B x (K + N) x C
        # 1. the note tokens attend to each other
        t = self.norms[0](t + self.self_attn(t, t, t, need_weights=False)[0])
        # 2. the tokens read the image
        t = self.norms[1](t + self.token_to_image(t, keys, image, need_weights=False)[0])
        # 3. an MLP on the tokens
        t = self.norms[2](t + self.mlp(t))
        # 4. every voxel reads the updated tokens
        update = self.image_to_token(self.norms[3](keys), t, t, need_weights=False)[0]
        return update.transpose(1, 2).reshape(b, c, d, h, w)


def build_fusion(
    kind: str, *, channels: int, context_dim: int, num_tokens: int, grid: int = 0
) -> nn.Module:
    """One fusion module for a level with ``channels`` feature channels; ``grid`` is
    ``two_way``'s attention grid (see :class:`TwoWayFusion`), refused for the others."""
    if kind == "none":
        return NoFusion()
    if grid and kind != "two_way":
        raise ValueError(f"an attention grid ({grid}) needs fusion two_way, got {kind!r}")
    classes: dict[str, type[nn.Module]] = {
        "concat": ConcatFusion,
        "static": StaticFusion,
        "gated": GatedFusion,
        "two_way": TwoWayFusion,
    }
    if kind not in classes:
        raise ValueError(f"fusion must be one of {FUSIONS}, got {kind!r}")
    extra = {"grid": grid} if kind == "two_way" else {}
    return classes[kind](channels=channels, context_dim=context_dim, num_tokens=num_tokens, **extra)
