"""Validate a dataset folder and list every problem with the file it is in.

Checks: dataset.json keys; every channel present, readable and passing the image rules
(:mod:`oncoseg.io.image_rules`: 3D, finite, positive spacing, non-singular direction, size);
channels and label share one geometry; label values are among dataset.json's labels; each
case has a usable note (:mod:`oncoseg.io.note_file`: UTF-8, not binary, not empty);
numTraining matches; splits.json names only cases on disk; no stray files. A broken file
is a problem in the report, never an exception.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oncoseg.data.dataset import (
    FILE_ENDING,
    DatasetFormatError,
    DatasetInfo,
    image_path,
    label_path,
    note_path,
    read_info,
)
from oncoseg.io.image import Image, ImageReadError, load_image, same_geometry
from oncoseg.io.note_file import NoteFileError, read_note_file


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class CheckReport:
    root: Path
    problems: list[Problem] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, path: Path | str, message: str) -> None:
        rel = Path(path).relative_to(self.root) if Path(path).is_absolute() else Path(path)
        self.problems.append(Problem(str(rel), message))


def _case_ids(root: Path, split: str, report: CheckReport) -> list[str]:
    ids: set[str] = set()
    for folder, strip in ((f"images{split}", True), (f"labels{split}", False)):
        d = root / folder
        if not d.is_dir():
            continue
        for p in sorted(d.iterdir()):
            if not p.name.endswith(FILE_ENDING):
                report.add(p, f"unexpected file (expected names ending in {FILE_ENDING})")
                continue
            stem = p.name[: -len(FILE_ENDING)]
            if strip:
                base, _, chan = stem.rpartition("_")
                if not (chan.isdigit() and len(chan) == 4 and base):
                    report.add(p, "image name must be {case}_{XXXX}" + FILE_ENDING)
                    continue
                stem = base
            ids.add(stem)
    notes = root / f"notes{split}"
    if notes.is_dir():
        ids.update(p.stem for p in notes.glob("*.txt"))
    return sorted(ids)


def _read_note(path: Path, report: CheckReport) -> str | None:
    if not path.exists():
        report.add(path, "note missing (file not found, expected a UTF-8 text file)")
        return None
    try:
        return read_note_file(path)
    except NoteFileError as exc:
        report.add(path, f"note: {exc.reason}")
        return None


def _load(path: Path, report: CheckReport, what: str) -> Image | None:
    if not path.exists():
        report.add(path, f"{what} missing (file not found)")
        return None
    try:
        return load_image(path)
    except ImageReadError as exc:  # the message starts with the file, which add() names
        report.add(path, f"{what}: {str(exc).removeprefix(f'{path}: ')}")
        return None


def _check_case(
    root: Path,
    case: str,
    split: str,
    info: DatasetInfo,
    report: CheckReport,
    stats: dict[str, list[float]],
) -> None:
    images = [
        _load(image_path(root, case, c, split), report, f"channel {c:04d}")
        for c in range(info.num_channels)
    ]
    ref = next((im for im in images if im is not None), None)
    for c, im in enumerate(images):
        if im is not None and ref is not None and not same_geometry(im, ref):
            report.add(
                image_path(root, case, c, split),
                f"geometry differs from channel 0000 (shape {im.shape} vs {ref.shape})",
            )
    lp = label_path(root, case, split)
    if split == "Tr" or lp.exists():
        label = _load(lp, report, "label")
        if label is not None:
            _check_label(lp, label, ref, info, report, stats)
    note = _read_note(note_path(root, case, split), report)
    if note is not None:
        stats["note_chars"].append(len(note.strip()))


def _check_label(
    lp: Path,
    label: Image,
    ref: Image | None,
    info: DatasetInfo,
    report: CheckReport,
    stats: dict[str, list[float]],
) -> None:
    if ref is not None and not same_geometry(label, ref):
        report.add(
            lp,
            f"label geometry (shape {label.shape}, spacing "
            f"{tuple(round(s, 3) for s in label.spacing)}) does not match the image "
            f"(shape {ref.shape}, spacing {tuple(round(s, 3) for s in ref.spacing)})",
        )
    arr = np.asarray(label.array)
    if not np.issubdtype(arr.dtype, np.integer) and not np.all(arr == np.round(arr)):
        report.add(lp, f"label has non-integer values (dtype {arr.dtype})")
        return
    values = {int(v) for v in np.unique(arr)}
    allowed = set(info.labels.values())
    if values - allowed:
        report.add(
            lp,
            f"label values {sorted(values - allowed)} are not in dataset.json "
            f"labels {sorted(allowed)}",
        )
    voxel_ml = float(np.prod(label.spacing)) / 1000.0
    for name, v in info.labels.items():
        if v != 0:
            stats[f"ml_{name}"].append(float((arr == v).sum()) * voxel_ml)


def _check_splits(root: Path, train_ids: list[str], report: CheckReport) -> None:
    path = root / "splits.json"
    if not path.exists():
        return
    try:
        splits = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        report.add(path, f"not valid JSON ({exc})")
        return
    if not isinstance(splits, list):
        report.add(path, "expected a list of {'train': [...], 'val': [...]}")
        return
    known = set(train_ids)
    for i, fold in enumerate(splits):
        if not isinstance(fold, dict) or not {"train", "val"} <= set(fold):
            report.add(path, f"fold {i}: expected keys 'train' and 'val'")
            continue
        for key in ("train", "val"):
            if not isinstance(fold[key], list) or not all(isinstance(c, str) for c in fold[key]):
                report.add(path, f"fold {i} {key}: expected a list of case names")
                continue
            missing = sorted(set(fold[key]) - known)
            if missing:
                report.add(
                    path,
                    f"fold {i} {key}: cases not in imagesTr/labelsTr: "
                    f"{missing[:5]}{' ...' if len(missing) > 5 else ''}",
                )


def check_dataset(root: str | os.PathLike[str]) -> CheckReport:
    """Validate the dataset at ``root``; the report lists every problem found."""
    r = Path(root).resolve()
    report = CheckReport(root=r)
    try:
        info = read_info(r)
    except DatasetFormatError as exc:
        report.add(r / "dataset.json", str(exc).split(": ", 1)[-1])
        return report
    stats: dict[str, list[float]] = {"note_chars": []}
    for name, v in info.labels.items():
        if v != 0:
            stats[f"ml_{name}"] = []
    counts = {}
    for split in ("Tr", "Ts"):
        ids = _case_ids(r, split, report)
        counts[split] = len(ids)
        for case in ids:
            _check_case(r, case, split, info, report, stats)
        if split == "Tr":
            train_ids = ids
    if counts["Tr"] != info.num_training:
        report.add(
            r / "dataset.json",
            f"numTraining is {info.num_training} but imagesTr/labelsTr hold {counts['Tr']} cases",
        )
    _check_splits(r, train_ids, report)
    report.summary = _summary(info, counts, stats)
    return report


def _summary(
    info: DatasetInfo,
    counts: dict[str, int],
    stats: dict[str, list[float]],
) -> dict[str, Any]:
    def describe(xs: list[float]) -> dict[str, float]:
        if not xs:
            return {}
        return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}

    return {
        "task": info.task,
        "site": info.site,
        "training_cases": counts["Tr"],
        "test_cases": counts["Ts"],
        "channels": info.channel_names,
        "labels": info.labels,
        "label_volume_ml": {k[3:]: describe(v) for k, v in stats.items() if k.startswith("ml_")},
        "note_chars": describe(stats["note_chars"]),
    }
