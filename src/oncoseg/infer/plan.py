"""``plan.json``: what inference needs from a run besides its weights and config.

Channels (names in order), labels, the task, the spacing the model works at, the patch
size and the voxel orientation; written once per run by the trainer, read by
:class:`oncoseg.infer.Predictor`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oncoseg.data.dataset import DatasetInfo
from oncoseg.io.atomic import write_json
from oncoseg.io.orientation import MODEL_ORIENTATION

# a run trained without data.spacing read each case at its own spacing; an input whose spacing
# lies within this factor of the training cases' range is read the same way, one further out
# (a scanner's 0.8 mm against phantoms' 5 mm) is resampled to the median training spacing
SPACING_TOLERANCE = 1.25


@dataclass
class Plan:
    channel_names: dict[str, str]
    labels: dict[str, int]
    target_spacing: tuple[float, float, float]
    patch_size: tuple[int, int, int]
    # smallest and largest training spacing per axis (mm, model axis order); runs planned
    # before it was recorded: the target spacing alone
    spacing_range: tuple[tuple[float, ...], tuple[float, ...]] | None = None

    def resample_needed(self, spacing: Sequence[float]) -> bool:
        """Whether an input at ``spacing`` lies outside what training saw (by more than
        :data:`SPACING_TOLERANCE` on some axis)."""
        lo, hi = self.spacing_range or (self.target_spacing, self.target_spacing)
        return any(
            not (a / SPACING_TOLERANCE <= s <= b * SPACING_TOLERANCE)
            for s, a, b in zip(spacing, lo, hi, strict=True)
        )

    @classmethod
    def read(cls, path: Path) -> Plan:
        if not path.exists():
            raise FileNotFoundError(f"{path}: not found (is {path.parent} a training run?)")
        raw = json.loads(path.read_text(encoding="utf-8"))
        rng = raw.get("spacing_range")
        return cls(
            raw["channel_names"],
            raw["labels"],
            tuple(raw["target_spacing"]),
            tuple(raw["patch_size"]),
            (tuple(rng[0]), tuple(rng[1])) if rng else None,
        )


def write_plan(
    path: Path,
    info: DatasetInfo,
    spacing: Sequence[float],
    patch_size: Sequence[int],
    spacing_range: tuple[Sequence[float], Sequence[float]] | None = None,
) -> None:
    """The plan of a run trained on a dataset described by ``info`` at ``spacing`` (mm),
    its cases' spacings spanning ``spacing_range`` (min, max per axis)."""
    extra = {}
    if spacing_range is not None:
        extra["spacing_range"] = [
            [float(v) for v in spacing_range[0]],
            [float(v) for v in spacing_range[1]],
        ]
    write_json(
        path,
        {
            "channel_names": info.channel_names,
            "labels": info.labels,
            "task": info.task,
            "target_spacing": [float(v) for v in spacing],
            "patch_size": list(patch_size),
            "orientation": MODEL_ORIENTATION,
            **extra,
        },
    )
