"""Write checkpoints: the trainable state only (never the frozen language model), atomically.

Read them with :func:`oncoseg.infer.checkpoint.load_checkpoint` (``weights_only=True``).
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from oncoseg.infer.checkpoint import trainable_state
from oncoseg.io.atomic import atomic_path


def save_checkpoint(path: str | os.PathLike[str], model: nn.Module, **extra: Any) -> None:
    """``{"model": trainable state, **extra}`` to ``path`` (written to a temporary file first)."""
    with atomic_path(path) as tmp:
        torch.save({"model": trainable_state(model), **extra}, tmp)
