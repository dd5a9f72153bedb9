from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oncoseg.eval.figures import axial, coronal, render_case_png, render_png, to_ras
from oncoseg.io.image import Image

LPS = np.diag([-2.0, -2.0, 3.0, 1.0])  # voxel order as DICOM converters write CT
RAS = np.diag([2.0, 2.0, 3.0, 1.0])


@pytest.mark.parametrize("affine", [LPS, RAS])
def test_radiological_display_whatever_the_voxel_order(affine: np.ndarray) -> None:
    shape = (20, 20, 10)
    idx = np.indices(shape).reshape(3, -1).T
    world = idx @ affine[:3, :3].T + affine[:3, 3]
    world -= world.mean(axis=0)
    mask = np.zeros(shape, np.uint8)
    # a blob on the patient's left (world x < 0), anterior (y > 0), superior (z > 0)
    sel = (world[:, 0] < -8) & (world[:, 1] > 8) & (world[:, 2] > 4)
    mask[tuple(idx[sel].T)] = 1
    vol, spacing = to_ras(Image(mask, affine))
    assert spacing == (2.0, 2.0, 3.0)
    k = int(np.argwhere(vol).mean(axis=0)[2])
    ax = axial(vol, k)
    rows, cols = np.nonzero(ax)
    assert cols.mean() > ax.shape[1] / 2  # patient's left on the viewer's right
    assert rows.mean() < ax.shape[0] / 2  # anterior at the top
    cor = coronal(vol, int(np.argwhere(vol).mean(axis=0)[1]))
    rows, cols = np.nonzero(cor)
    assert cols.mean() > cor.shape[1] / 2 and rows.mean() < cor.shape[0] / 2  # superior on top


def test_render_png_writes_an_image(tmp_path: Path) -> None:
    img = Image(np.random.default_rng(0).normal(0, 50, (24, 24, 24)).astype(np.float32), LPS)
    lab = np.zeros((24, 24, 24), np.uint8)
    lab[5:10, 5:12, 8:14] = 1
    out = render_png(img, [Image(lab, LPS)], "N2, total mastectomy, left side", tmp_path / "x.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_render_case_png_for_both_cohorts(
    breast_dataset: Path, brain_dataset: Path, tmp_path: Path
) -> None:
    a = render_case_png(breast_dataset, "bctv_int_0000", tmp_path / "b.png")
    b = render_case_png(brain_dataset, "brain_int_0000", tmp_path / "m.png")
    assert a.stat().st_size > 10_000 and b.stat().st_size > 10_000
