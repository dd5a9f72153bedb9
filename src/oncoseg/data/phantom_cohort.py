"""Write a phantom cohort as a complete oncoseg dataset (images, labels, notes, csv, splits).

The cohort is built in ``.OUT.partial-PID`` and renamed to ``OUT`` only when every case is
written (:func:`oncoseg.io.atomic.atomic_dir`), so an interrupted or killed run never leaves a
half-written dataset under the final name.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from oncoseg.data.dataset import (
    DatasetCase,
    DatasetInfo,
    kfold_splits,
    write_case,
    write_clinical_csv,
    write_info,
)
from oncoseg.data.phantom import case_rng
from oncoseg.io.atomic import atomic_dir, write_json
from oncoseg.io.image import Image

log = logging.getLogger(__name__)


class Clinical(Protocol):
    def row(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CohortSpec:
    """What a phantom generator provides to the cohort writer."""

    task: str
    prefix: str  # case id prefix, e.g. "bctv"
    channel_names: dict[str, str]
    labels: dict[str, int]
    clinical_fields: list[str]
    sites: tuple[str, ...]
    sample_clinical: Callable[[np.random.Generator, str], Any]
    render: Callable[
        [int, Any, str, int], tuple[list[np.ndarray], np.ndarray, np.ndarray | None, np.ndarray]
    ]
    make_note: Callable[[Any, str, np.random.Generator], str]
    region_names: dict[str, int] | None = None


@dataclass(frozen=True)
class GeneratedCase:
    case_id: str
    anatomy_seed: int
    clinical: Any
    note: str


def site_code(site: str) -> int:
    return zlib.crc32(site.encode())


def plan_cases(
    spec: CohortSpec, n: int, site: str, style: str, seed: int, start: int = 0
) -> list[GeneratedCase]:
    """Case ids, anatomy seeds, clinical fields and notes, without rendering any image."""
    if site not in spec.sites:
        raise ValueError(f"site must be one of {spec.sites}, got {site!r}")
    out = []
    for i in range(start, start + n):
        code = site_code(site)
        anatomy_seed = int(case_rng(seed, code, i).integers(2**31 - 1))
        clinical = spec.sample_clinical(case_rng(seed, code, i, 1), site)
        note = spec.make_note(clinical, style, case_rng(seed, code, i, 2))
        out.append(GeneratedCase(f"{spec.prefix}_{site[:3]}_{i:04d}", anatomy_seed, clinical, note))
    return out


def _render_case(spec: CohortSpec, g: GeneratedCase, site: str, size: int) -> DatasetCase:
    images, label, regions, affine = spec.render(g.anatomy_seed, g.clinical, site, size)
    return DatasetCase(
        case_id=g.case_id,
        images=[Image(a, affine) for a in images],
        label=Image(label, affine),
        note=g.note + "\n",
        regions=Image(regions, affine) if regions is not None else None,
    )


def write_cohort(
    out: str | os.PathLike[str],
    spec: CohortSpec,
    *,
    cases: int,
    test_cases: int = 0,
    site: str = "internal",
    style: str = "prompt",
    size: int = 64,
    seed: int = 0,
    folds: int = 5,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Generate ``cases`` training and ``test_cases`` held-out cases into ``out``."""
    final = Path(out)
    if final.exists() and any(final.iterdir()) and not overwrite:
        raise FileExistsError(f"{final}: exists and is not empty (pass overwrite to replace it)")
    if cases < 0 or test_cases < 0 or cases + test_cases < 1:
        raise ValueError(
            f"need cases >= 0, test_cases >= 0 and at least one case in all, "
            f"got cases={cases}, test_cases={test_cases}"
        )
    train = plan_cases(spec, cases, site, style, seed)
    test = plan_cases(spec, test_cases, site, style, seed, start=cases)
    extra: dict[str, Any] = {
        "numTest": test_cases,
        "note_style": style,
        "size": size,
        "seed": seed,
        # recorded in dataset.json: renaming it would change every cohort's dataset hash
        # (and so invalidate every stored model) for no change in the data
        "generator": f"oncoseg.synth ({spec.task})",
    }
    if spec.region_names is not None:
        extra["regions"] = spec.region_names
    info = DatasetInfo(
        channel_names=spec.channel_names,
        labels=spec.labels,
        num_training=cases,
        task=spec.task,
        site=site,
        extra=extra,
    )
    with atomic_dir(final) as work:
        _write_cases(work, spec, {"Tr": train, "Ts": test}, site, size, progress)
        write_info(work, info)
        ids = [g.case_id for g in train]
        write_json(
            work / "splits.json",
            kfold_splits(ids, min(folds, len(ids)), seed)
            if len(ids) >= 2
            else [{"train": ids, "val": []}],
        )
    log.info("wrote %d + %d %s cases to %s", cases, test_cases, spec.task, final)
    return final


def _write_cases(
    work: Path,
    spec: CohortSpec,
    splits: dict[str, list[GeneratedCase]],
    site: str,
    size: int,
    progress: Callable[[int], None] | None,
) -> None:
    """Every case of ``splits`` (``"Tr"``/``"Ts"`` -> cases) and clinical.csv into ``work``."""
    rows = []
    for split, group in splits.items():
        for g in group:
            write_case(work, _render_case(spec, g, site, size), split)
            rows.append(
                {
                    "case": g.case_id,
                    "split": split,
                    "anatomy_seed": g.anatomy_seed,
                    **g.clinical.row(),
                }
            )
            if progress is not None:
                progress(1)
    write_clinical_csv(work, rows, ["case", "split", "anatomy_seed", *spec.clinical_fields])
