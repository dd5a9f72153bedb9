"""Checkpoints that hold only what trains: the frozen language model is never copied.

Loaded here with ``weights_only=True`` (inference needs no training code); written by
:func:`oncoseg.train.checkpoint.save_checkpoint` with ``torch.save``, atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn


def frozen_keys(model: nn.Module) -> set[str]:
    """State keys of the frozen text-model weights: rebuilt from the installed weights at
    load time (their fingerprint is in the run's config), so never copied into checkpoints.
    Decided by ``requires_grad``, tied weights included; LoRA and prompts train, so stay."""
    return {
        name
        for name, p in model.named_parameters(remove_duplicate=False)
        if name.startswith("text_encoder.") and not p.requires_grad
    }


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state without frozen language-model weights (LoRA weights are kept)."""
    skip = frozen_keys(model)
    return {k: v for k, v in model.state_dict().items() if k not in skip}


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: checkpoint not found")
    return torch.load(p, map_location="cpu", weights_only=True)


def restore_model(model: nn.Module, state: dict[str, torch.Tensor], source: str = "") -> None:
    """Load ``state``; every key the checkpoint should hold must be present."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    skip = frozen_keys(model)
    real_missing = [k for k in missing if k not in skip]
    if real_missing or unexpected:
        raise ValueError(
            f"{source}: checkpoint does not match the model (missing "
            f"{real_missing[:5]}, unexpected {list(unexpected)[:5]})"
        )
