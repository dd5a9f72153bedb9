"""Device and precision choice shared by training and inference.

bf16 autocast pays only where the hardware runs it natively: on a GPU that supports it, or a
CPU whose oneDNN kernels use AVX-512 BF16 or AMX. Elsewhere oneDNN falls back to a
reference kernel (a 64³ conv3d forward + backward: 92 s in bf16 against 0.59 s in fp32 with
AVX2), so ``train.precision=auto`` and prediction ask :func:`native_bf16` first. Flags in
``/proc/cpuinfo`` are not enough: ``ONEDNN_MAX_CPU_ISA`` can cap what oneDNN uses, so the
check times one small convolution in both precisions.

Example:
    >>> pick_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

import torch

# bf16 counts as native when a small conv3d is at most this much slower than in fp32 (native
# kernels: 0.5-1x; oneDNN's reference kernel: over 100x)
NATIVE_BF16_MAX_RATIO = 2.0
KERNEL_ENV = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS")
SETTING_ENV = "ONCOSEG_KERNEL_SETTING"  # a named setting of the seeds x kernels matrix
BF16_CPU_FLAGS = ("avx512f", "avx512_bf16", "amx_bf16")


def pick_device(name: str) -> torch.device:
    """``auto``: CUDA when available, else CPU; any other name as torch spells it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _conv_seconds(dtype: torch.dtype, repeats: int = 3) -> float:
    conv = torch.nn.Conv3d(8, 8, 3, padding=1)
    x = torch.randn(1, 8, 16, 16, 16)
    times = []
    with (
        torch.no_grad(),
        torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype != torch.float32),
    ):
        for _ in range(repeats + 1):  # the first call pays oneDNN's kernel creation
            t0 = time.perf_counter()
            conv(x)
            times.append(time.perf_counter() - t0)
    return sorted(times[1:])[len(times[1:]) // 2]


@functools.cache
def bf16_probe() -> dict[str, Any]:
    """Time one small conv3d in fp32 and under bf16 autocast on the CPU (well under a
    second where bf16 is native; about a second where it is not)."""
    fp32, bf16 = _conv_seconds(torch.float32), _conv_seconds(torch.bfloat16)
    ratio = bf16 / max(fp32, 1e-9)
    return {
        "fp32_ms": round(fp32 * 1e3, 3),
        "bf16_ms": round(bf16 * 1e3, 3),
        "ratio": round(ratio, 2),
        "native": ratio <= NATIVE_BF16_MAX_RATIO,
    }


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast runs natively on ``device``: CUDA, the card supports it; CPU,
    it has AVX-512 BF16 or AMX and the probe finds oneDNN using them."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if not {"avx512_bf16", "amx_bf16"} & set(_cpu_flags()):
        return False
    return bool(bf16_probe()["native"])


def resolve_bf16(precision: str, bf16: bool, device: torch.device) -> bool:
    """Whether to train in bf16: ``precision`` ``auto`` asks the hardware; ``""`` keeps the
    explicit ``train.bf16``."""
    if precision == "auto":
        return native_bf16(device)
    if precision in ("fp32", "bf16"):
        return precision == "bf16"
    if precision:
        raise ValueError(f"train.precision must be fp32, bf16, auto or empty, got {precision!r}")
    return bf16


def _cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> list[str]:
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            present = set(line.split(":", 1)[1].split())
            return [f for f in BF16_CPU_FLAGS if f in present]
    return []


def kernel_settings() -> dict[str, Any]:
    """What decides this process's float kernels: the environment that caps them, the
    instruction set PyTorch chose, threads, the CPU's bf16 flags and the bf16 probe."""
    return {
        "setting": os.environ.get(SETTING_ENV, "default"),
        "env": {k: os.environ.get(k, "") for k in KERNEL_ENV},
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
        "cpu_bf16_flags": _cpu_flags(),
        "bf16_probe": bf16_probe() if {"avx512_bf16", "amx_bf16"} & set(_cpu_flags()) else None,
        "native_bf16": native_bf16(torch.device("cpu")),
    }
