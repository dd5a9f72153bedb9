"""``oncoseg bench model`` / ``bench peak``: one process's measurements, the report, the peak."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from oncoseg.bench.child import run_config
from oncoseg.bench.model import (
    CONFIGS,
    PARTS,
    VISION,
    BenchSettings,
    load_peak,
    measure,
    report,
    run_peak_benchmark,
    select_configs,
    synthetic_ct,
    write_bench,
)
from oncoseg.bench.peak import count_flops, measure_conv_peak, unet_step_flops
from oncoseg.cli import app
from oncoseg.io.image import save_image
from oncoseg.text.factory import TextConfig

ROW_KEYS = {"name", "fusion", "text", "default", "train_step_s", "predict_warm_s", "peak_rss_mb"}
PART_KEYS = {f"{p}_s" for p in PARTS}
PEAK = {"peak_gflops": 50.0, "device": "cpu: test"}


def _settings(lm: Path) -> BenchSettings:
    """Small enough for a test: tiny U-Net, 32³ batch 1, a 16³ CT, the tiny local LM."""
    return BenchSettings(
        preset="tiny", size=32, batch=1, repeats=2, predict_size=16, predict_repeats=1, lm=str(lm)
    )


def _check_steps(res: dict[str, Any], repeats: int) -> None:
    assert len(res["step"]) == repeats
    for i, step in enumerate(res["step"]):
        assert isinstance(step, float) and step > 0
        parts = [res[p][i] for p in PARTS]
        assert all(p >= 0 for p in parts)
        assert sum(parts) <= step + 1e-9  # the parts are inside the step


def test_configs_name_one_vision_row_and_the_default_text_mode() -> None:
    assert [c.text for c in CONFIGS].count("none") == 1
    defaults = [c for c in CONFIGS if c.default]
    assert len(defaults) == 1 and defaults[0].mode == TextConfig().mode
    assert [c.name for c in select_configs(["cached-queries"])] == [VISION, "cached-queries"]
    assert len(select_configs(None)) == len(CONFIGS)
    with pytest.raises(ValueError, match="unknown configuration"):
        select_configs(["bf16"])


def test_measure_vision_and_cached_queries(tiny_lm_dir: Path, tmp_path: Path) -> None:
    settings = _settings(tiny_lm_dir)
    image = tmp_path / "ct_0000.nii.gz"
    save_image(synthetic_ct(settings.predict_size), image)
    by_name = {c.name: c for c in CONFIGS}
    results = {}
    for name in (VISION, "cached-queries"):
        run = tmp_path / name
        res = measure(by_name[name], settings, run, image)
        json.dumps(res)  # what a subprocess hands back
        _check_steps(res, settings.repeats)
        assert len(res["predict_warm_s"]) == 1 and res["predict_warm_s"][0] > 0
        assert res["peak_rss_mb"] >= res["train_peak_rss_mb"] > 0
        assert {p.name for p in run.iterdir()} >= {"best.pt", "config.yaml", "plan.json"}
        results[name] = [res]
    vision, cached = results[VISION][0], results["cached-queries"][0]
    assert max(vision["lm"] + vision["adapter"] + vision["fusion"]) == 0.0
    assert min(cached["adapter"]) > 0 and min(cached["fusion"]) > 0
    assert cached["lm_calls_in_steps"] == 0  # the pool was read once before the steps
    assert len(cached["lm_new_note_s"]) == 3 and min(cached["lm_new_note_s"]) > 0
    configs = select_configs(["cached-queries"])
    meta = report(configs, results, settings=settings, peak=PEAK, unet_flops=1e9, rounds=1)
    write_bench(tmp_path / "out", meta)
    rows = json.loads((tmp_path / "out" / "bench.json").read_text())["rows"]
    assert [r["name"] for r in rows] == [VISION, "cached-queries"]
    assert not rows[1]["default"] and rows[1]["text"] == "cached-queries"
    assert rows[1]["lm_new_note_s"] > 0 and rows[0]["lm_new_note_s"] is None


def test_bf16_setting_reaches_the_run_config(tmp_path: Path) -> None:
    by_name = {c.name: c for c in CONFIGS}
    for bf16 in (False, True):
        for name in (VISION, "cached-frozen"):
            cfg = run_config(by_name[name], BenchSettings(bf16=bf16), tmp_path / name)
            assert cfg.train.bf16 is bf16  # what the Predictor's sliding window uses


def test_fusion_grid_reaches_the_note_guided_rows_only(tmp_path: Path) -> None:
    by_name = {c.name: c for c in CONFIGS}
    assert BenchSettings().fusion_grid == 8  # the demo's (model.fusion_grid=8)
    for grid in (0, 8):
        settings = BenchSettings(fusion_grid=grid)
        assert run_config(by_name["cached-frozen"], settings, tmp_path).model.fusion_grid == grid
        assert run_config(by_name[VISION], settings, tmp_path).model.fusion_grid == 0


def _fake(step: float) -> dict[str, Any]:
    parts = {p: [step / 10, step / 20] for p in PARTS}
    return {
        "step": [step, step * 0.6],
        **parts,
        "lm_calls_in_steps": 0,
        "lm_new_note_s": [0.2],
        "predict_warm_s": [step * 3, step * 4],
        "train_peak_rss_mb": 700.0,
        "peak_rss_mb": 900.0,
    }


def test_report_rows_and_table(tmp_path: Path) -> None:
    settings = BenchSettings()
    results = {c.name: [_fake(0.5 + i), _fake(0.4 + i)] for i, c in enumerate(CONFIGS)}
    results[VISION][0]["cli_cold_s"] = 9.0
    meta = report(CONFIGS, results, settings=settings, peak=PEAK, unet_flops=20e9, rounds=2)
    write_bench(tmp_path, meta)
    saved = json.loads((tmp_path / "bench.json").read_text())
    rows = saved["rows"]
    assert len(rows) == len(CONFIGS)
    for row in rows:
        assert set(row) >= ROW_KEYS | PART_KEYS
        assert sum(row[k] for k in PART_KEYS) <= row["train_step_s"]
        assert row["train_step_s"] <= row["train_step_median_s"]
        assert row["steps"] == 4 and row["rounds"] == 2 and row["peak_rss_mb"] == 900.0
    assert [r["text"] for r in rows].count("none") == 1
    assert [r["name"] for r in rows if r["default"]] == ["cached-frozen"]
    vision = rows[0]
    assert vision["train_step_s"] == pytest.approx(0.24) and vision["train_step_ratio"] == 1.0
    assert rows[1]["train_step_ratio"] == pytest.approx(1.4 * 0.6 / 0.24)
    assert vision["cli_cold_s"] == 9.0 and rows[1]["cli_cold_s"] is None
    assert saved["flops"]["achieved_gflops"] == pytest.approx(20 / 0.24)
    assert saved["flops"]["share_of_peak"] == pytest.approx(20 / 0.24 / 50)
    assert {"command", "commit", "created_utc", "settings"} <= set(saved)
    table = (tmp_path / "bench.md").read_text().splitlines()
    assert sum(line.startswith("| ") for line in table) == 1 + len(CONFIGS)
    assert any("cached-frozen (default)" in line for line in table)
    two_visions = {**results, "copy": results[VISION]}
    with pytest.raises(ValueError, match="exactly one vision-only row"):
        report(
            [*CONFIGS, CONFIGS[0]],
            two_visions,
            settings=settings,
            peak=PEAK,
            unet_flops=1,
            rounds=2,
        )


def test_conv_peak_and_flop_counts(tmp_path: Path) -> None:
    conv = torch.nn.Conv3d(2, 4, 3, padding=1)
    x = torch.randn(2, 2, 8, 8, 8)
    with torch.no_grad():
        assert count_flops(lambda: conv(x)) == 2 * 2 * 4 * 8**3 * 2 * 27  # 2 FLOPs per MAC
    peak = measure_conv_peak(shapes=((2, 4, 8), (4, 4, 8)), repeats=1)
    assert peak["peak_gflops"] == max(s["gflops"] for s in peak["shapes"]) > 0
    assert unet_step_flops(preset="tiny", size=32, batch=1) > 0
    (tmp_path / "bad.json").write_text('{"peak": 1}')
    with pytest.raises(ValueError, match="peak_gflops"):
        load_peak(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError, match="bench peak"):
        load_peak(tmp_path / "missing.json")


def test_peak_json_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import oncoseg.bench.model as bench

    small = lambda device, repeats: measure_conv_peak(device, shapes=((2, 2, 8),), repeats=1)  # noqa: E731
    monkeypatch.setattr(bench, "measure_conv_peak", small)
    meta = run_peak_benchmark(tmp_path)
    assert load_peak(tmp_path / "peak.json")["peak_gflops"] == meta["peak_gflops"] > 0


def test_cli_rejects_unknown_configuration(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app, ["bench", "model", "--configs", "vision-only,nope", "-o", str(tmp_path)]
    )
    assert res.exit_code == 2 and "unknown configuration" in res.output
