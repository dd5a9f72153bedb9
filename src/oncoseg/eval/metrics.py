"""Per-case segmentation metrics, spacing-aware.

Dice, IoU, HD95 (mm, MONAI's implementation), sensitivity, specificity, precision, F1 and
voxel accuracy for one foreground class. Empty masks are defined, never silently 0:

- both empty: Dice = IoU = 1, HD95 = 0, sensitivity and precision = 1;
- one empty: Dice = IoU = 0, HD95 = NaN (no surface to measure) and ``hd95_undefined``
  is True so cohorts count these cases separately.

Example:
    >>> import numpy as np
    >>> a = np.zeros((4, 4, 4), bool); a[1:3, 1:3, 1:3] = True
    >>> round(case_metrics(a, a, (1.0, 1.0, 1.0))["dice"], 3)
    1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from monai.metrics import compute_hausdorff_distance

METRICS = ("dice", "iou", "hd95", "sensitivity", "specificity", "precision", "f1", "accuracy")


def hd95(pred: np.ndarray, gt: np.ndarray, spacing: Sequence[float]) -> float:
    """95th-percentile symmetric Hausdorff distance in mm; NaN if a mask is empty."""
    if not pred.any() or not gt.any():
        return 0.0 if not pred.any() and not gt.any() else float("nan")
    p = torch.as_tensor(pred[None, None].astype(np.float32))
    g = torch.as_tensor(gt[None, None].astype(np.float32))
    d = compute_hausdorff_distance(p, g, percentile=95, spacing=list(spacing))
    return float(d.item())


def dice(pred: np.ndarray, gt: np.ndarray) -> float:
    """Dice of two binary masks of the same shape (both empty: 1)."""
    p, g = pred.astype(bool), gt.astype(bool)
    tp = float((p & g).sum())
    return _dice(tp, float((p & ~g).sum()), float((~p & g).sum()))


def _dice(tp: float, fp: float, fn: float) -> float:
    return 1.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def case_metrics(pred: np.ndarray, gt: np.ndarray, spacing: Sequence[float]) -> dict[str, float]:
    """All metrics for binary masks ``pred`` and ``gt`` of the same shape."""
    if pred.shape != gt.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from ground truth {gt.shape}")
    p, g = pred.astype(bool), gt.astype(bool)
    tp = float((p & g).sum())
    fp = float((p & ~g).sum())
    fn = float((~p & g).sum())
    tn = float((~p & ~g).sum())
    both_empty = tp + fp + fn == 0
    dice = _dice(tp, fp, fn)
    out = {
        "dice": dice,
        "iou": 1.0 if both_empty else tp / (tp + fp + fn),
        "hd95": hd95(p, g, spacing),
        "sensitivity": 1.0 if tp + fn == 0 else tp / (tp + fn),
        "specificity": 1.0 if tn + fp == 0 else tn / (tn + fp),
        "precision": 1.0 if tp + fp == 0 else tp / (tp + fp),
        "f1": dice,
        "accuracy": (tp + tn) / p.size,
    }
    out["hd95_undefined"] = float(np.isnan(out["hd95"]))
    voxel_ml = float(np.prod(spacing)) / 1000.0  # mm^3 -> ml
    out["volume_ml"], out["volume_true_ml"] = (tp + fp) * voxel_ml, (tp + fn) * voxel_ml
    out["volume_error_ml"] = out["volume_ml"] - out["volume_true_ml"]
    return out
