"""The machine's speed limits the model benchmark is read against.

The fp32 Conv3d peak (``oncoseg bench peak --out docs/results/model`` writes ``peak.json``):
a few large ``Conv3d`` forwards (3x3x3, 32-64 channels at 64³, batch 2), the best GFLOP/s.
The FLOPs of one vision-only U-Net forward + backward, counted by
:class:`torch.utils.flop_counter.FlopCounterMode` like the peak's (a multiply-add is 2
FLOPs; bias, normalisation and activations are not counted): divided by the minimum step
time they say how busy the U-Net keeps the machine.

Example:
    >>> r = measure_conv_peak(shapes=((2, 2, 8),), repeats=1)
    >>> r["peak_gflops"] > 0
    True
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from oncoseg.io.provenance import cpu_model

log = logging.getLogger(__name__)

# (in channels, out channels, size): the U-Net's widest full-size work at 64³, batch 2
PEAK_SHAPES: tuple[tuple[int, int, int], ...] = (
    (32, 32, 64),
    (32, 64, 64),
    (64, 32, 64),
    (64, 64, 64),
)


def clock_for(device: torch.device) -> Callable[[], float]:
    """A wall clock that first waits for queued GPU work on ``device`` (CUDA)."""
    if device.type == "cuda":

        def clock() -> float:
            torch.cuda.synchronize(device)
            return time.perf_counter()

        return clock
    return time.perf_counter


def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs that ``fn()`` runs, as :class:`FlopCounterMode` counts them."""
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


def measure_conv_peak(
    device: str = "cpu",
    *,
    shapes: Sequence[tuple[int, int, int]] = PEAK_SHAPES,
    batch: int = 2,
    repeats: int = 3,
) -> dict[str, Any]:
    """Best GFLOP/s of fp32 3x3x3 ``Conv3d`` forwards of ``shapes`` (in, out, size).

    Each shape runs once untimed, then ``repeats`` times; its figure is from the fastest.

    Returns:
        ``{"peak_gflops", "shapes": [{"in", "out", "size", "gflop", "best_s", "gflops"}],
        "batch", "kernel", "dtype", "device", "threads"}``.
    """
    dev = torch.device(device)
    clock = clock_for(dev)
    rows = []
    for cin, cout, size in shapes:
        conv = nn.Conv3d(cin, cout, 3, padding=1).to(dev)
        x = torch.randn(batch, cin, size, size, size, device=dev)  # B x C x D x H x W
        with torch.no_grad():
            flops = count_flops(partial(conv, x))  # also the warm-up
            times = []
            for _ in range(repeats):
                t0 = clock()
                conv(x)
                times.append(clock() - t0)
        best = min(times)
        row = {"in": cin, "out": cout, "size": size, "gflop": flops / 1e9, "best_s": best}
        rows.append({**row, "gflops": flops / best / 1e9})
        log.info("conv3d %d->%d at %d³: %.1f GFLOP/s", cin, cout, size, rows[-1]["gflops"])
    return {
        "peak_gflops": max(r["gflops"] for r in rows),
        "shapes": rows,
        "batch": batch,
        "kernel": 3,
        "dtype": "float32",
        "device": _device_name(dev),
        "threads": torch.get_num_threads(),
        "cudnn_allow_tf32": bool(torch.backends.cudnn.allow_tf32) if dev.type == "cuda" else None,
    }


def unet_step_flops(
    *, preset: str = "small", size: int = 64, batch: int = 2, device: str = "cpu"
) -> int:
    """FLOPs of one vision-only U-Net forward + backward on (batch, 1, size³) inputs."""
    from oncoseg.models.multimodal import ModelConfig, build_model

    dev = torch.device(device)
    model = build_model(ModelConfig(preset=preset, fusion="none"), None).to(dev).train()
    x = torch.randn(batch, 1, size, size, size, device=dev)  # B x 1 x D x H x W

    def step() -> None:
        logits = model.unet(x, None)
        assert isinstance(logits, torch.Tensor)
        logits.float().square().mean().backward()

    return count_flops(step)


def _device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(dev)} (torch {torch.__version__})"
    isa = torch.backends.cpu.get_cpu_capability()
    threads = torch.get_num_threads()
    return f"cpu: {cpu_model()}, {isa}, {threads} threads (torch {torch.__version__})"
