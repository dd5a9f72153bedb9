"""Resampling to a model's voxel spacing, shared by training and inference.

Images are resampled trilinearly. Label maps are resampled the way nnU-Net does it: each
class's one-hot mask is interpolated linearly and the argmax taken, so a structure a few
voxels thick survives a coarser grid better than with nearest neighbour.

Example:
    >>> resampled_shape((128, 128, 128), (3.9, 3.9, 2.5), (7.8, 7.8, 5.0))
    (64, 64, 64)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F


def resampled_shape(
    shape: Sequence[int], spacing: Sequence[float], target: Sequence[float]
) -> tuple[int, ...]:
    """Grid size that covers the same extent as ``shape`` x ``spacing`` at ``target`` mm."""
    if len(shape) != len(spacing) or len(shape) != len(target):
        raise ValueError(
            f"shape {tuple(shape)}, spacing {tuple(spacing)} and target spacing "
            f"{tuple(target)} need the same number of axes"
        )
    if any(t <= 0 for t in target):
        raise ValueError(f"target spacing must be positive, got {tuple(target)}")
    return tuple(
        max(1, int(round(n * s / t))) for n, s, t in zip(shape, spacing, target, strict=True)
    )


def resize(x: torch.Tensor, size: Sequence[int], antialias: bool = False) -> torch.Tensor:
    """(B, C, *spatial) float tensor resized trilinearly (no-op when already that size).

    ``antialias``: an axis shrunk by a factor f > 1 is first smoothed with a Gaussian of
    sigma (f - 1) / 2 voxels (scikit-image's ``resize`` rule), so detail finer than the new
    grid averages out instead of aliasing (a 512-pixel CT taken to a 64-voxel model grid).
    Smoothing and trilinear interpolation are both separable, so the axes are done one at a
    time, the most shrunk first: the same result as smoothing the whole volume and then
    interpolating it, at a fraction of the work (each later axis sees a smaller volume)."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    if not antialias:
        return F.interpolate(x, size=tuple(size), mode="trilinear", align_corners=False)
    factors = [n_in / n_out for n_in, n_out in zip(x.shape[2:], size, strict=True)]
    for axis in sorted(range(3), key=lambda a: -factors[a]):
        if x.shape[2 + axis] != size[axis]:
            x = _resample_axis(x, axis, int(size[axis]), (factors[axis] - 1.0) / 2.0)
    return x


def _resample_axis(x: torch.Tensor, axis: int, n_out: int, sigma: float) -> torch.Tensor:
    """``x`` smoothed along spatial ``axis`` (Gaussian of ``sigma`` voxels, edges replicated;
    none when ``sigma`` <= 0), then linearly interpolated to ``n_out`` points as
    ``F.interpolate(..., align_corners=False)`` does: one (n_out x n_in) matrix applied
    along the axis, so the smoothing is only computed where the new grid reads it."""
    n_in = x.shape[2 + axis]
    matrix = _linear_matrix(n_in, n_out) @ _gaussian_matrix(n_in, sigma)
    moved = torch.movedim(x, 2 + axis, -1)
    out = moved @ matrix.to(dtype=x.dtype).to(x.device).T
    return torch.movedim(out, -1, 2 + axis).contiguous()


def _linear_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """PyTorch's linear interpolation from n_in to n_out points (align_corners=False)."""
    src = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5).clamp(min=0)
    lo = src.floor().long().clamp(max=n_in - 1)
    hi = (lo + 1).clamp(max=n_in - 1)
    w = src - lo
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    rows = torch.arange(n_out)
    m.index_put_((rows, lo), 1.0 - w, accumulate=True)
    m.index_put_((rows, hi), w, accumulate=True)
    return m


def _gaussian_matrix(n: int, sigma: float) -> torch.Tensor:
    """(n x n) Gaussian smoothing of sigma voxels with replicated edges (radius 3 sigma)."""
    if sigma <= 0.0:
        return torch.eye(n, dtype=torch.float64)
    radius = int(np.ceil(3.0 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    rows = torch.arange(n).repeat_interleave(len(t))
    cols = (torch.arange(n)[:, None] + t.long()[None, :]).clamp(0, n - 1).reshape(-1)
    m = torch.zeros(n, n, dtype=torch.float64)
    m.index_put_((rows, cols), kernel.repeat(n), accumulate=True)
    return m


def resample_image(image: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """C x D x H x W float array resized trilinearly to ``size``."""
    return resize(torch.as_tensor(image, dtype=torch.float32)[None], size)[0].numpy()


def resample_label(label: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """Integer label map (any leading singleton axes kept) resized by one-hot interpolation."""
    lead = label.shape[: label.ndim - len(size)]
    spatial = label.reshape(label.shape[-len(size) :])
    if tuple(spatial.shape) == tuple(size):
        return label
    classes = np.unique(spatial)
    out = np.zeros(tuple(size), dtype=label.dtype)
    best = np.full(tuple(size), -1.0, dtype=np.float32)
    for c in classes:  # one class at a time keeps memory at two float volumes
        onehot = torch.as_tensor(spatial == c, dtype=torch.float32)[None, None]
        p = resize(onehot, size)[0, 0].numpy()
        win = p > best
        out[win], best[win] = c, p[win]
    return out.reshape(*lead, *size)
