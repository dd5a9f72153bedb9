"""Convert the OpenKBP challenge CSVs (head-and-neck IMRT) into the oncoseg dataset format.

Source layout (``SRC/{train,validation,test}-pats/pt_N/``, files ``.csv`` or ``.csv.gz``):
each CSV has a header ``,data`` and rows ``flat_index,value`` into a 128^3 grid in C order.

Geometry, checked against the anatomy (parotids, mandible, brainstem, spinal cord):
array axis 0 runs anterior -> posterior, axis 1 right -> left, axis 2 superior ->
inferior; voxel sizes come from ``voxel_dimensions.csv`` (about 3.9, 3.9, 2.5 mm) in that
axis order. The RAS affine is therefore ``diag``-free: column 0 = (0, -s0, 0), column 1 =
(-s1, 0, 0), column 2 = (0, 0, -s2), centred on the grid. CT values are stored as
HU + 1024 for non-air voxels only; absent voxels are air, so HU = value - 1024 and
-1024 elsewhere.

Labels: PTV70 = 1, PTV63 = 2, PTV56 = 3; where targets overlap the higher dose wins (a
voxel in PTV70 and PTV56 is 1), as a planner's dose painting would. Organs at risk go to
``regions{Tr,Ts}`` with their names in ``dataset.json["regions"]``. The note is a
prescription written from the targets present. Dose and possible-dose-mask files are
never read: they are outputs of planning, not inputs to contouring.

Split: train-pats and validation-pats -> imagesTr, with ``splits.json`` holding one fold
(train = train-pats, val = validation-pats); test-pats -> imagesTs. A patient with a
missing or malformed file is reported and skipped; nothing of it is written.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from oncoseg.data.dataset import (
    DatasetCase,
    DatasetInfo,
    write_case,
    write_clinical_csv,
    write_info,
)
from oncoseg.io.atomic import atomic_dir, write_json
from oncoseg.io.image import Image

log = logging.getLogger(__name__)

GRID = (128, 128, 128)
HU_OFFSET = 1024.0
TARGETS = ("PTV70", "PTV63", "PTV56")  # label values 1, 2, 3
DOSES = {"PTV70": 70, "PTV63": 63, "PTV56": 56}
OARS = (
    "Brainstem",
    "SpinalCord",
    "RightParotid",
    "LeftParotid",
    "Esophagus",
    "Larynx",
    "Mandible",
)
SPLITS = {"train-pats": "Tr", "validation-pats": "Tr", "test-pats": "Ts"}


class OpenKBPError(ValueError):
    """A patient folder is missing a file or holds a malformed one."""


def _find(folder: Path, name: str) -> Path | None:
    for ending in (".csv", ".csv.gz"):
        p = folder / f"{name}{ending}"
        if p.exists():
            return p
    return None


def read_csv(path: Path, values: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices (and values) of one challenge CSV; errors name the file and the line."""
    opener = gzip.open if path.name.endswith(".gz") else open
    idx: list[int] = []
    val: list[float] = []
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            header = fh.readline().strip()
            if header != ",data":
                raise OpenKBPError(f"{path}: expected the header ',data', got {header[:40]!r}")
            for n, line in enumerate(fh, start=2):
                if not line.strip():
                    continue
                i, _, v = line.strip().partition(",")
                try:
                    idx.append(int(float(i)))
                    if values:
                        val.append(float(v))
                except ValueError as exc:
                    raise OpenKBPError(f"{path}: line {n}: expected 'index,value'") from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise OpenKBPError(f"{path}: unreadable ({exc})") from exc
    ids = np.asarray(idx, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= np.prod(GRID)):
        raise OpenKBPError(f"{path}: voxel index outside the 128^3 grid")
    return ids, (np.asarray(val, dtype=np.float32) if values else None)


def affine_for(spacing: tuple[float, float, float]) -> np.ndarray:
    """RAS affine of the challenge grid (axes: A->P, R->L, S->I), centred at 0."""
    s0, s1, s2 = spacing
    a = np.eye(4)
    a[:3, :3] = [[0.0, -s1, 0.0], [-s0, 0.0, 0.0], [0.0, 0.0, -s2]]
    a[:3, 3] = -a[:3, :3] @ (np.asarray(GRID, float) - 1) / 2
    return a


def prescription(targets: list[str]) -> str:
    """The note: the prescription, written from the targets present."""
    doses = "; ".join(f"{DOSES[t]} Gy to {t}" for t in TARGETS if t in targets)
    return f"Head and neck cancer, IMRT. Prescription: {doses}."


@dataclass
class Patient:
    case_id: str
    split: str  # Tr | Ts
    group: str  # train-pats | validation-pats | test-pats
    ct: np.ndarray
    label: np.ndarray
    oars: np.ndarray
    spacing: tuple[float, float, float]
    targets: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # voxels per structure file


def read_patient(folder: Path, group: str) -> Patient:
    """One patient from its CSVs (raises OpenKBPError naming the file)."""
    vox = _find(folder, "voxel_dimensions")
    ct_file = _find(folder, "ct")
    for name, p in (("voxel_dimensions", vox), ("ct", ct_file)):
        if p is None:
            raise OpenKBPError(f"{folder}: {name}.csv(.gz) is missing")
    assert vox is not None and ct_file is not None
    opener = gzip.open if vox.name.endswith(".gz") else open
    try:
        with opener(vox, "rt", encoding="utf-8") as fh:
            spacing = tuple(float(x) for x in fh.read().split())
    except (OSError, ValueError, EOFError) as exc:
        raise OpenKBPError(f"{vox}: expected three voxel sizes in mm ({exc})") from exc
    if len(spacing) != 3 or min(spacing) <= 0:
        raise OpenKBPError(f"{vox}: expected three positive voxel sizes, got {spacing}")
    idx, val = read_csv(ct_file, values=True)
    assert val is not None
    if idx.size == 0:
        raise OpenKBPError(f"{ct_file}: no voxels")
    ct = np.full(int(np.prod(GRID)), -HU_OFFSET, np.float32)
    ct[idx] = val - HU_OFFSET
    if ct.max() > np.iinfo(np.int16).max:
        raise OpenKBPError(f"{ct_file}: CT values beyond the int16 HU range")
    label = np.zeros(int(np.prod(GRID)), np.uint8)
    counts, targets = {}, []
    for value, name in reversed(list(enumerate(TARGETS, start=1))):  # PTV56 first, 70 last
        p = _find(folder, name)
        if p is None:
            continue
        ids, _ = read_csv(p, values=False)
        counts[name] = int(ids.size)
        if ids.size:
            label[ids] = value  # a higher dose overwrites a lower one
            targets.append(name)
    if "PTV70" not in targets:
        raise OpenKBPError(f"{folder}: PTV70.csv(.gz) is missing or empty")
    oars = np.zeros(int(np.prod(GRID)), np.uint8)
    for value, name in enumerate(OARS, start=1):
        p = _find(folder, name)
        if p is not None:
            ids, _ = read_csv(p, values=False)
            counts[name] = int(ids.size)
            oars[ids] = value
    return Patient(
        case_id=f"kbp_{folder.name}",
        split=SPLITS[group],
        group=group,
        ct=ct.reshape(GRID).astype(np.int16),
        label=label.reshape(GRID),
        oars=oars.reshape(GRID),
        spacing=(spacing[0], spacing[1], spacing[2]),
        targets=sorted(targets, key=TARGETS.index),
        counts=counts,
    )


@dataclass
class ConvertReport:
    converted: dict[str, list[str]] = field(default_factory=dict)  # group -> case ids
    skipped: dict[str, str] = field(default_factory=dict)  # patient folder -> reason


def _patient_order(name: str) -> tuple[int, str]:
    digits = "".join(c for c in name if c.isdigit())
    return (int(digits) if digits else 0, name)


def convert_openkbp(
    src: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    limit: int | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> ConvertReport:
    """Convert ``src`` into an oncoseg dataset at ``out`` (built in ``.OUT.partial-PID`` and
    renamed when complete, :func:`oncoseg.io.atomic.atomic_dir`)."""
    source, final = Path(src), Path(out)
    groups = [g for g in SPLITS if (source / g).is_dir()]
    if not groups:
        raise FileNotFoundError(f"{source}: no train-pats, validation-pats or test-pats folder")
    if final.exists() and not overwrite:
        raise FileExistsError(f"{final} exists (pass overwrite=True / --overwrite)")
    with atomic_dir(final) as tmp:
        return _convert_into(tmp, source, groups, limit, progress)


def _write_patient(tmp: Path, pt: Patient, group: str) -> dict[str, str]:
    """Write one patient as a dataset case; returns its clinical.csv row."""
    affine = affine_for(pt.spacing)
    case = DatasetCase(
        case_id=pt.case_id,
        images=[Image(pt.ct, affine)],
        label=Image(pt.label, affine),
        note=prescription(pt.targets),
        regions=Image(pt.oars, affine),
    )
    write_case(tmp, case, pt.split)
    targets = {t: "yes" if t in pt.targets else "no" for t in TARGETS}
    return {"case": pt.case_id, "split": pt.split, "group": group, **targets}


def _convert_into(
    tmp: Path,
    source: Path,
    groups: list[str],
    limit: int | None,
    progress: Callable[[str], None] | None,
) -> ConvertReport:
    """Every patient of ``groups`` and the dataset files into the (temporary) folder ``tmp``."""
    report = ConvertReport()
    rows = []
    for group in groups:
        folders = sorted(
            (p for p in (source / group).iterdir() if p.is_dir()),
            key=lambda p: _patient_order(p.name),
        )
        report.converted[group] = []
        for folder in folders[:limit]:
            try:
                pt = read_patient(folder, group)
            except OpenKBPError as exc:
                report.skipped[str(folder)] = str(exc)
                log.warning("skipped %s: %s", folder.name, exc)
                continue
            rows.append(_write_patient(tmp, pt, group))
            report.converted[group].append(pt.case_id)
            if progress:
                progress(pt.case_id)
    train_ids = report.converted.get("train-pats", [])
    val_ids = report.converted.get("validation-pats", [])
    test_ids = report.converted.get("test-pats", [])
    info = DatasetInfo(
        channel_names={"0": "CT"},
        labels={"background": 0, **{t: i for i, t in enumerate(TARGETS, start=1)}},
        num_training=len(train_ids) + len(val_ids),
        task="openkbp",
        site="openkbp",
        extra={
            "numTest": len(test_ids),
            "regions": {name: i for i, name in enumerate(OARS, start=1)},
            "source": "OpenKBP (Babier et al., Med Phys 2021), MIT licence",
            "label_overlap": "higher dose wins: PTV70 > PTV63 > PTV56",
        },
    )
    write_info(tmp, info)
    write_json(tmp / "splits.json", [{"train": train_ids, "val": val_ids}])
    write_json(tmp / "skipped.json", report.skipped)
    write_clinical_csv(tmp, rows, ["case", "split", "group", *TARGETS])
    return report
