"""Checkpoints that hold only what trains: the frozen language model is never copied.

Saved with ``torch.save`` atomically; loaded with ``weights_only=True``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from oncoseg.io.atomic import atomic_path

FROZEN_PREFIXES = ("text_encoder.lm.", "text_encoder.model.")


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state without frozen language-model weights (LoRA weights are kept)."""
    return {
        k: v
        for k, v in model.state_dict().items()
        if not k.startswith(FROZEN_PREFIXES) or "lora_" in k
    }


def save_checkpoint(path: str | os.PathLike[str], model: nn.Module, **extra: Any) -> None:
    with atomic_path(path) as tmp:
        torch.save({"model": trainable_state(model), **extra}, tmp)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: checkpoint not found")
    return torch.load(p, map_location="cpu", weights_only=True)


def restore_model(model: nn.Module, state: dict[str, torch.Tensor], source: str = "") -> None:
    """Load ``state``; every key the checkpoint should hold must be present."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    real_missing = [k for k in missing if not k.startswith(FROZEN_PREFIXES) or "lora_" in k]
    if real_missing or unexpected:
        raise ValueError(
            f"{source}: checkpoint does not match the model (missing "
            f"{real_missing[:5]}, unexpected {list(unexpected)[:5]})"
        )
