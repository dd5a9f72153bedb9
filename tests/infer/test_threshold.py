"""``infer.threshold``: how probabilities become labels, set per run or at prediction time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oncoseg.cli.app import app
from oncoseg.infer import Predictor, to_labels
from oncoseg.infer.config import ConfigError, load_config
from oncoseg.io.image import load_image


def test_to_labels_argmax_and_threshold() -> None:
    # 3 classes over 4 voxels: background 0.6 / 0.45 / 0.2 / 0.34
    probs = np.array(
        [
            [0.60, 0.45, 0.20, 0.34],
            [0.30, 0.35, 0.50, 0.33],
            [0.10, 0.20, 0.30, 0.33],
        ],
        np.float32,
    )
    # argmax keeps voxels 1 and 3 background, though most of their probability is foreground
    assert to_labels(probs).tolist() == [0, 0, 1, 0]
    # foreground probability 1 - P(bg) = 0.4, 0.55, 0.8, 0.66: above 0.5 -> its best class
    assert to_labels(probs, 0.5).tolist() == [0, 1, 1, 1]
    assert to_labels(probs, 0.35).tolist() == [1, 1, 1, 1]
    assert to_labels(probs, 0.7).tolist() == [0, 0, 1, 0]
    assert to_labels(probs, 0.5).dtype == np.uint8
    # one foreground class: 0.5 is the argmax (no ties here)
    binary = np.stack([1 - probs[1], probs[1]])
    assert to_labels(binary, 0.5).tolist() == to_labels(binary).tolist()


@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.1"])
def test_threshold_outside_zero_one_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="infer.threshold"):
        load_config(None, [f"infer.threshold={value}"])
    assert load_config(None, ["infer.threshold=null"]).infer.threshold is None


def test_to_labels_is_numpy_argmax_with_ties() -> None:
    rng = np.random.default_rng(0)
    for k in (2, 3, 5):
        probs = rng.integers(0, 4, size=(k, 6, 7, 8)).astype(np.float32)  # many ties
        labels = to_labels(probs)
        assert labels.dtype == np.uint8 and labels.shape == (6, 7, 8)
        assert np.array_equal(labels, probs.argmax(axis=0))  # the first class wins a tie
        fg = to_labels(probs, 0.5)
        expected = (probs[1:].argmax(axis=0) + 1).astype(np.uint8)
        expected[1.0 - probs[0] <= 0.5] = 0
        assert np.array_equal(fg, expected)


def test_predictor_threshold_from_run_and_override(tiny_run: Path, case_image: Path) -> None:
    default = Predictor.from_run(tiny_run)
    assert default.threshold is None
    img = load_image(case_image)
    probs, _ = default.predict_proba([img])
    low = Predictor.from_run(tiny_run, infer=["infer.threshold=0.2"])
    assert low.threshold == 0.2
    mask_low = np.asarray(low.predict([img]).array)
    mask_default = np.asarray(default.predict([img]).array)
    np.testing.assert_array_equal(mask_default, probs.argmax(0))
    np.testing.assert_array_equal(mask_low, (probs[0] < 0.8).astype(np.uint8))
    # a lower threshold only adds voxels
    assert mask_low.sum() > mask_default.sum() and (mask_low >= mask_default).all()
    with pytest.raises(ValueError, match="only infer"):
        Predictor.from_run(tiny_run, infer=["train.epochs=3"])


def test_predict_cli_threshold(tiny_run: Path, case_image: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    sums = {}
    for t in ("0.2", "0.8"):
        res = runner.invoke(
            app,
            ["predict", "-m", str(tiny_run), "-i", str(case_image), "-o", str(tmp_path / t)]
            + ["--threshold", t],
        )
        assert res.exit_code == 0, res.output
        (out,) = (tmp_path / t).glob("*.nii.gz")
        sums[t] = int(np.asarray(load_image(out).array).sum())
    assert sums["0.2"] > sums["0.8"]
    res = runner.invoke(
        app,
        ["predict", "-m", str(tiny_run), "-i", str(case_image), "-o", str(tmp_path / "bad")]
        + ["--threshold", "1.5"],
    )
    assert res.exit_code == 2 and "infer.threshold" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "bad").exists()


def test_explicit_null_overrides_a_run_trained_with_a_threshold(
    tiny_run: Path, tmp_path: Path
) -> None:
    """An experiment evaluates a stored run with its own (complete) infer settings, even when
    the run's config.yaml was written with another threshold."""
    import shutil

    import yaml

    from oncoseg.experiments.config import ExperimentConfig
    from oncoseg.experiments.runner import infer_settings

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg["infer"] = {"threshold": 0.4}
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert Predictor.from_run(run).threshold == 0.4
    plain = infer_settings(ExperimentConfig(), ["model.fusion=none"])
    assert plain == ["infer.threshold=null", "infer.largest_component=null"]
    listed = infer_settings(ExperimentConfig(), ["infer.largest_component=[1, 3]"])
    assert listed[1] == "infer.largest_component=[1, 3]"
    assert load_config(None, listed).infer.largest_component == (1, 3)  # read back
    assert Predictor.from_run(run, infer=plain).threshold is None
    low = infer_settings(ExperimentConfig(), ["infer.threshold=0.3"])
    assert Predictor.from_run(run, infer=low).threshold == 0.3
