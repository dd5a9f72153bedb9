"""Largest-component post-processing: the operation, the run's choice on validation, and its
use by every prediction of the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from oncoseg.data.dataset import read_case
from oncoseg.infer import Predictor
from oncoseg.infer.postprocess import CHOICE_FILE, ChoiceError, keep_largest, read_choice


def test_keep_largest_removes_the_smaller_parts_of_the_named_classes_only() -> None:
    labels = np.zeros((12, 12, 12), dtype=np.uint8)
    labels[1:5, 1:5, 1:5] = 1  # 64 voxels
    labels[8:10, 8:10, 8:10] = 1  # 8 voxels, apart
    labels[5, 5, 5] = 1  # touches the big part only by a corner: 26-connected, kept
    labels[0:2, 10:12, 0:2] = 2  # class 2: two parts, not named
    labels[10:12, 0:2, 10:12] = 2
    out = keep_largest(labels, [1])
    assert (out == 1).sum() == 65 and out[8, 8, 8] == 0 and out[5, 5, 5] == 1
    assert (out == 2).sum() == (labels == 2).sum()
    assert (keep_largest(labels, [1, 2]) == 2).sum() == 8
    assert np.array_equal(keep_largest(labels, [3]), labels)  # absent class: unchanged
    assert labels[8, 8, 8] == 1  # the input is not modified


def test_read_choice_names_the_file_on_bad_content(tmp_path: Path) -> None:
    assert read_choice(tmp_path) is None
    (tmp_path / CHOICE_FILE).write_text('{"largest_component": [1, 3]}')
    assert read_choice(tmp_path) == (1, 3)
    for bad in ('{"largest_component": [0]}', '{"other": 1}', "not json"):
        (tmp_path / CHOICE_FILE).write_text(bad)
        with pytest.raises(ChoiceError, match=CHOICE_FILE):
            read_choice(tmp_path)


def test_choice_on_validation_is_stored_and_applied(
    tiny_run: Path, breast_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oncoseg.eval.postprocess import choose, validation_cases

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    val = validation_cases(run)
    assert val and set(val).isdisjoint(
        json.loads((run / "provenance.json").read_text())["train_cases"]
    )
    doc = choose(run, breast_dataset)
    assert doc["cases"] == val and json.loads((run / CHOICE_FILE).read_text()) == doc
    labels = json.loads((run / "plan.json").read_text())["labels"]
    assert {r["value"] for r in doc["classes"].values()} == set(labels.values()) - {0}
    for row in doc["classes"].values():
        assert 0.0 <= row["dice"] <= 1.0 and 0.0 <= row["dice_largest_component"] <= 1.0
    # every prediction of the run applies the stored choice; an override wins
    (run / CHOICE_FILE).write_text('{"largest_component": [1]}')
    plain = Predictor.from_run(run, infer=["infer.largest_component=[]"])
    post = Predictor.from_run(run)
    assert post.cfg.infer.largest_component == (1,) and plain.cfg.infer.largest_component == ()
    two_parts = np.zeros((1, 8, 8, 8), dtype=np.float32)  # class-1 probability map
    two_parts[0, 1:4, 1:4, 1:4] = two_parts[0, 6:8, 6:8, 6:8] = 1.0
    probs = np.concatenate([1.0 - two_parts, two_parts])
    case = read_case(breast_dataset, val[0])
    monkeypatch.setattr(
        Predictor, "_oriented_proba", lambda self, *a: (probs, None, case.images[0])
    )
    monkeypatch.setattr("oncoseg.infer.predictor.from_orientation", lambda arr, t: arr)
    assert (np.asarray(plain.predict(case.images).array) == 1).sum() == 27 + 8
    assert (np.asarray(post.predict(case.images).array) == 1).sum() == 27
    with pytest.raises(ValueError, match="largest_component"):
        Predictor.from_run(run, infer=["infer.largest_component=[7]"])


def test_choose_keeps_the_step_only_where_validation_dice_rises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Class a: the truth is one blob, the prediction adds a stray part (the step helps);
    class b: the truth has two parts, both predicted (the step would drop one)."""
    from types import SimpleNamespace

    from oncoseg.eval import postprocess as pp

    truth = np.zeros((10, 10, 10), dtype=np.uint8)
    truth[0:3, 0:3, 0:3] = 1
    truth[5:7, 5:7, 5:7] = 2
    truth[8:10, 0:2, 0:2] = 2
    pred = truth.copy()
    pred[8:10, 8:10, 8:10] = 1  # a stray part of class a
    img = SimpleNamespace(array=pred)
    fake = SimpleNamespace(
        plan=SimpleNamespace(labels={"background": 0, "a": 1, "b": 2}),
        cfg=SimpleNamespace(data=SimpleNamespace(dataset="somewhere")),
    )
    monkeypatch.setattr(pp.Predictor, "from_run", lambda *a, **k: fake)
    monkeypatch.setattr(pp, "run_prediction", lambda *a, **k: SimpleNamespace(mask=img))
    case = SimpleNamespace(images=[img], note="", label=SimpleNamespace(array=truth))
    monkeypatch.setattr(pp, "read_case", lambda *a: case)
    doc = pp.choose(tmp_path, cases=["c1", "c2"])
    a, b = doc["classes"]["a"], doc["classes"]["b"]
    assert a["dice"] == pytest.approx(2 * 27 / (27 + 35)) and a["dice_largest_component"] == 1.0
    assert b["dice"] == 1.0 and b["dice_largest_component"] == pytest.approx(2 * 8 / (8 + 16))
    assert doc["largest_component"] == [1] and read_choice(tmp_path) == (1,)
