"""Timing of the DICOM writers on a clinical-size mask (slow; figures in docs/performance.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from oncoseg.io.dicom_seg import write_dicom_seg
from oncoseg.io.dicom_series import read_dicom_series
from oncoseg.io.image import Image


def ctv_like_mask(shape: tuple[int, int, int]) -> np.ndarray:
    """A breast-CTV-sized target (label 1, with a hole on some slices) and a GTV (label 2)."""
    i, j, k = np.meshgrid(*(np.arange(n, dtype=np.float32) for n in shape), indexing="ij")
    mask = np.zeros(shape, np.uint8)
    ctv = ((i - 320) / 110) ** 2 + ((j - 220) / 80) ** 2 + ((k - 75) / 60) ** 2 <= 1
    mask[ctv] = 1
    mask[(((i - 300) / 20) ** 2 + ((j - 230) / 15) ** 2 <= 1) & (k > 60) & (k < 90)] = 0
    mask[((i - 340) / 25) ** 2 + ((j - 200) / 25) ** 2 + ((k - 75) / 8) ** 2 <= 1] = 2
    return mask


@pytest.mark.slow
def test_seg_and_rtstruct_for_a_512x512x150_ct(
    make_series: Callable[..., Path], tmp_path: Path
) -> None:
    from oncoseg.io.rtstruct import write_rtstruct

    folder = make_series(
        columns=512,
        rows=512,
        slices=150,
        row_spacing=0.98,
        col_spacing=0.98,
        step=2.0,
        rotation=tuple(map(tuple, np.eye(3))),
    )
    series = read_dicom_series(folder)
    mask = Image(ctv_like_mask(series.image.shape), series.image.affine)
    labels = {"CTV_Breast": 1, "GTV": 2}
    times = {}
    for name, write in (("seg", write_dicom_seg), ("rtstruct", write_rtstruct)):
        wall, cpu = time.perf_counter(), time.process_time()
        write(mask, series, tmp_path / f"{name}.dcm", labels)
        times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    print({k: f"wall {w:.2f} s, cpu {c:.2f} s" for k, (w, c) in times.items()})
    assert sum(c for _, c in times.values()) <= 10.0
