"""Intensity normalisation per channel, by modality.

CT: HU clipped to [-1000, 1000] and divided by 1000 (fixed, so scanner calibration drift
stays visible as it would in practice). Other modalities: z-score over non-zero voxels.

Example:
    >>> import numpy as np
    >>> normalize_channel(np.array([-2000.0, 0.0, 500.0]), "CT").tolist()
    [-1.0, 0.0, 0.5]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def normalize_channel(array: np.ndarray, modality: str) -> np.ndarray:
    a = np.asarray(array, dtype=np.float32)
    if modality.upper() == "CT":
        return np.clip(a, -1000.0, 1000.0) / 1000.0
    fg = a[a > 0] if (a > 0).any() else a
    return ((a - fg.mean()) / (fg.std() + 1e-6)).astype(np.float32)


def normalize_channels(arrays: Sequence[np.ndarray], modalities: Sequence[str]) -> np.ndarray:
    """Stack channels into (C, D, H, W) float32, each normalised for its modality."""
    if len(arrays) != len(modalities):
        raise ValueError(f"got {len(arrays)} channels but {len(modalities)} channel names")
    return np.stack([normalize_channel(a, m) for a, m in zip(arrays, modalities, strict=True)])
