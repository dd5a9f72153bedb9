"""Exact resume: every random stream of an epoch comes from (seed, rank, epoch), and what
``last.pt`` does not hold is rebuilt or trimmed to match it.

A run killed after epoch *k* and resumed with ``--resume`` replays epochs *k+1...* exactly as
the uninterrupted run did: weights, optimiser and schedule come from ``last.pt``; the epoch's
batch order, crops, intensity augmentation, note variants and any torch/numpy/python draw
are reseeded from ``(train.seed, rank, epoch)`` at the start of each epoch, so none of them
depends on how many epochs this process has run. ``metrics.jsonl`` keeps the epochs the
checkpoint holds and no more.

Example:
    >>> a, b = epoch_seeds(3, 0, 5), epoch_seeds(3, 0, 5)
    >>> a == b and a != epoch_seeds(3, 0, 6) and len(a) == 4
    True
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oncoseg.data.dataset import dataset_hash
from oncoseg.infer.config import RunConfig, dump_config, to_dict
from oncoseg.io.atomic import write_json, write_text
from oncoseg.provenance import provenance

log = logging.getLogger(__name__)
RUN_OUTPUTS = ("best.pt", "last.pt", "metrics.jsonl")  # what a fresh run must not inherit


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's global generators (model initialisation)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def epoch_seeds(seed: int, rank: int, epoch: int) -> tuple[int, int, int, int]:
    """Four independent 32-bit seeds for epoch ``epoch`` (0-based) on ``rank``."""
    state = np.random.SeedSequence([seed, rank, epoch]).generate_state(4)
    return tuple(int(s) for s in state)  # type: ignore[return-value]


def seed_epoch(transform: Any, seed: int, rank: int, epoch: int) -> None:
    """Reseed the augmentation (MONAI transforms keep their own ``RandomState``) and the
    torch, numpy and python global generators for epoch ``epoch``."""
    monai_seed, torch_seed, np_seed, py_seed = epoch_seeds(seed, rank, epoch)
    transform.set_random_state(seed=monai_seed)
    torch.manual_seed(torch_seed)  # CUDA generators too
    np.random.seed(np_seed)
    random.seed(py_seed)


def clear_run_outputs(out: Path) -> None:
    """Remove checkpoints and metrics a fresh (not resumed) run in ``out`` would otherwise
    inherit: a killed rerun must not leave an older model beside its new config."""
    for name in RUN_OUTPUTS:
        (out / name).unlink(missing_ok=True)


def trim_metrics(path: Path, epochs: int) -> None:
    """Keep the records of epochs ``1..epochs`` in ``path`` (rewritten atomically); a line
    cut short by a kill, or an epoch the checkpoint does not hold, is dropped."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        epoch = record.get("epoch") if isinstance(record, dict) else None
        if isinstance(epoch, int) and epoch <= epochs:
            kept.append(line)
    write_text(path, "".join(f"{k}\n" for k in kept))


def append_metrics(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line to ``path`` (the whole file is rewritten atomically: it is small,
    and a kill never leaves half a line)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    write_text(path, old + json.dumps(record) + "\n")


def has_checkpoint(out: Path) -> bool:
    """Whether ``out`` holds a ``last.pt`` to resume from (else ``--resume`` starts at
    epoch 0, as nnU-Net's ``--c`` does, with a warning)."""
    if (out / "last.pt").exists():
        return True
    log.warning("%s: no last.pt to resume from; training from epoch 0", out)
    return False


def start_run_folder(
    cfg: RunConfig, out: Path, train_ids: list[str], val_ids: list[str], resumed: int | None
) -> None:
    """Write ``config.yaml`` and ``provenance.json``; a run resumed after epoch ``resumed``
    keeps that many metrics records, a fresh one (``None``) keeps no checkpoint or metrics."""
    out.mkdir(parents=True, exist_ok=True)
    if resumed is None:
        clear_run_outputs(out)
    else:
        trim_metrics(out / "metrics.jsonl", resumed)
    write_text(out / "config.yaml", dump_config(cfg))
    write_json(
        out / "provenance.json",
        provenance(
            config=to_dict(cfg),
            data_hash=dataset_hash(cfg.data.dataset),
            train_cases=train_ids,
            val_cases=val_ids,
            torch=torch.__version__,
        ),
    )
