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
    skip = frozen_keys(model)
    real_missing = [k for k in missing if k not in skip]
    if real_missing or unexpected:
        raise ValueError(
            f"{source}: checkpoint does not match the model (missing "
            f"{real_missing[:5]}, unexpected {list(unexpected)[:5]})"
        )


def checkpoint_of(source: str | os.PathLike[str]) -> Path:
    """The checkpoint a run directory stands for (best.pt, else last.pt), or the file itself."""
    p = Path(source)
    if p.is_dir():
        for name in ("best.pt", "last.pt"):
            if (p / name).exists():
                return p / name
        raise FileNotFoundError(f"{p}: run directory without best.pt or last.pt")
    if not p.exists():
        raise FileNotFoundError(f"{p}: checkpoint not found")
    return p


def warm_start(model: nn.Module, source: str | os.PathLike[str]) -> Path:
    """Start ``model`` from a trained model's U-Net (``train.init_from``).

    Every U-Net tensor of ``model`` outside its fusion modules must be in the checkpoint
    with the same shape (same preset, channels and classes); the checkpoint's own fusion
    and text weights, if any, are ignored. Fusions with a residual scale (``two_way``'s
    gamma, ``static``'s alpha) get it set to 0, so the model's output starts as the source
    model's whatever the note (zero-initialised residual branches, as in ControlNet);
    Adam's normalised steps move the scale off 0 at the first update. Returns the
    checkpoint file used.
    """
    path = checkpoint_of(source)
    state = load_checkpoint(path)["model"]
    own = {k: v for k, v in model.state_dict().items() if _is_unet(k)}
    missing = [k for k in own if k not in state]
    wrong = [
        f"{k} {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or wrong:
        raise ValueError(
            f"{path}: its U-Net does not match this model's (missing {missing[:3]}, "
            f"shape {wrong[:3]}): train.init_from needs the same preset, channels and classes"
        )
    model.load_state_dict({k: state[k] for k in own}, strict=False)
    for name, p in model.named_parameters():
        if name.startswith("unet.fusions.") and name.rsplit(".", 1)[-1] in ("gamma", "alpha"):
            nn.init.zeros_(p)
    return path


def _is_unet(key: str) -> bool:
    return key.startswith("unet.") and not key.startswith("unet.fusions.")
