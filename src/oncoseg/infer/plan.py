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


@dataclass
class Plan:
    channel_names: dict[str, str]
    labels: dict[str, int]
    target_spacing: tuple[float, float, float]
    patch_size: tuple[int, int, int]

    @classmethod
    def read(cls, path: Path) -> Plan:
        if not path.exists():
            raise FileNotFoundError(f"{path}: not found (is {path.parent} a training run?)")
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            raw["channel_names"],
            raw["labels"],
            tuple(raw["target_spacing"]),
            tuple(raw["patch_size"]),
        )


def write_plan(
    path: Path, info: DatasetInfo, spacing: Sequence[float], patch_size: Sequence[int]
) -> None:
    """The plan of a run trained on a dataset described by ``info`` at ``spacing`` (mm)."""
    write_json(
        path,
        {
            "channel_names": info.channel_names,
            "labels": info.labels,
            "task": info.task,
            "target_spacing": [float(v) for v in spacing],
            "patch_size": list(patch_size),
            "orientation": MODEL_ORIENTATION,
        },
    )
