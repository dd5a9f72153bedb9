"""The model store: trained runs kept under a key of their resolved config and data.

Experiments that need the same model train it once; experiments running side by side
share the store under a file lock (``filelock``): the second to ask for a model waits for
the first and reuses it. ``done.json`` marks a finished model; a run killed before it is
resumed from its ``last.pt`` (exact: :mod:`oncoseg.train.resume`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import shutil
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

from oncoseg.experiments.cohorts import Data
from oncoseg.experiments.config import ExperimentConfig
from oncoseg.infer.config import load_config, to_dict
from oncoseg.io.atomic import remove_stale_temp_files, write_json
from oncoseg.io.provenance import git_commit
from oncoseg.tasks import note_variants_for
from oncoseg.train.trainer import train

log = logging.getLogger(__name__)


def model_key(overrides: list[str], data_hash: str) -> str:
    """Identifies a trained model: its resolved config (minus paths and the prediction-time
    ``infer`` settings, which training never reads) and its data."""
    cfg = to_dict(load_config(None, overrides))
    cfg.pop("out")
    cfg.pop("infer")
    cfg["data"].pop("dataset")
    blob = json.dumps({"config": cfg, "data": data_hash}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def equivalent_stored(out: Path, overrides: list[str], data_hash: str) -> Path | None:
    """A finished run in ``out``'s store, under another key or name, that trained the same model.

    A key hashes the whole resolved config, so adding a setting changes every key. A stored
    run is the same model when its recorded overrides, resolved with today's defaults, give
    today's key for the same data: settings added since default to the old behaviour (the
    rule for new settings here; a changed default needs a fresh store).
    """
    key = model_key(list(overrides), data_hash)
    prefix = out.name.rsplit("-", 1)[0]  # NAME-KEY; keys are hex
    same_name = sorted(out.parent.glob(f"{prefix}-*/done.json"))
    # then any other name: data-efficiency's "vision@100%" is compare's "vision"
    others = [d for d in sorted(out.parent.glob("*/done.json")) if d not in same_name]
    for done in same_name + others:
        try:
            recorded = json.loads(done.read_text())["overrides"]
            prov = json.loads((done.parent / "provenance.json").read_text())
            if prov.get("data_hash") == data_hash and model_key(recorded, data_hash) == key:
                return done.parent
        except (OSError, KeyError, ValueError):
            continue  # an unreadable or foreign folder is not a match
    return None


def trained(
    cfg: ExperimentConfig,
    data: Data,
    name: str,
    overrides: tuple[str, ...] | list[str],
    progress: bool = True,
) -> Path:
    """A finished training run for ``overrides``: from the store, or trained now."""
    full = [
        f"train.epochs={cfg.epochs}",
        f"train.seed={cfg.seed}",
        *cfg.train,
        *overrides,
    ]
    key = model_key(full, data.hashes["internal"])
    out = Path(cfg.store) / f"{name.replace('/', '_')}-{key}"
    done = out / "done.json"
    if not done.exists() and (same := equivalent_stored(out, full, data.hashes["internal"])):
        log.info("%s: reusing %s (trained before newer settings existed)", name, same)
        return same
    # experiments running side by side share the store: one trains, the others wait and reuse
    with store_lock(out.with_name(f".{out.name}.lock")):
        remove_stale_temp_files(out.parent)  # e.g. a done.json a killed run was writing
        if done.exists() and json.loads(done.read_text())["key"] == key:
            log.info("%s: reusing %s", name, out)
            return out
        if out.exists() and not _resumable(out):
            shutil.rmtree(out)  # a different model, or other code: start clean
        # a run killed before done.json resumes from its last.pt (or starts at epoch 0)
        run = load_config(None, [f"data.dataset={data.internal}", f"out={out}", *full])
        notes = note_variants_for(data.internal)
        train(run, resume=True, note_variants=notes, progress=progress)
        write_json(done, {"key": key, "name": name, "overrides": full})
    return out


def _resumable(out: Path) -> bool:
    """Whether ``out`` is an unfinished run that this checkout started (resume is exact only
    with the same code)."""
    if (out / "done.json").exists():
        return False
    try:
        started = json.loads((out / "provenance.json").read_text())["commit"]
    except (OSError, KeyError, ValueError):
        return False
    return bool(started == git_commit() and (out / "last.pt").exists())


@contextlib.contextmanager
def store_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` across processes (``filelock``; waits for the holder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path):
        yield


def trained_all(
    cfg: ExperimentConfig, data: Data, models: dict[str, tuple[str, ...]]
) -> dict[str, Path]:
    """:func:`trained` for every model: one after another, or, with ``cfg.side_by_side``
    and two models, both at once on one thread each (the shorter in a child process, without
    a progress bar), the longer taking every core after ``side_by_side`` epochs
    (:mod:`oncoseg.train.threads`; the schedule is in each run's config and key)."""
    if cfg.side_by_side <= 0 or len(models) != 2:
        return {name: trained(cfg, data, name, ov) for name, ov in models.items()}
    longest, other = sorted(models, key=lambda n: -_epochs(cfg, models[n]))
    mine = (*models[longest], "train.threads=1", f"train.threads_epochs={cfg.side_by_side}")
    pool = multiprocessing.get_context("spawn").Pool(1)
    try:
        child = pool.apply_async(trained, (cfg, data, other, (*models[other], "train.threads=1")))
        runs = {longest: trained(cfg, data, longest, mine), other: child.get()}
        pool.close()
    except BaseException:
        pool.terminate()  # the parent failed or was interrupted: stop the child's training
        raise
    finally:
        pool.join()
    return {name: runs[name] for name in models}


def _epochs(cfg: ExperimentConfig, overrides: tuple[str, ...]) -> int:
    """The epochs a model trains for: its own ``train.epochs`` override, else the config's."""
    given = [o.split("=", 1)[1] for o in (*cfg.train, *overrides) if o.startswith("train.epochs=")]
    return int(given[-1]) if given else cfg.epochs
