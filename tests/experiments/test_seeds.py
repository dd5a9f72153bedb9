"""Spreads over training seeds: per-seed values, min and max, the data seed untouched."""

from __future__ import annotations

import json
from pathlib import Path

from oncoseg.experiments.config import ExperimentConfig
from oncoseg.experiments.seeds import (
    choose_threshold,
    seed_config,
    seed_rows,
    write_seed_summary,
)


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


def _sweep(**nodal: float) -> dict:  # type: ignore[type-arg]
    """A validation sweep: threshold -> nodal share (side always followed)."""
    return {
        "counterfactual_validation": {
            "multimodal": {
                "shares": {},
                "sweep": {
                    t.replace("t", "0."): {
                        "nodal_follows_note": v,
                        "side_follows_consistent": 1.0,
                        "dice": 0.8,
                    }
                    for t, v in nodal.items()
                },
            }
        }
    }


def test_threshold_rule_reads_validation_sweeps_only(tmp_path: Path) -> None:
    docs = {
        0: _sweep(t5=1.0, t45=1.0, t4=1.0, t3=1.0),
        1: _sweep(t5=0.75, t45=0.83, t4=0.92, t3=1.0),
    }
    # the largest threshold where both seeds reach 90%: 0.4 (0.45 leaves seed 1 at 83%)
    c = choose_threshold(docs, "multimodal")
    assert c is not None and c["threshold"] == 0.4 and c["worst_seed_follows"] == 0.92
    # no threshold reaches 90%: the best worst seed, ties to the larger threshold
    low = {0: _sweep(t5=0.5, t4=0.8, t3=0.8), 1: _sweep(t5=0.9, t4=0.85, t3=0.8)}
    c = choose_threshold(low, "multimodal")
    assert c is not None and (c["threshold"], c["worst_seed_follows"]) == (0.4, 0.8)
    # a seed without a sweep (older runs), or a model that never follows: no choice
    assert choose_threshold({0: _sweep(t5=1.0), 1: {}}, "multimodal") is None
    assert choose_threshold({0: _sweep(t5=0.0, t4=0.0)}, "multimodal") is None
    # a cohort without image-consistent validation cases: the side share is None, not 0
    no_side = _sweep(t5=0.95)
    no_side["counterfactual_validation"]["multimodal"]["sweep"]["0.5"][
        "side_follows_consistent"
    ] = None
    c = choose_threshold({0: no_side}, "multimodal")
    assert c is not None and c["worst_seed_follows"] == 0.95
    rows = {r["quantity"] for r in seed_rows({0: no_side})}
    assert "multimodal, validation at threshold 0.5: nodal regions follow N0/N2" in rows
    assert not any("side follows" in q for q in rows)
    runs = {}
    for seed, d in docs.items():
        p = tmp_path / f"seed{seed}" / "results.json"
        p.parent.mkdir()
        p.write_text(json.dumps({**_doc(0.8, 0.9), **d}))
        runs[seed] = p
    text = write_seed_summary(runs, tmp_path).read_text()
    assert "Foreground threshold for multimodal by the validation rule" in text
    assert "**0.4** (worst seed follows 92%)" in text
    saved = json.loads((tmp_path / "seeds.json").read_text())["threshold_choice"]
    assert saved["multimodal"]["threshold"] == 0.4


def _targets(dice63: float, diff63: float) -> dict:  # type: ignore[type-arg]
    """An OpenKBP ``by_prescription`` block: PTV63 Dice where prescribed, its paired
    difference to vision-only, and the share of patients without it where none is drawn."""
    target = {
        "prescribed": {"n": 38, "dice": {"mean": dice63}},
        "not_prescribed": {"n": 45, "drawn_under_1cc": 1.0},
    }
    return {
        "by_prescription": {
            "models": {
                "multimodal": {"targets": {"PTV63": target}, "mean_prescribed_dice": {"mean": 0.45}}
            },
            "paired_vs_vision": {
                "multimodal": {
                    "mean_prescribed_dice": {"mean_diff": 0.017},
                    "PTV63": {"mean_diff": diff63},
                }
            },
        }
    }


def test_openkbp_targets_are_spread_over_seeds(tmp_path: Path) -> None:
    runs = {}
    for seed, (d, diff) in enumerate([(0.062, 0.062), (0.1, 0.09)]):
        p = tmp_path / f"seed{seed}" / "results.json"
        p.parent.mkdir()
        p.write_text(json.dumps({**_doc(0.5, 1.0), **_targets(d, diff)}))
        runs[seed] = p
    text = write_seed_summary(runs, tmp_path).read_text()
    assert "| multimodal PTV63 Dice where prescribed | 0.062 | 0.100 | 0.062–0.100 |" in text
    assert "| multimodal − vision, PTV63 Dice where prescribed | 0.062 | 0.090 |" in text
    assert "| multimodal − vision, mean Dice over prescribed targets | 0.017 | 0.017 |" in text
    assert (
        "| multimodal: PTV63 under 1 cm³ where not prescribed | 100% | 100% | 100%–100% |" in text
    )
