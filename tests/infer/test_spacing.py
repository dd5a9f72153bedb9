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


def test_plan_resamples_only_inputs_far_from_the_training_spacings() -> None:
    from oncoseg.infer.plan import Plan

    plan = Plan(
        {"0": "CT"}, {"background": 0}, (5.0, 5.0, 5.0), (64, 64, 64), ((4.6,) * 3, (5.4,) * 3)
    )
    assert not plan.resample_needed((5.2, 4.8, 5.0))  # a phantom's few percent
    assert not plan.resample_needed((6.7, 5.0, 5.0))  # within 1.25x of the largest
    assert plan.resample_needed((0.8, 0.8, 5.0))  # a scanner's in-plane grid
    old = Plan({"0": "CT"}, {"background": 0}, (5.0, 5.0, 5.0), (64, 64, 64))  # no range stored
    assert old.resample_needed((3.0, 5.0, 5.0)) and not old.resample_needed((5.5, 5.0, 5.0))


def test_fine_grid_input_is_predicted_in_millimetres(tiny_run: Path, breast_dataset: Path) -> None:
    """The same CT at 4x the in-plane resolution: the model sees it at its training spacing
    (so the same anatomy at the same scale), and the mask comes back on the fine grid."""
    from oncoseg.io.image import Image

    predictor = Predictor.from_run(tiny_run)
    case = read_case(breast_dataset, list_cases(breast_dataset, "Ts")[0], "Ts")
    ct = case.images[0]
    arr = np.asarray(ct.array, dtype=np.float32)
    fine = torch.nn.functional.interpolate(
        torch.as_tensor(arr)[None, None], scale_factor=(4, 4, 1), mode="trilinear"
    )[0, 0].numpy()
    affine = ct.affine.copy()
    affine[:3, 0] /= 4
    affine[:3, 1] /= 4
    affine[:3, 3] += (affine[:3, 0] + affine[:3, 1]) * -1.5  # voxel centres of the fine grid
    seen: list[torch.Tensor] = []
    import oncoseg.infer.predictor as mod

    real = mod.segment_volume

    def spy(model, x, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(x.clone())
        return real(model, x, *a, **k)

    mod.segment_volume = spy  # type: ignore[assignment]
    try:
        native = predictor.predict(case.images)
        high = predictor.predict([Image(fine, affine)])
    finally:
        mod.segment_volume = real  # type: ignore[assignment]
    native_x, fine_x = seen
    # the model read the fine CT at its training grid: the same shape (to a voxel) and the
    # same intensities up to interpolation (normalised units)
    assert all(abs(a - b) <= 1 for a, b in zip(native_x.shape, fine_x.shape, strict=True))
    common = [slice(0, min(a, b)) for a, b in zip(native_x.shape, fine_x.shape, strict=True)]
    a, b = native_x[tuple(common)].flatten(), fine_x[tuple(common)].flatten()
    assert torch.corrcoef(torch.stack([a, b]))[0, 1].item() > 0.8  # 0.88 at 32³ with noise
    assert high.array.shape == fine.shape  # the mask on the input's own grid
    assert native.array.shape == arr.shape


def test_antialias_smooths_only_shrinking_axes() -> None:
    import torch

    from oncoseg.data.resample import resize

    # voxel noise along x shrunk 4x: plain trilinear sampling keeps most of its contrast
    # (aliasing: each new voxel reads two old ones); antialiased, it averages out
    x = torch.rand(1, 1, 8, 8, 256, generator=torch.Generator().manual_seed(0))
    plain = resize(x, (8, 8, 64))
    smooth = resize(x, (8, 8, 64), antialias=True)
    assert smooth.shape == plain.shape == (1, 1, 8, 8, 64)
    assert float(plain.std()) > 0.18
    assert float(smooth.std()) < 0.65 * float(plain.std())
    assert abs(float(smooth.mean()) - float(x.mean())) < 0.01
    # axes that keep or grow their size are not smoothed
    ramp = torch.linspace(0, 1, 8).reshape(1, 1, 8, 1, 1).expand(1, 1, 8, 8, 8).contiguous()
    assert torch.allclose(resize(ramp, (8, 16, 16), antialias=True), resize(ramp, (8, 16, 16)))


def test_antialiased_resize_equals_smoothing_then_trilinear() -> None:
    """The per-axis matrix path is the reference (whole-volume Gaussian, then
    ``F.interpolate``) to float rounding, for shrinking, kept and growing axes."""
    import torch

    from oncoseg.data.resample import resize

    g = torch.Generator().manual_seed(1)
    for shape, size in [
        ((96, 80, 40), (12, 20, 40)),
        ((33, 50, 17), (7, 9, 20)),
        ((9, 9, 9), (3, 27, 9)),
    ]:
        x = torch.rand(1, 2, *shape, generator=g)
        reference = _reference_antialias(x, size)
        out = resize(x, size, antialias=True)
        assert out.shape == reference.shape == (1, 2, *size)
        assert float((out - reference).abs().max()) < 1e-5


def _reference_antialias(x, size):  # type: ignore[no-untyped-def]
    """The whole-volume way: a separable Gaussian conv on every shrinking axis of the full
    volume, then ``F.interpolate`` (what ``resize(antialias=True)`` did before)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    channels = x.shape[1]
    for axis, (n_in, n_out) in enumerate(zip(x.shape[2:], size, strict=True)):
        sigma = (n_in / n_out - 1.0) / 2.0
        if sigma <= 0.0:
            continue
        radius = int(np.ceil(3.0 * sigma))
        t = torch.arange(-radius, radius + 1, dtype=x.dtype)
        kernel = torch.exp(-0.5 * (t / sigma) ** 2)
        shape = [1, 1, 1]
        shape[axis] = kernel.numel()
        weight = (kernel / kernel.sum()).reshape(1, 1, *shape).repeat(channels, 1, 1, 1, 1)
        pad = [0] * 6  # F.pad order: last axis first
        pad[2 * (2 - axis)] = pad[2 * (2 - axis) + 1] = radius
        x = F.conv3d(F.pad(x, pad, mode="replicate"), weight, groups=channels)
    return F.interpolate(x, size=tuple(size), mode="trilinear", align_corners=False)
