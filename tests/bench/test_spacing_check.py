"""``oncoseg bench spacing``: the test CTs on a finer in-plane grid, Dice and counterfactual
shares on both grids."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from oncoseg.bench.spacing import inplane_grid, resample, slice_axis
from oncoseg.cli import app
from oncoseg.data.dataset import list_cases
from oncoseg.io.image import Image

SUMMARY = {
    "n",
    "native",
    "resampled",
    "dice_diff_mean",
    "dice_diff_max_abs",
    "dice_within_tolerance",
    "nodal_follows_changed",
    "side_follows_changed",
    "shares_unchanged",
}
GRID = {
    "dice_mean",
    "nodal_follows_note",
    "nodal_cover_n2_mean",
    "nodal_cover_n0_mean",
    "n_nodal",
    "side_follows_consistent",
    "n_image_consistent",
}


def _world(affine: np.ndarray, index: np.ndarray) -> np.ndarray:
    return affine[:3, :3] @ index + affine[:3, 3]


def test_resampling_keeps_the_extent_and_the_world_positions() -> None:
    """A ramp of the world x coordinate (RAS, x axis flipped as in the phantoms, one oblique
    axis) resampled to 40 x 40 in-plane: every voxel holds its own world x, the corners of
    the volume stay where they were and the slices are untouched."""
    a = np.eye(4)
    a[:3, :3] = np.array([[-4.0, 0.0, 0.0], [0.0, 3.0, 0.3], [0.0, 0.0, 5.0]])
    a[:3, 3] = [100.0, -50.0, 20.0]
    ijk = np.stack(np.meshgrid(*(np.arange(n) for n in (10, 8, 6)), indexing="ij"), -1)
    ramp = Image((ijk @ a[:3, :3].T + a[:3, 3])[..., 0].astype(np.float32), a)
    assert slice_axis(a) == 2
    shape, b = inplane_grid(ramp, 40)
    assert shape == (40, 40, 6)
    for corner in ([-0.5, -0.5, -0.5], [9.5, 7.5, 5.5]):
        scaled = (np.array(corner) + 0.5) * [40 / 10, 40 / 8, 1] - 0.5
        np.testing.assert_allclose(_world(b, scaled), _world(a, np.array(corner)), atol=1e-9)
    fine = resample(ramp, shape, b, nearest=False)
    assert fine.shape == shape and fine.array.dtype == np.float32
    inner = np.stack(
        np.meshgrid(*(np.arange(5, 35), np.arange(5, 35), np.arange(6)), indexing="ij"), -1
    )
    want = (inner @ b[:3, :3].T + b[:3, 3])[..., 0]
    np.testing.assert_allclose(fine.array[5:35, 5:35], want, atol=1e-3)
    labels = Image((ijk[..., 0] >= 5).astype(np.uint8), a)  # the right half of the i axis
    coarse = resample(labels, shape, b, nearest=True)
    assert coarse.array.dtype == np.uint8 and set(np.unique(coarse.array)) == {0, 1}
    assert (coarse.array[:20] == 0).all() and (coarse.array[20:] == 1).all()


def test_bench_spacing_scores_both_grids(
    tiny_run: Path, breast_dataset: Path, tmp_path: Path
) -> None:
    out = tmp_path / "spacing"
    args = ["bench", "spacing", "-m", str(tiny_run), "-d", str(breast_dataset), "-o", str(out)]
    res = CliRunner().invoke(app, [*args, "--inplane", "48"])
    assert res.exit_code == 0, res.output
    result = json.loads((out / "spacing.json").read_text())
    assert {"command", "commit", "device", "settings", "summary", "cases"} <= set(result)
    assert result["settings"]["inplane"] == 48 and result["settings"]["task"] == "breast_ctv"
    s = result["summary"]
    assert set(s) == SUMMARY and set(s["native"]) == GRID and set(s["resampled"]) == GRID
    assert s["n"] == len(result["cases"]) == len(list_cases(breast_dataset, "Ts")) == 2
    diffs = []
    for c in result["cases"]:
        nat, res_ = c["native"], c["resampled"]
        assert nat["shape"] == nat["mask_shape"] == [32, 32, 32]
        assert res_["shape"] == res_["mask_shape"] == [48, 48, 32]  # the mask on the fine grid
        for ax in (0, 1):
            assert abs(res_["spacing_mm"][ax] * 48 - nat["spacing_mm"][ax] * 32) < 0.01
        assert res_["spacing_mm"][2] == nat["spacing_mm"][2]
        for grid in (nat, res_):
            assert 0.0 <= grid["dice"] <= 1.0
            assert 0.0 <= grid["nodal_cover_n0"] <= 1.0
            # a vision-only model draws the same contour for N0 and N2: it cannot follow
            assert grid["nodal_cover_n0"] == grid["nodal_cover_n2"] and not grid["nodal_follows"]
        assert c["dice_diff"] == res_["dice"] - nat["dice"]
        diffs.append(c["dice_diff"])
    assert s["dice_diff_mean"] == np.mean(diffs)
    assert s["dice_within_tolerance"] == (abs(np.mean(diffs)) <= 0.02)
    assert s["native"]["nodal_follows_note"] == 0.0 == s["resampled"]["nodal_follows_note"]
    md = (out / "spacing.md").read_text()
    assert "48 x 48" in md and "Commit: `" in md and "Command: `oncoseg" in md
    assert all(c["case"] in md for c in result["cases"])


def test_bench_spacing_refuses_an_unknown_case(
    tiny_run: Path, breast_dataset: Path, tmp_path: Path
) -> None:
    args = ["bench", "spacing", "-m", str(tiny_run), "-d", str(breast_dataset)]
    res = CliRunner().invoke(app, [*args, "-o", str(tmp_path), "--cases", "nope_0001"])
    assert res.exit_code == 2
    assert "nope_0001" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "spacing.json").exists()
