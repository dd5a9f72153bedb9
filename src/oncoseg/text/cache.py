"""A cache of frozen text-encoder outputs keyed by (model, mode, trainable state, note).

Frozen text work is never repeated: a note's context vectors are computed once per case
(not per sliding window, not per epoch when nothing in the encoder trains). Entries live in
memory (LRU) and, if a folder is given, on disk as safetensors files written atomically.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from oncoseg.io.atomic import atomic_path


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class EmbeddingCache:
    """LRU memory cache of tensors with an optional on-disk layer.

    Args:
        max_items: entries kept in memory.
        directory: if set, entries are also stored as ``<key>.safetensors`` there.
    """

    def __init__(self, *, max_items: int = 4096, directory: str | os.PathLike[str] | None = None):
        self.max_items = max_items
        self.directory = Path(directory) if directory is not None else None
        self._mem: OrderedDict[str, torch.Tensor] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._mem)

    def get(self, key: str) -> torch.Tensor | None:
        if key in self._mem:
            self._mem.move_to_end(key)
            self.hits += 1
            return self._mem[key]
        if self.directory is not None:
            path = self.directory / f"{key}.safetensors"
            if path.exists():
                value = load_file(str(path))["value"]
                self._remember(key, value)
                self.hits += 1
                return value
        self.misses += 1
        return None

    def put(self, key: str, value: torch.Tensor) -> None:
        value = value.detach().to("cpu").contiguous()
        self._remember(key, value)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.directory / f"{key}.safetensors") as tmp:
                save_file({"value": value}, str(tmp))

    def _remember(self, key: str, value: torch.Tensor) -> None:
        self._mem[key] = value
        self._mem.move_to_end(key)
        while len(self._mem) > self.max_items:
            self._mem.popitem(last=False)
