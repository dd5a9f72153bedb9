"""Residual 3D U-Net from MONAI blocks whose every encoder level can be fused with a note.

Encoder: ``UnetResBlock`` per level (the first at full resolution, then stride 2); the
last level is the bottleneck. Decoder: ``UnetrUpBlock`` (transposed conv + residual block
on the concatenated skip). A fusion module (see :mod:`oncoseg.models.fusion`) acts on each
encoder level's output before it is used as a skip connection or decoded.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from monai.networks.blocks import UnetOutBlock, UnetResBlock, UnetrUpBlock
from torch import Tensor, nn


class ResUNet(nn.Module):
    """Residual U-Net.

    Args:
        spatial_dims: 3 for volumes (2 works for slices).
        in_channels: image channels (1 for CT, 4 for BraTS-style MRI).
        out_channels: classes including background.
        channels: feature channels per level, e.g. (16, 32, 64, 128, 256).
        fusions: one module per level (same length as ``channels``), or ``None``.
        norm: MONAI norm name.
        full_resolution: whether the first level works at the input resolution (the paper
            preset); otherwise it already downsamples by 2 and a transposed convolution
            restores full resolution before the output layer (about 10x cheaper on a CPU).
        deep_supervision: number of coarser decoder levels that get their own output layer
            (nnU-Net's deep supervision). In training mode ``forward`` then returns a list,
            the full-resolution logits first and then each coarser level's; in eval mode
            only the full-resolution logits. 0 (default): no extra outputs.
    """

    def __init__(
        self,
        *,
        spatial_dims: int = 3,
        in_channels: int,
        out_channels: int,
        channels: Sequence[int] = (16, 32, 64, 128, 256),
        fusions: Sequence[nn.Module] | None = None,
        norm: str = "instance",
        full_resolution: bool = True,
        deep_supervision: int = 0,
    ) -> None:
        super().__init__()
        if in_channels < 1 or out_channels < 2:
            raise ValueError(
                f"need in_channels >= 1 and out_channels >= 2 (background + "
                f"classes), got {in_channels} and {out_channels}"
            )
        if len(channels) < 2:
            raise ValueError(f"channels needs at least 2 levels, got {tuple(channels)}")
        if fusions is not None and len(fusions) != len(channels):
            raise ValueError(f"need one fusion per level ({len(channels)}), got {len(fusions)}")
        if not 0 <= deep_supervision <= len(channels) - 2:
            raise ValueError(
                f"deep_supervision must be 0..{len(channels) - 2} (decoder levels below the "
                f"output), got {deep_supervision}"
            )
        self.channels = tuple(channels)
        self.encoder = nn.ModuleList()
        prev = in_channels
        for i, ch in enumerate(channels):
            stride = 1 if (i == 0 and full_resolution) else 2
            self.encoder.append(
                UnetResBlock(spatial_dims, prev, ch, kernel_size=3, stride=stride, norm_name=norm)
            )
            prev = ch
        self.fusions = nn.ModuleList(fusions) if fusions is not None else None
        self.decoder = nn.ModuleList(
            UnetrUpBlock(
                spatial_dims,
                channels[i],
                channels[i - 1],
                kernel_size=3,
                upsample_kernel_size=2,
                norm_name=norm,
                res_block=True,
            )
            for i in range(len(channels) - 1, 0, -1)
        )
        self.full_resolution = full_resolution
        conv_t = nn.ConvTranspose3d if spatial_dims == 3 else nn.ConvTranspose2d
        # without a full-resolution level: upsample, then see the raw input again
        self.restore = None if full_resolution else conv_t(channels[0], channels[0], 2, stride=2)
        head_in = channels[0] if full_resolution else channels[0] + in_channels
        self.head = UnetOutBlock(spatial_dims, head_in, out_channels)
        # aux_heads[k] reads the decoder output k + 1 levels below the last one
        self.aux_heads = nn.ModuleList(
            UnetOutBlock(spatial_dims, channels[k + 1], out_channels)
            for k in range(deep_supervision)
        )

    @property
    def divisor(self) -> int:
        """Input sizes must be multiples of this."""
        return int(2 ** (len(self.channels) - (1 if self.full_resolution else 0)))

    def forward(self, image: Tensor, context: Tensor | None = None) -> Tensor | list[Tensor]:
        """Logits (B, out_channels, D, H, W) for image (B, in_channels, D, H, W); in
        training mode with deep supervision, a list of them from fine to coarse."""
        if image.shape[0] == 1 and image.device.type == "cpu" and not torch.is_grad_enabled():
            # PyTorch sends a CPU 3-D convolution of batch 1 with a kernel of 3 or less to its
            # unvectorised im2col path (aten::slow_conv3d_forward) unless N*C*D*H > 20480,
            # i.e. at every level of this U-Net but one; oneDNN, which it takes from batch 2,
            # is 8-12x faster there (16 channels at 32³: 103 against 8.5 ms on one AVX2 core).
            # So a batch of one runs as two copies and the first is kept: the same result
            # (instance norm and every convolution act per sample) in a fraction of the time
            ctx = None if context is None else context.expand(2, *context.shape[1:])
            out2 = self.forward(image.expand(2, *image.shape[1:]), ctx)
            return out2[:1] if isinstance(out2, Tensor) else [o[:1] for o in out2]
        skips = []
        x = image
        for i, block in enumerate(self.encoder):
            x = _run(block, x)
            if self.fusions is not None and context is not None:
                x = self.fusions[i](x, context)  # note-guided features at this level
            skips.append(x)
        x = skips.pop()  # the bottleneck
        levels = []
        for up in self.decoder:
            x = _run(up, x, skips.pop())
            levels.append(x)
        if self.restore is not None and x.dim() == 5:
            out = self._restore_and_head(x, image)  # restore + head as one linear map
        elif self.restore is not None:
            out = self.head(torch.cat([self.restore(x), image], dim=1))
        else:
            out = self.head(x)
        if not (self.training and len(self.aux_heads)):
            return out
        coarser = levels[-2::-1]  # the decoder outputs below the last, finest first
        return [out, *(h(f) for h, f in zip(self.aux_heads, coarser, strict=False))]

    def _restore_and_head(self, x: Tensor, image: Tensor) -> Tensor:
        """``self.head(cat([self.restore(x), image]))`` without the full-resolution features.

        ``restore`` (a transposed convolution, kernel 2, stride 2) and the 1x1x1 ``head``
        are linear with nothing between them, so their product maps each coarse voxel's C0
        features straight to the K logits of its 2x2x2 children; the raw image enters
        through its own columns of the head. The same function and parameters (checkpoints
        are unchanged), the gradients flow through the product. On 2 CPU cores the C0-channel
        full-resolution tensor, its concat with the image, their dtype casts and oneDNN's
        convolution over C0 + C_in channels took half of a 64³ training step (vision-only,
        batch 2: 0.30 s -> 0.16 s in bf16, 0.44 s -> 0.20 s in fp32) and about 40% of a
        128³ note-guided prediction. It runs in fp32 (cheap at this size): under bf16
        autocast its logits are not rounded to bf16 as the convolution's were.
        """
        assert self.restore is not None
        with torch.autocast(x.device.type, enabled=False):
            return self._fused_head(x.float(), image.float())

    def _fused_head(self, x: Tensor, image: Tensor) -> Tensor:
        assert self.restore is not None
        head = self.head.conv.conv
        k, c0 = head.out_channels, self.channels[0]
        w_head = head.weight.flatten(1)  # K x (C0 + C_in)
        w_up, w_img = w_head[:, :c0], w_head[:, c0:]
        # restore.weight: C0 (in) x C0 (out) x 2 x 2 x 2 -> (K * 8) x C0 (in)
        fused = torch.einsum("kc,icxyz->kxyzi", w_up, self.restore.weight).reshape(-1, c0)
        bias = w_up @ self.restore.bias
        if head.bias is not None:
            bias = bias + head.bias
        b, _, d, h, w = x.shape
        coarse = torch.matmul(fused, x.flatten(2)).reshape(b, k, 2, 2, 2, d, h, w)
        logits = coarse.permute(0, 1, 5, 2, 6, 3, 7, 4).reshape(b, k, 2 * d, 2 * h, 2 * w)
        logits = logits + torch.matmul(w_img, image.flatten(2)).reshape(logits.shape)
        return logits + bias.to(logits.dtype)[:, None, None, None]


# CPU bf16 autocast: torch 2.13's oneDNN kernel returns wrong weight gradients (off by up to
# 1e36, sometimes NaN) for a 3x3x3 convolution whose input has depth 2, which is this
# U-Net's bottleneck at 64³; that was the "bf16 overflow" of docs/models.md. Blocks working
# at 4 voxels or fewer along an axis run in fp32 (they cost next to nothing); see
# tests/models/test_models.py::test_bf16_autocast_gradients_match_fp32.
SMALL_FOR_BF16 = 4


def _run(block: nn.Module, x: Tensor, *rest: Tensor) -> Tensor:
    """``block(x, *rest)``, in fp32 where CPU bf16 autocast would use the faulty kernel."""
    if (
        x.device.type == "cpu"
        and torch.is_autocast_enabled("cpu")
        and min(x.shape[2:]) <= SMALL_FOR_BF16
    ):
        with torch.autocast("cpu", enabled=False):
            return block(x.float(), *(r.float() for r in rest))
    return block(x, *rest)
