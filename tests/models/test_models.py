from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from oncoseg.models.fusion import FUSIONS, TwoWayFusion, build_fusion
from oncoseg.models.multimodal import ModelConfig, build_model
from oncoseg.models.unet import ResUNet
from oncoseg.text.encoders import PromptConfig, PromptTunedLM
from tests.text.tiny import ByteTokenizer, tiny_llama

NOTES = ["N2, total mastectomy, left side", "N0, breast conserving surgery, right side"]


class CountingEncoder(torch.nn.Module):
    """A trainable stand-in text encoder that counts calls."""

    out_dim, num_tokens = 12, 2

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.table = torch.nn.Parameter(torch.randn(256, 12))

    def encode(self, notes: list[str]) -> torch.Tensor:
        self.calls += 1
        ids = [[ord(c) % 256 for c in n[:2]] for n in notes]
        return torch.stack([self.table[torch.tensor(i)] for i in ids])  # B x 2 x 12


@pytest.mark.parametrize("fusion", FUSIONS)
@pytest.mark.parametrize("in_channels", [1, 4])
def test_every_fusion_shapes_and_gradients(fusion: str, in_channels: int) -> None:
    enc = CountingEncoder()
    model = build_model(
        ModelConfig(preset="tiny", fusion=fusion, in_channels=in_channels, out_channels=3), enc
    )
    x = torch.randn(2, in_channels, 32, 32, 32)
    out = model(x, notes=NOTES)
    assert out.shape == (2, 3, 32, 32, 32)
    out.mean().backward()
    missing = [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)
    ]
    assert not missing
    assert enc.calls == (0 if fusion == "none" else 1)


def test_none_never_calls_the_text_encoder_and_needs_none() -> None:
    model = build_model(ModelConfig(preset="tiny", fusion="none"), None)
    assert model(torch.randn(1, 1, 32, 32, 32), notes=["ignored"]).shape == (1, 2, 32, 32, 32)
    assert not any("text" in n for n, _ in model.named_parameters())


def test_note_changes_the_output_and_lm_stays_frozen() -> None:
    enc = PromptTunedLM(tiny_llama(), ByteTokenizer(), config=PromptConfig(position="suffix"))
    model = build_model(ModelConfig(preset="tiny", fusion="two_way"), enc)
    x = torch.randn(1, 1, 32, 32, 32)
    a = model(x, notes=["N0, left side"])
    b = model(x, notes=["N2, right side"])
    assert (a - b).abs().max() > 1e-4
    (a.sum() + b.sum()).backward()
    lm_grads = [p.grad for n, p in model.named_parameters() if ".lm." in n]
    assert lm_grads and all(g is None for g in lm_grads)
    assert model.text_encoder is not None and enc.prompts.grad is not None


@pytest.mark.parametrize("size", [(32, 48, 16), (64, 32, 32)])
def test_anisotropic_sizes(size: tuple[int, int, int]) -> None:
    net = ResUNet(in_channels=1, out_channels=2, channels=(8, 16, 32, 64))
    assert net(torch.randn(1, 1, *size)).shape == (1, 2, *size)
    assert net.divisor == 8


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="out_channels"):
        ResUNet(in_channels=1, out_channels=1)
    with pytest.raises(ValueError, match="one fusion per level"):
        ResUNet(in_channels=1, out_channels=2, channels=(8, 16), fusions=[])
    with pytest.raises(ValueError, match="fusion must be one of"):
        build_fusion("attention", channels=8, context_dim=4, num_tokens=1)
    with pytest.raises(ValueError, match="needs a text encoder"):
        build_model(ModelConfig(preset="tiny", fusion="gated"), None)
    with pytest.raises(ValueError, match="preset"):
        build_model(ModelConfig(preset="huge", fusion="none"), None)
    with pytest.raises(ValueError, match="divisible"):
        TwoWayFusion(channels=6, context_dim=4, num_tokens=1, num_heads=4)
    model = build_model(ModelConfig(preset="tiny", fusion="concat"), CountingEncoder())
    with pytest.raises(ValueError, match="reads the note"):
        model(torch.randn(1, 1, 32, 32, 32))


@pytest.mark.parametrize("full_resolution", [True, False])
def test_deep_supervision_outputs_every_level_in_training_only(full_resolution: bool) -> None:
    torch.manual_seed(0)
    net = ResUNet(
        in_channels=1,
        out_channels=3,
        channels=(8, 16, 32, 64),
        full_resolution=full_resolution,
        deep_supervision=2,
    )
    x = torch.randn(2, 1, 32, 32, 32)
    outs = net(x)
    assert isinstance(outs, list) and len(outs) == 3
    first = 32 if full_resolution else 16  # the finest decoder level's size
    assert [tuple(o.shape) for o in outs] == [
        (2, 3, 32, 32, 32),
        (2, 3, first // 2, first // 2, first // 2),
        (2, 3, first // 4, first // 4, first // 4),
    ]
    sum(o.mean() for o in outs).backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert not missing
    net.eval()
    with torch.no_grad():
        out = net(x)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3, 32, 32, 32)
    with pytest.raises(ValueError, match="deep_supervision must be 0..2"):
        ResUNet(in_channels=1, out_channels=2, channels=(8, 16, 32, 64), deep_supervision=3)


def test_paper_preset_channels() -> None:
    model = build_model(ModelConfig(preset="paper", fusion="none"), None)
    assert model.unet.channels == (48, 48, 96, 192, 384)


@pytest.mark.parametrize("mode", ["multi-prompt", "lora"])
def test_checkpoint_leaves_out_the_frozen_language_model(tmp_path: Path, mode: str) -> None:
    from oncoseg.infer.checkpoint import frozen_keys, load_checkpoint, restore_model
    from oncoseg.train.checkpoint import save_checkpoint

    def make() -> torch.nn.Module:
        torch.manual_seed(0)
        enc = PromptTunedLM(tiny_llama(), ByteTokenizer(), config=PromptConfig(mode=mode))
        return build_model(ModelConfig(preset="tiny", fusion="two_way"), enc)

    model = make()
    frozen = frozen_keys(model)
    lm_params = [n for n, p in model.named_parameters() if n.startswith("text_encoder.")]
    assert frozen and all(k.startswith("text_encoder.") for k in frozen)
    assert not any("lora_" in k or k.endswith(("prompts", "seg")) for k in frozen)
    with torch.no_grad():  # trained weights differ from a fresh model's
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.1)
    save_checkpoint(tmp_path / "m.pt", model)
    state = load_checkpoint(tmp_path / "m.pt")["model"]
    assert not frozen & set(state)  # no frozen LM weight is copied
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable <= set(state) and any(n in state for n in lm_params)
    fresh = make()
    restore_model(fresh, load_checkpoint(tmp_path / "m.pt")["model"])
    for (n, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert torch.equal(a, b), n
    del state[next(iter(trainable))]
    with pytest.raises(ValueError, match="does not match"):
        restore_model(make(), state)


@pytest.mark.parametrize("fusion", ["none", "two_way"])
def test_bf16_autocast_gradients_match_fp32(fusion: str) -> None:
    """CPU bf16 autocast gives every parameter about the fp32 gradient's direction.

    At 32³ the tiny preset's bottleneck has depth 2, where torch 2.13's CPU bf16 kernel
    returned wrong weight gradients (cosine 0.65 here; elsewhere off by up to 1e36, or NaN)
    before ResUNet ran such blocks in fp32. bf16 rounding alone leaves cosines of 0.89-1,
    except on gradients a thousand times smaller than the largest (the first block's 1x1
    residual convolution, whose gradient the instance norm almost cancels: there rounding
    decides the direction), which are left out.
    """
    from monai.losses import DiceCELoss

    torch.manual_seed(0)
    model = build_model(ModelConfig(preset="tiny", fusion=fusion), CountingEncoder())
    x, y = torch.randn(2, 1, 32, 32, 32), (torch.rand(2, 1, 32, 32, 32) > 0.7).long()
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    grads = []
    for bf16 in (False, True):
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x, notes=NOTES)
        loss_fn(out.float(), y).backward()
        # tensors of 8+ numbers: a scalar's "direction" is its sign, which rounding can flip
        grads.append({n: p.grad.flatten() for n, p in model.named_parameters() if p.numel() >= 8})
    ref, low = grads
    assert ref.keys() == low.keys()
    largest = max(float(g.norm()) for g in ref.values())
    ref = {n: g for n, g in ref.items() if float(g.norm()) > 1e-3 * largest}
    assert len(ref) > 10
    cos = {n: float(torch.nn.functional.cosine_similarity(ref[n], low[n], dim=0)) for n in ref}
    worst = min(cos, key=lambda n: cos[n] if math.isfinite(cos[n]) else -2.0)
    assert cos[worst] > 0.8, (worst, cos[worst])


@pytest.mark.parametrize("in_channels", [1, 4])
def test_fused_restore_and_head_equals_the_layers(in_channels: int) -> None:
    """The U-Net runs its restore (transposed conv) + 1x1x1 head as one linear map on the
    coarse features: same logits and same gradients as the two layers with the concat."""
    torch.manual_seed(0)
    net = ResUNet(
        in_channels=in_channels, out_channels=3, channels=(8, 16, 32, 64), full_resolution=False
    )
    assert net.restore is not None
    with torch.no_grad():  # trained-looking biases, not PyTorch's small init
        net.restore.bias.normal_()
        net.head.conv.conv.bias.normal_()
    coarse = torch.randn(2, 8, 16, 24, 8, requires_grad=True)
    image = torch.randn(2, in_channels, 32, 48, 16)
    params = [net.restore.weight, net.restore.bias, *net.head.parameters()]

    def run(fn: Callable[[], torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        out = fn()
        grads = torch.autograd.grad(
            (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum(), [coarse, *params]
        )
        return out.detach(), list(grads)

    layers, g_layers = run(lambda: net.head(torch.cat([net.restore(coarse), image], dim=1)))
    fused, g_fused = run(lambda: net._restore_and_head(coarse, image))
    assert fused.shape == layers.shape == (2, 3, 32, 48, 16)
    torch.testing.assert_close(fused, layers, atol=1e-5, rtol=1e-5)
    for a, b in zip(g_fused, g_layers, strict=True):  # sums over 10^5 voxels: fp32 order
        assert float((a - b).norm()) <= 1e-4 * float(b.norm())
    # under bf16 autocast the fused map stays fp32; the layers round their logits to bf16
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fused16 = net._restore_and_head(coarse.bfloat16(), image)
        layers16 = net.head(torch.cat([net.restore(coarse.bfloat16()), image], dim=1))
    assert fused16.dtype == torch.float32 and layers16.dtype == torch.bfloat16
    assert (fused16 - layers16.float()).abs().max() < 0.05
    # and a whole network's output is the fused one
    torch.testing.assert_close(
        net.eval()(image), net.head(torch.cat([net.restore(_decoded(net, image)), image], 1))
    )


def _decoded(net: ResUNet, image: torch.Tensor) -> torch.Tensor:
    """The last decoder output of ``net`` (the input of its restore)."""
    skips, x = [], image
    for block in net.encoder:
        x = block(x)
        skips.append(x)
    x = skips.pop()
    for up in net.decoder:
        x = up(x, skips.pop())
    return x


def test_attention_grid_pools_the_voxels_and_upsamples_a_smooth_update() -> None:
    """grid=G: the voxels that attend are the level pooled to at most G per axis; the
    update added back is the trilinear upsampling of that coarse field; gradients reach
    every parameter and the features."""
    torch.manual_seed(0)
    full = TwoWayFusion(channels=8, context_dim=12, num_tokens=2)
    coarse = TwoWayFusion(channels=8, context_dim=12, num_tokens=2, grid=4)
    coarse.load_state_dict(full.state_dict())  # no parameters of its own
    x = torch.randn(2, 8, 16, 12, 4, requires_grad=True)
    ctx = torch.randn(2, 2, 12)
    queries: list[int] = []
    coarse.image_to_token.register_forward_hook(lambda m, a, o: queries.append(a[0].shape[1]))
    out = coarse(x, ctx)
    assert out.shape == x.shape
    assert queries == [4 * 4 * 4]  # 16 x 12 x 4 pooled to 4 x 4 x 4
    update = (out - x).detach()
    field = coarse.gamma * coarse._update(
        torch.nn.functional.adaptive_avg_pool3d(x, (4, 4, 4)), ctx
    )
    expected = torch.nn.functional.interpolate(
        field, size=(16, 12, 4), mode="trilinear", align_corners=False
    )
    torch.testing.assert_close(update, expected.detach(), atol=1e-6, rtol=1e-5)
    assert update.std(dim=(2, 3, 4)).min() > 1e-4  # varies over space: survives InstanceNorm
    # finer than the grid on every axis: the same as attending everywhere
    small = torch.randn(1, 8, 4, 4, 2)
    torch.testing.assert_close(coarse(small, ctx[:1]), full(small, ctx[:1]))
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in coarse.parameters())


def test_attention_grid_reaches_every_level_and_is_refused_elsewhere() -> None:
    cfg = ModelConfig(preset="tiny", fusion="two_way", fusion_grid=8)
    model = build_model(cfg, CountingEncoder())
    assert model.unet.fusions is not None
    assert [f.grid for f in model.unet.fusions] == [8, 8, 8, 8]
    assert model(torch.randn(1, 1, 32, 32, 32), notes=NOTES[:1]).shape == (1, 2, 32, 32, 32)
    with pytest.raises(ValueError, match="needs fusion two_way"):
        build_model(ModelConfig(preset="tiny", fusion="gated", fusion_grid=8), CountingEncoder())
    with pytest.raises(ValueError, match="grid must be >= 0"):
        TwoWayFusion(channels=8, context_dim=12, num_tokens=2, grid=-1)
    assert ModelConfig().fusion_grid == 0  # runs stored before the setting: every voxel


def test_one_window_on_cpu_runs_as_a_batch_of_two_with_the_same_result() -> None:
    """Without gradients, the U-Net runs a CPU batch of one as two copies (PyTorch would take
    its unvectorised 3-D convolution for batch 1): its convolutions see a batch of two, and
    segment_volume's probabilities equal the batch-1 computation (with gradients on)."""
    from oncoseg.models.sliding import segment_volume

    torch.manual_seed(0)
    model = build_model(ModelConfig(preset="tiny", fusion="none"), None).eval()
    x = torch.randn(1, 1, 32, 32, 32)
    seen: list[int] = []
    first = next(m for m in model.unet.modules() if isinstance(m, torch.nn.Conv3d))
    first.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape[0]))
    with torch.enable_grad():
        ref = torch.softmax(model.unet(x, None), dim=1).detach()
    assert seen == [1]
    seen.clear()
    with torch.no_grad():
        probs = segment_volume(model, x, None, roi_size=(32, 32, 32), sw_batch_size=2)
    assert seen == [2] and probs.shape == (1, 2, 32, 32, 32)
    assert torch.allclose(probs, ref, atol=1e-5)
