"""Config versions: a new run gets today's defaults, a stored run rebuilds what it trained."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oncoseg.infer.config import (
    CONFIG_VERSION,
    FUSION_GRID,
    ConfigError,
    RunConfig,
    dump_config,
    load_config,
)


def _stored(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_new_two_way_run_attends_on_the_grid_other_fusions_on_every_voxel() -> None:
    assert FUSION_GRID == 8 and CONFIG_VERSION == 2
    assert load_config(None).model.fusion == "two_way"
    assert load_config(None).model.fusion_grid == 8
    assert load_config(None, ["model.fusion=gated"]).model.fusion_grid == 0  # refused there
    assert load_config(None, ["model.fusion=none"]).model.fusion_grid == 0
    assert load_config(None, ["model.fusion_grid=0"]).model.fusion_grid == 0  # asked for
    assert load_config(None, ["model.fusion_grid=4"]).model.fusion_grid == 4


def test_a_config_written_before_versions_loads_with_the_old_grid(tmp_path: Path) -> None:
    """A stored run from before ``version`` and ``fusion_grid`` existed: every voxel."""
    text = "model:\n  preset: small\n  fusion: two_way\ntext:\n  mode: no-tuning\n"
    old = _stored(tmp_path, text)
    cfg = load_config(old)
    assert cfg.model.fusion_grid == 0 and cfg.text.mode == "inlm-frozen"
    assert load_config(old, ["infer.threshold=0.4"]).model.fusion_grid == 0
    # an old file that did name its grid keeps it
    named = _stored(tmp_path, "model:\n  fusion: two_way\n  fusion_grid: 8\n")
    assert load_config(named).model.fusion_grid == 8


def test_a_written_config_rebuilds_itself(tmp_path: Path) -> None:
    cfg = load_config(None)
    text = dump_config(cfg)
    assert yaml.safe_load(text)["version"] == CONFIG_VERSION
    again = load_config(_stored(tmp_path, text))
    assert again == cfg and again.model.fusion_grid == 8
    full = RunConfig()  # a run that trained at every voxel writes 0, and gets 0 back
    assert full.model.fusion_grid == 0
    assert load_config(_stored(tmp_path, dump_config(full))).model.fusion_grid == 0
    # a version 2 file that leaves the grid out is a new run's config
    assert load_config(_stored(tmp_path, "version: 2\n")).model.fusion_grid == 8


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("version: 3\n", "version 3 was written by a newer oncoseg"),
        ("version: two\n", "version: expected a whole number"),
        ("version: 0\n", "version: expected a whole number"),
    ],
)
def test_bad_versions_are_refused_by_name(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_config(_stored(tmp_path, text))
