"""Two experiments at once share the cohort cache and the model store: what one makes,
the other waits for and reuses (counted: each cohort and model is made exactly once)."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from oncoseg.data.dataset import dataset_hash
from oncoseg.experiments import cohorts, store
from oncoseg.experiments.cohorts import Data
from oncoseg.experiments.config import ExperimentConfig
from oncoseg.tasks import breast_ctv

FORK = multiprocessing.get_context("fork")  # children inherit the patched counters


def _count(counter: Path) -> None:
    with counter.open("a") as fh:  # O_APPEND: one whole line per writer
        fh.write("made\n")


def _both_at_once(target: Any, args: tuple[Any, ...]) -> None:
    procs = [FORK.Process(target=target, args=(*args, k)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0]


def _ask_for_cohort(cfg: ExperimentConfig, answers: Path, k: int) -> None:
    out = cohorts.cached_cohort(cfg, breast_ctv.cohort_spec(), "internal", (2, 1), "f" * 16)
    (answers / f"{k}.txt").write_text(f"{out}\n{dataset_hash(out)}")


def test_two_experiments_asking_for_one_cohort_make_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter, answers = tmp_path / "made.log", tmp_path / "answers"
    answers.mkdir()
    write_cohort = cohorts.write_cohort

    def counted(*args: Any, **kwargs: Any) -> Path:
        _count(counter)
        time.sleep(1.0)  # the other process asks meanwhile
        return write_cohort(*args, **kwargs)

    monkeypatch.setattr(cohorts, "write_cohort", counted)
    cfg = ExperimentConfig(size=32, seed=2, data_dir=str(tmp_path / "data"))
    _both_at_once(_ask_for_cohort, (cfg, answers))
    assert counter.read_text().splitlines() == ["made"]
    first, second = ((answers / f"{k}.txt").read_text().split("\n") for k in range(2))
    assert first == second and len(first[1]) == 16
    assert not [p for p in (tmp_path / "data").iterdir() if ".partial-" in p.name]


def _ask_for_model(cfg: ExperimentConfig, data: Data, answers: Path, k: int) -> None:
    out = store.trained(cfg, data, "vision", ("model.fusion=none",))
    (answers / f"{k}.txt").write_text(str(out))


def test_two_experiments_asking_for_one_model_train_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter, answers = tmp_path / "trained.log", tmp_path / "answers"
    answers.mkdir()

    def stand_in_train(run: Any, **_: Any) -> Path:  # the store's logic, not training
        _count(counter)
        time.sleep(1.0)
        Path(run.out).mkdir(parents=True, exist_ok=True)
        (Path(run.out) / "provenance.json").write_text(json.dumps({"data_hash": "d1"}))
        return Path(run.out)

    monkeypatch.setattr(store, "train", stand_in_train)
    monkeypatch.setattr(store, "note_variants_for", lambda dataset: None)
    cfg = ExperimentConfig(epochs=1, store=str(tmp_path / "models"))
    data = Data({"internal": tmp_path / "ds"}, {"internal": "d1"}, "breast_ctv")
    _both_at_once(_ask_for_model, (cfg, data, answers))
    assert counter.read_text().splitlines() == ["made"]
    paths = {(answers / f"{k}.txt").read_text() for k in range(2)}
    assert len(paths) == 1 and (Path(paths.pop()) / "done.json").exists()
