from __future__ import annotations

import numpy as np
import pytest

from oncoseg.data.resample import resample_image, resample_label, resampled_shape


def test_resampled_shape_keeps_extent() -> None:
    assert resampled_shape((128, 128, 128), (3.906, 3.906, 2.5), (7.812, 7.812, 5.0)) == (
        64,
        64,
        64,
    )
    assert resampled_shape((10, 3, 1), (1.0, 1.0, 1.0), (3.0, 3.0, 3.0)) == (3, 1, 1)
    with pytest.raises(ValueError, match="same number of axes"):
        resampled_shape((4, 4, 4), (1.0, 1.0), (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="must be positive"):
        resampled_shape((4, 4, 4), (1.0, 1.0, 1.0), (1.0, 0.0, 1.0))


def test_resample_label_keeps_classes_and_volume() -> None:
    lab = np.zeros((1, 64, 64, 40), dtype=np.int64)
    lab[0, 10:30, 10:30, 10:30] = 1  # 20^3 cube
    lab[0, 40:44, 40:44, 20:24] = 3  # a small structure, 4 voxels across
    out = resample_label(lab, (32, 32, 20))
    assert out.shape == (1, 32, 32, 20) and out.dtype == np.int64
    assert set(np.unique(out)) == {0, 1, 3}
    assert (out == 1).sum() == 10**3  # the cube's volume at half resolution
    assert (out == 3).sum() == 2**3
    assert resample_label(lab, (64, 64, 40)) is lab  # same grid: untouched


def test_resample_image_is_trilinear() -> None:
    img = np.broadcast_to(np.arange(8, dtype=np.float32), (1, 4, 4, 8)).copy()
    out = resample_image(img, (2, 2, 4))
    assert out.shape == (1, 2, 2, 4)
    np.testing.assert_allclose(out[0, 0, 0], [0.5, 2.5, 4.5, 6.5])  # pairs averaged
