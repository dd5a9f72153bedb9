"""A cache of frozen text-encoder outputs keyed by (model, mode, trainable state, note).

Frozen text work is never repeated: a note's context vectors are computed once per case
(not per sliding window, not per epoch when nothing in the encoder trains). Entries live in
memory (LRU) and, if a folder is given, on disk as ``<key>.safetensors`` files.

The disk layer is bounded and safe to share between processes:

- **Bounded**: at most ``max_mb`` megabytes (default 1024, ``$ONCOSEG_NOTE_CACHE_MB``) and
  entries unused for at most ``max_days`` days (default 90, ``$ONCOSEG_NOTE_CACHE_DAYS``;
  0 for either: no limit). A read marks its file used (its mtime), so the least recently
  used entries go first. The folder is swept after the first write of a process and then
  every :data:`SWEEP_EVERY` writes.
- **Concurrent use**: an entry is written to a temporary file and renamed onto its name
  (:func:`oncoseg.io.atomic.atomic_path`), so a reader sees a whole file or none; two
  processes writing one key write the same tensor and the last rename wins. A file that
  vanishes (another process evicted it) or does not parse is a miss, never an error.

Example:
    >>> import tempfile, torch
    >>> cache = EmbeddingCache(directory=tempfile.mkdtemp(), max_mb=1)
    >>> cache.put("k", torch.ones(2, 3))
    >>> EmbeddingCache(directory=cache.directory).get("k").shape
    torch.Size([2, 3])
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections import OrderedDict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save_file

from oncoseg.io.atomic import atomic_path, remove_stale_temp_files

log = logging.getLogger(__name__)

MAX_MB = 1024.0  # disk layer size bound (MB) unless $ONCOSEG_NOTE_CACHE_MB says otherwise
MAX_DAYS = 90.0  # entries unused this long are removed, unless $ONCOSEG_NOTE_CACHE_DAYS
SWEEP_EVERY = 64  # writes between two sweeps of the folder (and the first write)
SUFFIX = ".safetensors"


def cache_key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def env_limit(value: float | None, env: str, default: float) -> float:
    """``value``, else the environment variable ``env``, else ``default`` (>= 0)."""
    if value is None:
        text = os.environ.get(env, "").strip()
        try:
            value = float(text) if text else default
        except ValueError as exc:
            raise ValueError(f"${env}: expected a number, got {text!r}") from exc
    if value < 0:
        raise ValueError(f"{env.removeprefix('ONCOSEG_').lower()}: expected >= 0, got {value}")
    return value


class EmbeddingCache:
    """LRU memory cache of tensors with an optional, bounded on-disk layer.

    Args:
        max_items: entries kept in memory.
        directory: if set, entries are also stored as ``<key>.safetensors`` there.
        max_mb: size bound of the disk layer in MB (0: none); default as the module says.
        max_days: entries unused for longer are removed from disk (0: never).
    """

    def __init__(
        self,
        *,
        max_items: int = 4096,
        directory: str | os.PathLike[str] | None = None,
        max_mb: float | None = None,
        max_days: float | None = None,
    ):
        self.max_items = max_items
        self.directory = Path(directory) if directory is not None else None
        self.max_mb = env_limit(max_mb, "ONCOSEG_NOTE_CACHE_MB", MAX_MB)
        self.max_days = env_limit(max_days, "ONCOSEG_NOTE_CACHE_DAYS", MAX_DAYS)
        self._mem: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._writes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._mem)

    def get(self, key: str) -> torch.Tensor | None:
        if key in self._mem:
            self._mem.move_to_end(key)
            self.hits += 1
            return self._mem[key]
        if self.directory is not None and (value := self._read(key)) is not None:
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
            with atomic_path(self.directory / f"{key}{SUFFIX}") as tmp:
                save_file({"value": value}, str(tmp))
            if self._writes % SWEEP_EVERY == 0:
                self.sweep()
            self._writes += 1

    def _read(self, key: str) -> torch.Tensor | None:
        """The disk entry of ``key`` (and mark it used), or ``None``."""
        assert self.directory is not None
        path = self.directory / f"{key}{SUFFIX}"
        try:  # the whole file in one read: a later rename or eviction cannot tear it
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:  # unreadable here: computed again, never fatal
            log.warning("note-state cache: cannot read %s (%s)", path.name, exc)
            return None
        try:
            value = load(data)["value"]
        except (SafetensorError, KeyError) as exc:  # not written by atomic_path
            log.warning("note-state cache: dropping unreadable entry %s (%s)", path.name, exc)
            path.unlink(missing_ok=True)
            return None
        # used now: eviction goes by least recent use (unless another process evicted it
        # meanwhile, or the cache is read-only)
        with contextlib.suppress(OSError):
            os.utime(path)
        return value

    def sweep(self) -> list[Path]:
        """Remove disk entries unused for ``max_days``, then the least recently used until
        the folder holds at most ``max_mb``; also stale temporary files of killed writers.
        Returns the entries removed."""
        if self.directory is None or not self.directory.is_dir():
            return []
        remove_stale_temp_files(self.directory)
        entries = []
        for item in os.scandir(self.directory):
            if item.name.endswith(SUFFIX) and not item.name.startswith("."):
                try:
                    st = item.stat()
                except FileNotFoundError:  # removed by another process
                    continue
                entries.append((st.st_mtime, st.st_size, Path(item.path)))
        entries.sort()  # least recently used first
        cutoff = time.time() - self.max_days * 86400 if self.max_days else float("-inf")
        budget = self.max_mb * 2**20 if self.max_mb else float("inf")
        total = sum(size for _, size, _ in entries)
        removed = []
        for mtime, size, path in entries:
            if mtime >= cutoff and total <= budget:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed.append(path)
        if removed:
            log.debug("note-state cache: removed %d entries from %s", len(removed), self.directory)
        return removed

    def _remember(self, key: str, value: torch.Tensor) -> None:
        self._mem[key] = value
        self._mem.move_to_end(key)
        while len(self._mem) > self.max_items:
            self._mem.popitem(last=False)
