"""Read and write the oncoseg dataset format (nnU-Net v2 raw layout plus notes).

Layout (see docs/dataset_format.md)::

    <dataset>/
      dataset.json                 nnU-Net keys + "task", "site", "notes_dir"
      imagesTr/<case>_0000.nii.gz  one file per channel
      labelsTr/<case>.nii.gz       integer labels, background 0
      notesTr/<case>.txt           UTF-8 clinical note
      regionsTr/<case>.nii.gz      optional: anatomical compartments (oncoseg extension)
      clinical.csv                 optional: one row per case
      imagesTs/ labelsTs/ notesTs/ held-out cases, same layout
      splits.json                  [{"train": [...], "val": [...]}, ...]

nnU-Net ignores the extra keys and folders, so it trains on the same folder unchanged.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.io.atomic import write_csv, write_json, write_text
from oncoseg.io.image import Image, load_image, save_image
from oncoseg.io.note_file import read_note_file

FILE_ENDING = ".nii.gz"
SPLITS = ("Tr", "Ts")
REQUIRED_KEYS = ("channel_names", "labels", "numTraining", "file_ending")


class DatasetFormatError(ValueError):
    """The dataset folder or one of its files does not follow the documented format."""


@dataclass
class DatasetInfo:
    """The content of dataset.json."""

    channel_names: dict[str, str]  # {"0": "CT"}
    labels: dict[str, int]  # {"background": 0, "ctv": 1}
    num_training: int
    file_ending: str = FILE_ENDING
    task: str = ""
    site: str = ""
    notes_dir: str = "notesTr"
    extra: dict[str, Any] = field(default_factory=dict)  # any other keys, kept on rewrite

    @property
    def num_channels(self) -> int:
        return len(self.channel_names)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "channel_names": self.channel_names,
            "labels": self.labels,
            "numTraining": self.num_training,
            "file_ending": self.file_ending,
            "task": self.task,
            "site": self.site,
            "notes_dir": self.notes_dir,
        }
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, obj: Any, source: str = "dataset.json") -> DatasetInfo:
        if not isinstance(obj, Mapping):
            raise DatasetFormatError(f"{source}: expected a JSON object with keys {REQUIRED_KEYS}")
        missing = [k for k in REQUIRED_KEYS if k not in obj]
        if missing:
            raise DatasetFormatError(f"{source}: missing required key(s) {missing}")
        labels = obj["labels"]
        if not isinstance(labels, dict) or not all(_is_int(v) for v in labels.values()):
            raise DatasetFormatError(f"{source}: 'labels' must map names to integers")
        if labels.get("background") != 0:
            raise DatasetFormatError(f"{source}: 'labels' must contain background: 0")
        channels = obj["channel_names"]
        if not isinstance(channels, dict) or not channels:
            raise DatasetFormatError(f"{source}: 'channel_names' must be a non-empty object")
        keys = sorted(int(k) if str(k).isdigit() else -1 for k in channels)
        if keys != list(range(len(channels))):
            raise DatasetFormatError(
                f"{source}: 'channel_names' keys must be '0'..'{len(channels) - 1}'"
            )
        if not _is_int(obj["numTraining"]) or obj["numTraining"] < 0:
            raise DatasetFormatError(f"{source}: 'numTraining' must be a whole number >= 0")
        if obj["file_ending"] != FILE_ENDING:
            raise DatasetFormatError(f"{source}: 'file_ending' must be {FILE_ENDING!r}")
        known = set(REQUIRED_KEYS) | {"task", "site", "notes_dir"}
        return cls(
            channel_names={str(k): str(v) for k, v in channels.items()},
            labels=dict(labels),
            num_training=int(obj["numTraining"]),
            file_ending=str(obj["file_ending"]),
            task=str(obj.get("task", "")),
            site=str(obj.get("site", "")),
            notes_dir=str(obj.get("notes_dir", "notesTr")),
            extra={k: v for k, v in obj.items() if k not in known},
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_info(root: str | os.PathLike[str]) -> DatasetInfo:
    """Read and validate ``dataset.json`` of the dataset at ``root``."""
    path = Path(root) / "dataset.json"
    if not path.exists():
        raise DatasetFormatError(f"{path}: not found (is {root} an oncoseg/nnU-Net dataset?)")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{path}: not valid UTF-8 JSON ({exc})") from exc
    return DatasetInfo.from_json(obj, source=str(path))


def image_path(root: Path, case: str, channel: int, split: str = "Tr") -> Path:
    return root / f"images{split}" / f"{case}_{channel:04d}{FILE_ENDING}"


def label_path(root: Path, case: str, split: str = "Tr") -> Path:
    return root / f"labels{split}" / f"{case}{FILE_ENDING}"


def note_path(root: Path, case: str, split: str = "Tr") -> Path:
    return root / f"notes{split}" / f"{case}.txt"


def region_path(root: Path, case: str, split: str = "Tr") -> Path:
    return root / f"regions{split}" / f"{case}{FILE_ENDING}"


def list_cases(root: str | os.PathLike[str], split: str = "Tr") -> list[str]:
    """Case identifiers present in ``labels{split}`` (or, if absent, ``images{split}``)."""
    r = Path(root)
    labels = r / f"labels{split}"
    if labels.is_dir():
        return sorted(p.name[: -len(FILE_ENDING)] for p in labels.glob(f"*{FILE_ENDING}"))
    images = r / f"images{split}"
    if not images.is_dir():
        return []
    names = {p.name[: -len(FILE_ENDING)].rsplit("_", 1)[0] for p in images.glob(f"*{FILE_ENDING}")}
    return sorted(names)


@dataclass
class DatasetCase:
    """One case in memory: channels share one geometry with the label."""

    case_id: str
    images: list[Image]
    label: Image | None
    note: str
    regions: Image | None = None


def write_case(root: str | os.PathLike[str], case: DatasetCase, split: str = "Tr") -> None:
    """Write one case's channels, label, note and optional region map (each atomically)."""
    r = Path(root)
    for c, img in enumerate(case.images):
        save_image(img, image_path(r, case.case_id, c, split))
    if case.label is not None:
        save_image(case.label, label_path(r, case.case_id, split))
    if case.regions is not None:
        save_image(case.regions, region_path(r, case.case_id, split))
    write_text(note_path(r, case.case_id, split), case.note)


def read_case(root: str | os.PathLike[str], case_id: str, split: str = "Tr") -> DatasetCase:
    """Read one case; the label and regions are ``None`` when their files are absent.

    Images and the note pass the input rules (:mod:`oncoseg.io.image_rules`,
    :mod:`oncoseg.io.note_file`); a refusal names the file.
    """
    r = Path(root)
    info = read_info(r)
    images = [load_image(image_path(r, case_id, c, split)) for c in range(info.num_channels)]
    lp, rp = label_path(r, case_id, split), region_path(r, case_id, split)
    return DatasetCase(
        case_id=case_id,
        images=images,
        label=load_image(lp) if lp.exists() else None,
        note=read_note_file(note_path(r, case_id, split)),
        regions=load_image(rp) if rp.exists() else None,
    )


def write_info(root: str | os.PathLike[str], info: DatasetInfo) -> None:
    write_json(Path(root) / "dataset.json", info.to_json())


def write_clinical_csv(
    root: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], fields: Sequence[str]
) -> None:
    """Write ``clinical.csv`` (one row per case, ``case`` column first) atomically."""
    write_csv(Path(root) / "clinical.csv", rows, fields)


def read_clinical_csv(root: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Rows of ``clinical.csv`` keyed by case id; empty when the file is absent."""
    path = Path(root) / "clinical.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or "case" not in reader.fieldnames:
            raise DatasetFormatError(f"{path}: expected a header with a 'case' column")
        return {row["case"]: row for row in reader}


def kfold_splits(cases: Sequence[str], k: int = 5, seed: int = 0) -> list[dict[str, list[str]]]:
    """Deterministic k-fold splits (nnU-Net's splits_final.json shape)."""
    if k < 2 or k > len(cases):
        raise ValueError(f"k must be in [2, {len(cases)}] for {len(cases)} cases, got {k}")
    order = np.random.default_rng(seed).permutation(len(cases))
    folds = np.array_split(order, k)
    out = []
    for i in range(k):
        val = sorted(cases[j] for j in folds[i])
        train = sorted(c for c in cases if c not in set(val))
        out.append({"train": train, "val": val})
    return out


def read_splits(root: str | os.PathLike[str]) -> list[dict[str, list[str]]]:
    path = Path(root) / "splits.json"
    if not path.exists():
        raise DatasetFormatError(f"{path}: not found")
    try:
        splits = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"{path}: not valid JSON ({exc})") from exc
    ok = isinstance(splits, list) and all(
        isinstance(s, dict) and isinstance(s.get("train"), list) and isinstance(s.get("val"), list)
        for s in splits
    )
    if not ok:
        raise DatasetFormatError(f"{path}: expected a list of {{'train': [...], 'val': [...]}}")
    return splits


def dataset_hash(root: str | os.PathLike[str]) -> str:
    """A short content hash of every file in the dataset (names, sizes and bytes)."""
    import hashlib

    h = hashlib.sha256()
    r = Path(root)
    for p in sorted(q for q in r.rglob("*") if q.is_file()):
        h.update(str(p.relative_to(r)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]
