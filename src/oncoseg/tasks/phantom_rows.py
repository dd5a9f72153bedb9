"""What a phantom task's note variants are written from: each sample's clinical.csv row and
the cohort's note style and seed, with the errors a wrong dataset gets."""

from __future__ import annotations

import os
from collections.abc import Sequence

from oncoseg.data.dataset import read_clinical_csv, read_info
from oncoseg.data.loader import Sample
from oncoseg.infer.config import ConfigError


def phantom_rows(
    dataset: str | os.PathLike[str], samples: Sequence[Sample], task: str, keys: str
) -> tuple[list[dict[str, str]], str, int]:
    """``(rows in the order of samples, note style, cohort seed)``; a dataset of another task
    or a sample without a row is a :class:`ConfigError` naming the settings ``keys``."""
    info = read_info(dataset)
    if info.task != task:
        raise ConfigError(
            f"train.{keys}: {dataset} is a {info.task or 'unnamed'!r} dataset; {task} note "
            f"variants need a {task} phantom (clinical.csv, regionsTr/)"
        )
    rows = read_clinical_csv(dataset)
    for s in samples:
        if s.case_id not in rows:
            raise ConfigError(f"train.{keys}: {dataset}/clinical.csv has no row for {s.case_id}")
    style, seed = info.extra.get("note_style", "prompt"), int(info.extra.get("seed", 0))
    return [rows[s.case_id] for s in samples], style, seed
