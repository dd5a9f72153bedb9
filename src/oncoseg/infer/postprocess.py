"""Keep only the largest connected part of a class, where validation says it helps.

nnU-Net's post-processing: for each foreground class, the predictions of the validation cases
are scored with and without removing every connected component but the largest; the classes
where that raises mean Dice keep the step. The choice is stored with the trained run
(``postprocess.json``, written by ``oncoseg postprocess RUN``) and applied by
``Predictor.predict`` unless ``infer.largest_component`` says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import ndimage

CHOICE_FILE = "postprocess.json"
_FULL = ndimage.generate_binary_structure(3, 3)  # 26-connected: touching by a corner counts


def keep_largest(labels: np.ndarray, classes: Iterable[int]) -> np.ndarray:
    """``labels`` with, for each of ``classes``, only its largest connected component (the
    others become background); a class absent from ``labels`` is left alone."""
    out = labels.copy()
    structure = _FULL if labels.ndim == 3 else None
    for c in classes:
        parts, n = ndimage.label(labels == c, structure=structure)
        if n < 2:
            continue
        sizes = np.bincount(parts.ravel())[1:]
        out[(parts > 0) & (parts != int(np.argmax(sizes)) + 1)] = 0
    return out


class ChoiceError(ValueError):
    """A run's postprocess.json is unreadable."""


def read_choice(run_dir: str | Path) -> tuple[int, ...] | None:
    """The classes a run keeps the largest component of (``postprocess.json``), or None when
    no choice was made for the run."""
    path = Path(run_dir) / CHOICE_FILE
    if not path.exists():
        return None
    try:
        classes = json.loads(path.read_text(encoding="utf-8"))["largest_component"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ChoiceError(f"{path}: expected {{'largest_component': [class, ...]}}") from exc
    ok = isinstance(classes, list) and all(
        isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in classes
    )
    if not ok:
        raise ChoiceError(f"{path}: largest_component must list foreground class values")
    return tuple(classes)
