"""Cohorts an experiment runs on: synthesised phantom cohorts (cached) or dataset folders.

The cache (``data_dir``, default ``runs/data``) is shared by experiments running side by
side: each cohort is made under a file lock (``.TAG.lock``), so the second experiment to ask
waits for the first and reuses its cohort. A cohort appears under its name only when
complete (:func:`oncoseg.data.phantom_cohort.write_cohort` builds it in a temporary folder), and its
``TAG.generator`` stamp, written after it, is the completion marker the cache checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

import oncoseg.data.phantom
from oncoseg.data.dataset import dataset_hash, read_info
from oncoseg.data.dataset_check import check_dataset
from oncoseg.data.phantom_cohort import CohortSpec, write_cohort
from oncoseg.experiments.config import ExperimentConfig
from oncoseg.io.atomic import write_text
from oncoseg.tasks import TASKS


@dataclass
class Data:
    """The datasets an experiment uses: the internal one trains; every site is tested."""

    sites: dict[str, Path]  # site -> dataset folder (internal first)
    hashes: dict[str, str]
    task: str

    @property
    def internal(self) -> Path:
        return self.sites["internal"]


GENERATOR_STAMP = ".generator"  # file beside a synthesised cohort: generator_fingerprint()


def generator_fingerprint(task: str) -> str:
    """Hash of the phantom generator's source (``oncoseg.data.phantom``,
    ``oncoseg.data.phantom_cohort`` and the task's package).

    A cached cohort is reused only when this matches the one it was written with. Remaking
    a cohort whose output did not change gives the same dataset hash, so stored models are
    still reused; one whose notes or masks changed gets a new hash and new models.
    """
    h = hashlib.sha256()
    data = Path(oncoseg.data.phantom.__file__).parent
    generic = [data / "phantom.py", data / "phantom_cohort.py"]
    for f in sorted([*generic, *(data.parent / "tasks" / task).glob("*.py")]):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cached_cohort(
    cfg: ExperimentConfig, spec: CohortSpec, site: str, cases: tuple[int, int], fingerprint: str
) -> Path:
    """The cohort of ``site`` with ``cases`` (training, test) in the cache: reused when its
    stamp names this generator, else made now (under the cohort's lock)."""
    n_tr, n_ts = cases
    tag = f"{cfg.dataset}-{site}-{n_tr}+{n_ts}-{cfg.size}-{cfg.style}-s{cfg.seed}"
    out = Path(cfg.data_dir) / tag
    stamp = out.with_name(tag + GENERATOR_STAMP)  # beside it: not in its hash
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(out.with_name(f".{tag}.lock")):
        made_by = stamp.read_text().strip() if stamp.exists() else None
        if made_by != fingerprint or not (out / "dataset.json").exists():
            # a cohort made by other generator code is remade: its notes or masks may
            # differ from what this checkout writes (and from its counterfactual notes)
            stamp.unlink(missing_ok=True)
            write_cohort(
                out,
                spec,
                cases=n_tr,
                test_cases=n_ts,
                site=site,
                style=cfg.style,
                size=cfg.size,
                seed=cfg.seed,
                overwrite=True,
            )
            write_text(stamp, fingerprint + "\n")
    return out


def prepare_data(cfg: ExperimentConfig) -> Data:
    """Synthesise (or reuse) the cohorts, or check the given dataset folders."""
    sites: dict[str, Path] = {}
    spec = TASKS[cfg.dataset].cohort_spec if cfg.dataset in TASKS else None
    if spec is not None:
        fingerprint = generator_fingerprint(cfg.dataset)
        plan = [("internal", cfg.cases, cfg.test_cases)]
        if cfg.external_cases:
            plan.append(("external", 0, cfg.external_cases))
        for site, n_tr, n_ts in plan:
            sites[site] = cached_cohort(cfg, spec(), site, (n_tr, n_ts), fingerprint)
    else:
        sites["internal"] = Path(cfg.dataset)
        if cfg.external:
            sites["external"] = Path(cfg.external)
    for site, ds in sites.items():
        report = check_dataset(ds)
        if not report.ok:
            raise ValueError(f"{ds} ({site} site) failed its check: {report.problems[:3]}")
    task = read_info(sites["internal"]).task or cfg.dataset
    return Data(sites, {s: dataset_hash(p) for s, p in sites.items()}, task)
