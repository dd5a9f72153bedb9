"""Exact resume: ``last.pt`` holds every random stream training draws from, and what it
does not hold is rebuilt or trimmed to match it.

A run killed after epoch *k* and resumed with ``--resume`` replays epochs *k+1...* exactly as
the uninterrupted run did: weights, optimiser and schedule come from ``last.pt``, and so do
the states of torch's, numpy's and python's generators and of the augmentation's own
``RandomState``s (:func:`rng_state`), taken when the checkpoint was written; the batch order
and note variants are drawn from ``(train.seed, epoch)`` already. An uninterrupted run draws
exactly what it drew before resume existed (no reseeding between epochs). Under DDP only
rank 0 writes ``last.pt``: other ranks resume with rank 0's global streams and their own
augmentation seeds, so a resumed multi-process run is not exact. ``metrics.jsonl`` keeps
the epochs the checkpoint holds and no more.
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
from oncoseg.io.atomic import remove_stale_temp_files, write_json, write_text
from oncoseg.io.provenance import provenance

log = logging.getLogger(__name__)
RUN_OUTPUTS = ("best.pt", "last.pt", "metrics.jsonl")  # what a fresh run must not inherit


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's global generators (model initialisation)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _random_states(transform: Any) -> list[np.random.RandomState]:
    """Every ``RandomState`` of a MONAI ``Compose``, in a fixed order: its own, each random
    transform's, and those of the array transforms a dictionary transform wraps (e.g.
    ``RandFlipd.flipper``: each keeps a generator of its own)."""
    found: dict[int, np.random.RandomState] = {}

    def walk(obj: Any, depth: int) -> None:
        r = getattr(obj, "R", None)
        if isinstance(r, np.random.RandomState):
            found.setdefault(id(r), r)
        if depth == 0:
            return
        for child in getattr(obj, "transforms", []) or []:
            walk(child, depth - 1)
        for name in sorted(vars(obj)):
            value = vars(obj)[name]
            if name != "R" and hasattr(value, "set_random_state"):
                walk(value, depth - 1)

    walk(transform, 3)
    return list(found.values())


def _np_state(state: Any) -> dict[str, Any]:
    name, keys, pos, has_gauss, gauss = state
    return {
        "name": name,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "gauss": float(gauss),
    }


def _np_tuple(d: dict[str, Any]) -> tuple[Any, ...]:
    keys = d["keys"].numpy().astype(np.uint32)
    return (d["name"], keys, d["pos"], d["has_gauss"], d["gauss"])


def rng_state(transform: Any) -> dict[str, Any]:
    """Every random stream training draws from, as ``last.pt`` stores it (tensors, lists and
    numbers only: ``weights_only`` loading): torch's (and CUDA's), numpy's and python's global
    generators and the augmentation's own ``RandomState``s (MONAI keeps one per transform)."""
    version, internal, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": _np_state(np.random.get_state()),
        "python": [version, torch.tensor(internal, dtype=torch.int64), gauss],
        "monai": [_np_state(r.get_state()) for r in _random_states(transform)],
    }


def restore_rng_state(state: dict[str, Any], transform: Any) -> None:
    """Set every stream of :func:`rng_state` back, so a resumed run draws what the
    uninterrupted run drew after the same epoch."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    np.random.set_state(_np_tuple(state["numpy"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(int(v) for v in internal.tolist()), gauss))
    monai = _random_states(transform)
    if len(monai) != len(state["monai"]):
        raise ValueError(
            f"last.pt holds {len(state['monai'])} augmentation streams, this run has "
            f"{len(monai)}: the training transforms changed since it was written"
        )
    for r, saved in zip(monai, state["monai"], strict=True):
        r.set_state(_np_tuple(saved))


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
    keeps that many metrics records, a fresh one (``None``) keeps no checkpoint or metrics;
    either way the temporary files of a killed run's writers go."""
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out)  # e.g. the checkpoint a killed run was writing
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
