"""Prediction sees a case as training did: at its own spacing when the run set no
``data.spacing`` (the phantoms' default), resampled to the plan's spacing when it did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from oncoseg.data.dataset import list_cases, read_case
from oncoseg.data.loader import load_sample
from oncoseg.data.resample import resampled_shape
from oncoseg.infer import Predictor
from oncoseg.io.orientation import to_orientation
from oncoseg.models.sliding import segment_volume


def test_a_run_without_data_spacing_predicts_at_the_cases_own_spacing(
    tiny_run: Path, breast_dataset: Path
) -> None:
    predictor = Predictor.from_run(tiny_run)
    assert not predictor.cfg.data.spacing
    target = predictor.plan.target_spacing  # the training cases' median, for information
    for case_id in list_cases(breast_dataset, "Ts"):
        sample = load_sample(breast_dataset, case_id, "Ts")  # what training validation reads
        shape = sample.image.shape[1:]
        if resampled_shape(shape, sample.spacing, target) != shape:
            break  # resampling to the median would change this case's grid
    else:
        raise AssertionError("every test case already has the median spacing")
    case = read_case(breast_dataset, case_id, "Ts")
    probs, ref = predictor.predict_proba(case.images)
    with torch.no_grad():
        direct = segment_volume(
            predictor.model,
            torch.as_tensor(sample.image)[None],
            None,
            roi_size=predictor.plan.patch_size,
            sw_batch_size=max(2, predictor.cfg.train.sw_batch_size),
        )[0].numpy()
    mine, _ = to_orientation(probs, ref.affine)
    assert mine.shape == direct.shape
    np.testing.assert_allclose(mine, direct, atol=1e-5)
