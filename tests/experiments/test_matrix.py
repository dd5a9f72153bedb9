"""Seeds x kernel settings: each setting in its own process and environment, one table."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from oncoseg.experiments.matrix import (
    KERNEL_SETTINGS,
    child_command,
    matrix_row,
    parse_settings,
    run_matrix,
    write_matrix,
)


def _doc(nodal: float, cover: float, setting: str) -> dict:
    cf = {
        "nodal_follows_note": nodal,
        "side_follows_consistent": 1.0,
        "surgery_follows_note": 0.9,
        "nodal_cover_n2_mean": cover,
        "nodal_cover_n0_mean": 0.02,
    }
    return {
        "counterfactual": {"multimodal": {**cf, "heldout_notes": {"cases_following_all": 0.9}}},
        "counterfactual_validation": {"multimodal": cf},
        "models": {"multimodal": {"internal": {"dice": {"mean": 0.88}}}},
        "kernels": {"setting": setting},
        "device": "cpu: test",
    }


def test_matrix_table_has_a_row_per_seed_and_setting(tmp_path: Path) -> None:
    for setting, nodal in (("default", 1.0), ("avx2", 0.85)):
        for seed in (0, 1):
            d = tmp_path / setting / f"seed{seed}"
            d.mkdir(parents=True)
            (d / "results.json").write_text(json.dumps(_doc(nodal, 0.8 - seed / 10, setting)))
    md = write_matrix(tmp_path, ["default", "avx2"]).read_text()
    rows = json.loads((tmp_path / "matrix.json").read_text())["rows"]
    assert [(r["setting"], r["seed"]) for r in rows] == [
        ("default", "0"),
        ("default", "1"),
        ("avx2", "0"),
        ("avx2", "1"),
    ]
    assert rows[3]["nodal test"] == 0.85 and rows[3]["N2 cover test"] == pytest.approx(0.7)
    assert "| avx2 | 1 | 85% | 85% | 100% | 100% | 90% | 90% | 0.700 | 0.020 |" in md
    assert "PyTorch and oneDNN limited to AVX2" in md


def test_matrix_row_without_counterfactual_is_empty_not_an_error() -> None:
    row = matrix_row({"models": {}})
    assert row["nodal test"] is None and row["held-out notes"] is None


def test_settings_are_checked_by_name() -> None:
    assert parse_settings("default, avx2,threads1") == ["default", "avx2", "threads1"]
    with pytest.raises(ValueError, match="--kernels: expected names"):
        parse_settings("default,avx512")


def test_child_command_keeps_models_apart_and_adds_overrides(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"vision": ["model.fusion=none", "train.precision=auto"]}))
    cmd = child_command("counterfactual", str(cfg), ["epochs=2"], "0,1", tmp_path, "fp32")
    sets = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--set"]
    assert sets[0] == "epochs=2" and sets[1] == f"store={tmp_path / 'fp32' / 'models'}"
    vision = yaml.safe_load(sets[2].split("=", 1)[1])
    assert vision == ["model.fusion=none", "train.precision=auto", "train.precision=fp32"]
    assert cmd[cmd.index("-o") + 1] == str(tmp_path / "fp32")
    assert KERNEL_SETTINGS["avx2"].env["ONEDNN_MAX_CPU_ISA"] == "AVX2"


@pytest.mark.slow
def test_tiny_matrix_runs_each_setting_in_its_environment(
    tmp_path: Path, tiny_lm_dir: Path
) -> None:
    """Two settings x one seed of a tiny counterfactual experiment: each child process saw its
    own kernel environment (recorded in results.json) and trained its own models."""
    cfg = tmp_path / "tiny.yaml"
    tiny = ["model.preset=tiny", "data.patch_size=[32,32,32]", "train.warmup_steps=2"]
    cfg.write_text(
        yaml.safe_dump(
            {
                "cases": 6,
                "test_cases": 2,
                "external_cases": 0,
                "size": 32,
                "epochs": 1,
                "train": [*tiny, "data.fold=0"],
                "multimodal": ["model.fusion=two_way", f"text.model={tiny_lm_dir}"],
                "data_dir": str(tmp_path / "data"),
            }
        )
    )
    os.environ.pop("ATEN_CPU_CAPABILITY", None)
    path = run_matrix("counterfactual", str(cfg), [], "0", ["default", "avx2"], tmp_path / "m")
    rows = json.loads((tmp_path / "m" / "matrix.json").read_text())["rows"]
    assert path.name == "matrix.md" and len(rows) == 2
    by = {r["setting"]: r["kernels"] for r in rows}
    assert by["avx2"]["env"]["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert by["avx2"]["torch_cpu_capability"] == "AVX2"
    assert (
        by["default"]["env"]["ONEDNN_MAX_CPU_ISA"] == "" and by["default"]["setting"] == "default"
    )
    assert (tmp_path / "m" / "avx2" / "models").is_dir() and (
        tmp_path / "m" / "default" / "models"
    ).is_dir()


def test_a_cell_can_leave_out_the_vision_only_baseline() -> None:
    from oncoseg.experiments.config import load_experiment_config, model_set

    cfg = load_experiment_config(None, [])
    assert list(model_set(cfg, "counterfactual")) == ["vision", "multimodal"]
    cfg = load_experiment_config(None, ["baseline=false"])
    assert list(model_set(cfg, "counterfactual")) == ["multimodal"]
    assert list(model_set(cfg, "compare")) == ["multimodal"]
