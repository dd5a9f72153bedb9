"""The note-state cache: bounded on disk (size, age, least recently used first) and safe
when several processes read, write and evict the same folder."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest
import torch

from oncoseg.text.cache import SUFFIX, EmbeddingCache


def _value(i: int, rows: int = 64) -> torch.Tensor:
    """The entry of key ``k{i}``: 64 x 256 float32 = 64 KiB, every value ``i``."""
    return torch.full((rows, 256), float(i))


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob(f"*{SUFFIX}"))


def test_the_disk_layer_keeps_the_recently_used_entries_within_its_size(tmp_path: Path) -> None:
    cache = EmbeddingCache(directory=tmp_path, max_mb=0.5, max_days=0)
    for i in range(6):
        cache.put(f"k{i}", _value(i))
    entry = (tmp_path / f"k0{SUFFIX}").stat().st_size
    fit = int(0.5 * 2**20 // entry)
    assert entry > 64 * 1024 and fit == 7  # 6 fit, 9 do not
    old = time.time() - 3600
    for i in range(6):  # k0 oldest ... k5 newest
        os.utime(tmp_path / f"k{i}{SUFFIX}", (old + i, old + i))
    reader = EmbeddingCache(directory=tmp_path)
    got = reader.get("k0")  # reading k0 makes it the most recently used of the six
    assert got is not None and torch.equal(got, _value(0))
    for i in range(6, 9):
        cache.put(f"k{i}", _value(i))
    removed = sorted(p.name.removesuffix(SUFFIX) for p in cache.sweep())
    left = sorted(p.name.removesuffix(SUFFIX) for p in tmp_path.glob(f"*{SUFFIX}"))
    assert removed == ["k1", "k2"]  # the least recently used
    assert left == ["k0", "k3", "k4", "k5", "k6", "k7", "k8"]
    assert _size(tmp_path) <= 0.5 * 2**20


def test_entries_unused_for_max_days_go(tmp_path: Path) -> None:
    cache = EmbeddingCache(directory=tmp_path, max_mb=0, max_days=30)
    cache.put("old", _value(1))
    cache.put("new", _value(2))
    month = time.time() - 31 * 86400
    os.utime(tmp_path / f"old{SUFFIX}", (month, month))
    assert [p.name for p in cache.sweep()] == [f"old{SUFFIX}"]
    assert EmbeddingCache(directory=tmp_path).get("old") is None  # a miss, not an error


def test_limits_from_the_environment_and_refused_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONCOSEG_NOTE_CACHE_MB", "12.5")
    monkeypatch.setenv("ONCOSEG_NOTE_CACHE_DAYS", "7")
    cache = EmbeddingCache()
    assert (cache.max_mb, cache.max_days) == (12.5, 7.0)
    assert EmbeddingCache(max_mb=3).max_mb == 3.0  # an argument wins
    monkeypatch.setenv("ONCOSEG_NOTE_CACHE_MB", "lots")
    with pytest.raises(ValueError, match=r"ONCOSEG_NOTE_CACHE_MB: expected a number"):
        EmbeddingCache()
    with pytest.raises(ValueError, match="note_cache_days: expected >= 0"):
        EmbeddingCache(max_mb=1, max_days=-1)


def test_an_unreadable_entry_is_a_miss_and_is_dropped(tmp_path: Path) -> None:
    cache = EmbeddingCache(directory=tmp_path)
    cache.put("k", _value(3))
    path = tmp_path / f"k{SUFFIX}"
    path.write_bytes(path.read_bytes()[:100])  # as a copy cut short would leave it
    assert EmbeddingCache(directory=tmp_path).get("k") is None
    assert not path.exists()


def _hammer(folder: str, worker: int, rounds: int, queue: mp.Queue) -> None:
    """Write, read and evict the same 8 keys as the other worker, checking every read."""
    bad = 0
    for r in range(rounds):
        cache = EmbeddingCache(directory=folder, max_mb=0.4, max_days=0)  # a new process' view
        for i in range(8):
            key = f"k{(i + worker * 3 + r) % 8}"
            value = cache.get(key)
            if value is None:
                cache.put(key, _value(int(key[1:]), rows=96))
            elif not torch.equal(value, _value(int(key[1:]), rows=96)):
                bad += 1
        cache.sweep()
    queue.put(bad)


def test_two_processes_writing_reading_and_evicting_the_same_keys(tmp_path: Path) -> None:
    """Every entry read is whole and right; nothing raises; the bound holds at the end."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_hammer, args=(str(tmp_path), w, 25, queue)) for w in (0, 1)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=600)
    assert [p.exitcode for p in workers] == [0, 0]
    assert [queue.get(timeout=10) for _ in workers] == [0, 0]
    assert _size(tmp_path) <= 0.4 * 2**20
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
