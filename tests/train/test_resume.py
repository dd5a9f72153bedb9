"""Exact resume: a run interrupted (or SIGKILLed) after a checkpoint and resumed with
``--resume`` ends at the uninterrupted run's weights and validation Dice, bit for bit."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from oncoseg.infer.config import load_config
from oncoseg.train import trainer as trainer_module
from oncoseg.train.resume import trim_metrics
from oncoseg.train.trainer import train
from tests.killing import assert_nothing_corrupt, dot_leftovers, kill_oncoseg, run_oncoseg

# the setting (vision-only, lr 3e-3, seed 3), tiny: 32³, 6 training cases, 6 epochs
SETTINGS = [
    "model.preset=tiny",
    "model.fusion=none",
    "data.patch_size=[32,32,32]",
    "train.batch_size=2",
    "train.lr=3e-3",
    "train.warmup_steps=2",
    "train.epochs=6",
    "train.seed=3",
]


def _overrides(dataset: Path, out: Path) -> list[str]:
    return [f"data.dataset={dataset}", f"out={out}", *SETTINGS]


@pytest.fixture(scope="module")
def uninterrupted(breast_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("resume") / "uninterrupted"
    train(load_config(None, _overrides(breast_dataset, out)))
    return out


def _records(run: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]


def _max_weight_diff(a: Path, b: Path, name: str = "last.pt") -> float:
    wa = torch.load(a / name, weights_only=True)["model"]
    wb = torch.load(b / name, weights_only=True)["model"]
    assert wa.keys() == wb.keys()
    return max((wa[k].double() - wb[k].double()).abs().max().item() for k in wa)


def _assert_same_run(resumed: Path, reference: Path) -> None:
    """Same weights (last and best), same optimiser state, same metrics, bit for bit."""
    assert _max_weight_diff(resumed, reference) == 0.0
    assert _max_weight_diff(resumed, reference, "best.pt") == 0.0
    a = torch.load(resumed / "last.pt", weights_only=True)
    b = torch.load(reference / "last.pt", weights_only=True)
    assert (a["epoch"], a["step"]) == (b["epoch"], b["step"]) and a["epoch"] == 6
    for k, state in b["optimizer"]["state"].items():
        assert all(torch.equal(a["optimizer"]["state"][k][n], v) for n, v in state.items())
    got, want = _records(resumed), _records(reference)
    assert [r["epoch"] for r in got] == [1, 2, 3, 4, 5, 6]
    assert [r["val_dice"] for r in got] == [r["val_dice"] for r in want]
    assert [r["loss"] for r in got] == [r["loss"] for r in want]


class _Interrupted(BaseException):
    """Stands for a kill: nothing in the trainer catches it."""


def test_resume_after_an_interruption_replays_the_uninterrupted_run(
    breast_dataset: Path, uninterrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "cut"
    end_of_epoch = trainer_module.Trainer.end_of_epoch

    def stop_after_epoch_3(self: Any, record: dict[str, Any]) -> None:
        end_of_epoch(self, record)
        if self.state.epoch == 3:
            raise _Interrupted

    monkeypatch.setattr(trainer_module.Trainer, "end_of_epoch", stop_after_epoch_3)
    with pytest.raises(_Interrupted):
        train(load_config(None, _overrides(breast_dataset, out)))
    monkeypatch.undo()
    # what a kill between metrics.jsonl and last.pt would leave: a record the checkpoint
    # does not hold, and a line cut short
    with (out / "metrics.jsonl").open("a") as fh:
        fh.write(json.dumps({"epoch": 4, "loss": 9.0}) + '\n{"epoch": 5, "lo')
    train(load_config(None, _overrides(breast_dataset, out)), resume=True)
    _assert_same_run(out, uninterrupted)


def test_resume_without_a_checkpoint_starts_clean(breast_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "best.pt").write_bytes(b"an older run's model")  # must not survive a fresh start
    (out / "metrics.jsonl").write_text('{"epoch": 7, "loss": 1.0}\n')
    overrides = [*_overrides(breast_dataset, out), "train.epochs=1"]
    train(load_config(None, overrides), resume=True)
    assert [r["epoch"] for r in _records(out)] == [1]
    assert torch.load(out / "best.pt", weights_only=True)["epoch"] == 1


def test_trim_metrics_keeps_what_the_checkpoint_holds(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"epoch": 1}\n{"epoch": 2}\nnot json\n{"epoch": 3}\n{"epoch": "x"}\n{"ep')
    trim_metrics(path, 2)
    assert path.read_text() == '{"epoch": 1}\n{"epoch": 2}\n'


def _killed_mid_checkpoint(out: Path) -> Path:
    """The temporary file a process SIGKILLed while ``save_checkpoint`` writes
    ``out/last.pt`` leaves (half written, under io.atomic's temporary name)."""
    code = (
        "import os, signal, sys, torch\n"
        "from oncoseg.train.checkpoint import save_checkpoint\n"
        "def half(obj, path, *args, **kwargs):\n"
        "    open(path, 'wb').write(b'half a checkpoint')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "torch.save = half\n"
        "save_checkpoint(sys.argv[1], torch.nn.Linear(1, 1))\n"
    )
    before = set(dot_leftovers(out))
    done = subprocess.run([sys.executable, "-c", code, str(out / "last.pt")], check=False)
    assert done.returncode == -9
    (left,) = set(dot_leftovers(out)) - before
    assert left.name.startswith(".last.pt.tmp-") and left.read_bytes() == b"half a checkpoint"
    return left


def _kill_and_resume(dataset: Path, reference: Path, out: Path, delay: float) -> bool:
    """SIGKILL ``oncoseg train`` ``delay`` s after its epoch-3 record, resume, compare; the
    resumed run leaves no temporary file behind, also one of a kill inside a checkpoint
    write (planted, since the random kill rarely lands there)."""
    args = ["train", *(a for o in _overrides(dataset, out) for a in ("--set", o))]
    metrics = out / "metrics.jsonl"

    def after_epoch_3() -> bool:
        return metrics.exists() and len(metrics.read_text().splitlines()) >= 3

    killed = kill_oncoseg(args, delay, after_epoch_3)
    assert_nothing_corrupt(out)
    done = torch.load(out / "last.pt", weights_only=True)["epoch"]
    assert [r["epoch"] for r in _records(out)][:done] == list(range(1, done + 1))
    _killed_mid_checkpoint(out)
    run_oncoseg([*args, "--resume"])
    _assert_same_run(out, reference)
    assert dot_leftovers(out) == []
    return killed


def test_sigkill_during_training_then_resume_is_exact(
    breast_dataset: Path, uninterrupted: Path, tmp_path: Path
) -> None:
    delay = random.Random(0).uniform(0.0, 1.5)
    _kill_and_resume(breast_dataset, uninterrupted, tmp_path / "run", delay)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sigkill_during_training_at_other_points(
    breast_dataset: Path, uninterrupted: Path, tmp_path: Path, seed: int
) -> None:
    delay = random.Random(seed).uniform(0.0, 4.0)
    _kill_and_resume(breast_dataset, uninterrupted, tmp_path / "run", delay)
