"""The restructure of issue #30 changed where code lives, not what it computes.

A fixed small run — a vision-only and a note-guided (tiny random Llama) model trained for a
few steps, ``oncoseg predict`` on a test case, and the per-case metrics of
:func:`oncoseg.eval.evaluate.evaluate_split` — gives losses, a hash of the weights, a hash of
each predicted mask and the metric rows. They were recorded at a151dad (before the move) on
the machine named in ``RECORDED`` and must come out bit-identical after it.

Float kernels differ between CPUs (DESIGN §8), so the record applies to the CPU it was made
on; elsewhere the test skips. ``ONCOSEG_IDENTITY_OUT=file.json`` writes what this run
measured, to record a new machine or to compare two checkouts by hand (a baseline worktree
run with ``PYTHONPATH=<worktree>/src``). A later change that alters training or prediction on
purpose records its new numbers here, with the reason in its commit message.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow

BASE = [
    "model.preset=tiny",
    "data.patch_size=[32,32,32]",
    "train.batch_size=2",
    "train.lr=3e-3",
    "train.warmup_steps=2",
    "train.epochs=2",
    "train.seed=0",
]
NOTE = "N2, total mastectomy, left side"

# CPU (model name, torch ISA, threads) -> what a151dad measured on it
RECORDED: dict[str, dict[str, Any]] = {
    "AMD EPYC | AVX2 | 2 threads": {
        "vision": {
            "loss": [1.2584689458211262, 1.1899369557698567],
            "val_dice": [0.0058359079994261265, 0.010800996795296669],
            "weights": "d29a8da0e86a0096",
            "mask": "fef06fa8e5e4caf6",
            "metrics": [
                ["bctv_int_0008", "ctv", "0.005865102639296188", "266.2110900878906"],
                ["bctv_int_0009", "ctv", "0.001443001443001443", "338.1561279296875"],
            ],
        },
        "guided": {
            "loss": [1.637334664662679, 1.569279432296753],
            "val_dice": [0.020955201238393784, 0.020239131525158882],
            "weights": "8e8df110355772d1",
            "mask": "e0ca22ac0b3de4f5",
        },
    },
}


def _machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    names = [
        line.partition(":")[2].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]
    isa = torch.backends.cpu.get_cpu_capability()
    return f"{names[0] if names else 'unknown CPU'} | {isa} | {torch.get_num_threads()} threads"


def _weights_hash(run: Path) -> str:
    state = torch.load(run / "last.pt", map_location="cpu", weights_only=True)["model"]
    h = hashlib.sha256()
    for key in sorted(state):
        h.update(key.encode())
        h.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _mask_hash(path: Path) -> str:
    from oncoseg.io.image import load_image

    img = load_image(path)
    h = hashlib.sha256(np.ascontiguousarray(img.array).tobytes())
    h.update(np.asarray(img.affine, np.float64).tobytes())
    return h.hexdigest()[:16]


def _train(dataset: Path, out: Path, *extra: str) -> dict[str, Any]:
    from oncoseg.infer.config import load_config
    from oncoseg.train.trainer import train

    train(load_config(None, [f"data.dataset={dataset}", f"out={out}", *BASE, *extra]))
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return {
        "loss": [r["loss"] for r in lines],
        "val_dice": [r["val_dice"] for r in lines],
        "weights": _weights_hash(out),
    }


def _predict_cli(run: Path, image: Path, note: Path | None, out: Path) -> str:
    from typer.testing import CliRunner

    from oncoseg.cli import app

    args = ["predict", "-m", str(run), "-i", str(image), "-o", str(out)]
    args += ["-n", str(note)] if note is not None else []
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    (mask,) = out.glob("*.nii.gz")
    return _mask_hash(mask)


def _metric_rows(run: Path, dataset: Path) -> list[list[Any]]:
    from oncoseg.eval.evaluate import evaluate_split
    from oncoseg.infer import Predictor

    rows = evaluate_split(Predictor.from_run(run), dataset, "Ts")
    return [[r["case"], r["class"], repr(r["dice"]), repr(r["hd95"])] for r in rows]


def _measure(dataset: Path, lm: Path, tmp: Path) -> dict[str, Any]:
    image = sorted((dataset / "imagesTs").glob("*_0000.nii.gz"))[0]
    note = tmp / "note.txt"
    note.write_text(NOTE, encoding="utf-8")
    vision = _train(dataset, tmp / "vision", "model.fusion=none")
    vision["mask"] = _predict_cli(tmp / "vision", image, None, tmp / "pv")
    vision["metrics"] = _metric_rows(tmp / "vision", dataset)
    # fusion_grid pinned: a151dad's default, which later became 8 for new two_way runs
    guided = _train(
        dataset, tmp / "guided", "model.fusion=two_way", "model.fusion_grid=0", f"text.model={lm}"
    )
    guided["mask"] = _predict_cli(tmp / "guided", image, note, tmp / "pg")
    return {"machine": _machine(), "vision": vision, "guided": guided}


def test_same_numbers_as_before_the_restructure(
    breast_dataset: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    measured = _measure(breast_dataset, tiny_lm_dir, tmp_path)
    if target := os.environ.get("ONCOSEG_IDENTITY_OUT"):
        Path(target).write_text(json.dumps(measured, indent=1), encoding="utf-8")
    assert len(measured["vision"]["loss"]) == 2 and np.isfinite(measured["guided"]["loss"]).all()
    machine = measured.pop("machine")
    if machine not in RECORDED:
        pytest.skip(f"no record for this CPU ({machine}): float kernels differ between CPUs")
    assert measured == RECORDED[machine]
