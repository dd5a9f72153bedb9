"""Precision per machine: bf16 only where the hardware runs it natively."""

from __future__ import annotations

import pytest
import torch

from oncoseg.infer import device as dev
from oncoseg.infer.config import ConfigError, load_config


@pytest.fixture(autouse=True)
def _fresh_probe() -> None:
    dev.bf16_probe.cache_clear()


def test_explicit_precision_and_legacy_flag() -> None:
    cpu = torch.device("cpu")
    assert dev.resolve_bf16("fp32", True, cpu) is False
    assert dev.resolve_bf16("bf16", False, cpu) is True
    assert dev.resolve_bf16("", True, cpu) is True  # a stored run's train.bf16 as it was
    assert dev.resolve_bf16("", False, cpu) is False
    with pytest.raises(ValueError, match="train.precision must be"):
        dev.resolve_bf16("fp16", False, cpu)


def test_auto_is_fp32_without_bf16_instructions(monkeypatch: pytest.MonkeyPatch) -> None:
    """An AVX2-only CPU never runs the probe: bf16 there is oneDNN's reference kernel."""
    monkeypatch.setattr(dev, "_cpu_flags", lambda *a: ["avx512f"])
    monkeypatch.setattr(dev, "bf16_probe", lambda: pytest.fail("probe ran"))
    assert dev.resolve_bf16("auto", True, torch.device("cpu")) is False


@pytest.mark.parametrize(
    ("ratio", "native"), [(0.6, True), (1.9, True), (2.5, False), (150, False)]
)
def test_auto_follows_the_probe_where_flags_say_bf16(
    monkeypatch: pytest.MonkeyPatch, ratio: float, native: bool
) -> None:
    """Flags present but oneDNN capped (ONEDNN_MAX_CPU_ISA=AVX2): the probe decides."""
    monkeypatch.setattr(dev, "_cpu_flags", lambda *a: ["avx512f", "amx_bf16"])
    monkeypatch.setattr(
        dev, "bf16_probe", lambda: {"ratio": ratio, "native": ratio <= dev.NATIVE_BF16_MAX_RATIO}
    )
    assert dev.resolve_bf16("auto", False, torch.device("cpu")) is native


def test_probe_times_both_precisions() -> None:
    probe = dev.bf16_probe()
    assert probe["fp32_ms"] > 0 and probe["bf16_ms"] > 0
    assert probe["ratio"] == pytest.approx(probe["bf16_ms"] / probe["fp32_ms"], rel=0.05)
    assert probe["native"] == (probe["ratio"] <= dev.NATIVE_BF16_MAX_RATIO)


def test_kernel_settings_record_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    k = dev.kernel_settings()
    assert k["env"]["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert k["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert k["threads"] == torch.get_num_threads()
    assert isinstance(k["native_bf16"], bool)


def test_precision_setting_is_checked_by_type() -> None:
    assert load_config(None, ["train.precision=auto"]).train.precision == "auto"
    with pytest.raises(ConfigError):
        load_config(None, ["train.precision=3"])
