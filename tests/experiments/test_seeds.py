"""Spreads over training seeds: per-seed values, min and max, the data seed untouched."""

from __future__ import annotations

import json
from pathlib import Path

from oncoseg.experiments.config import ExperimentConfig
from oncoseg.experiments.seeds import seed_config, seed_rows, write_seed_summary


def _doc(dice: float, nodal: float) -> dict:  # type: ignore[type-arg]
    return {
        "experiment": "counterfactual",
        "commit": "abc",
        "device": "cpu",
        "models": {"multimodal": {"internal": {"dice": {"mean": dice}}}},
        "counterfactual": {"multimodal": {"shares": {"nodal (n=20)": nodal}}},
        "counterfactual_validation": {"multimodal": {"shares": {"nodal (n=12)": 1.0}}},
    }


def test_seed_config_changes_only_the_training_seed() -> None:
    cfg = ExperimentConfig(train=("train.lr=3e-3", "train.seed=7"))
    new = seed_config(cfg, 2)
    assert new.train == ("train.lr=3e-3", "train.seed=2") and new.seed == cfg.seed
    assert cfg.train == ("train.lr=3e-3", "train.seed=7")  # the caller's config unchanged


def test_rows_and_files(tmp_path: Path) -> None:
    runs = {}
    for seed, (dice, nodal) in enumerate([(0.8, 0.9), (0.85, 1.0), (0.7, 0.95)]):
        p = tmp_path / f"seed{seed}" / "results.json"
        p.parent.mkdir()
        p.write_text(json.dumps(_doc(dice, nodal)))
        runs[seed] = p
    rows = {
        r["quantity"]: r for r in seed_rows({s: json.loads(p.read_text()) for s, p in runs.items()})
    }
    dice = rows["multimodal Dice, internal"]
    assert dice["seeds"] == {0: 0.8, 1: 0.85, 2: 0.7} and (dice["min"], dice["max"]) == (0.7, 0.85)
    nodal = rows["multimodal, test: nodal (n=20)"]
    assert (nodal["min"], nodal["max"]) == (0.9, 1.0)
    assert rows["multimodal, validation: nodal (n=12)"]["min"] == 1.0
    md = write_seed_summary(runs, tmp_path, "oncoseg experiment counterfactual --seeds 0,1,2")
    text = md.read_text()
    assert "| multimodal Dice, internal | 0.800 | 0.850 | 0.700 | 0.700–0.850 |" in text
    assert "| multimodal, test: nodal (n=20) | 90% | 100% | 95% | 90%–100% |" in text
    assert json.loads((tmp_path / "seeds.json").read_text())["rows"][0]["max"] == 0.85
