"""The Ray engine of cohort inference: N actors, each holding one Predictor.

Ray (``pip install 'oncoseg[cluster]'``) is imported here only, when the engine runs, so the
base install does not need it. Without ``address`` a local Ray instance is started (and
stopped at the end); with one (``ray://host:10001`` or ``host:6379``, or ``auto`` on a node of
the cluster) the run joins an existing cluster. Each actor reserves ``job.threads`` CPUs
(and one GPU with ``--device cuda``) and runs that many torch threads; an
:class:`~ray.util.ActorPool` hands each free actor the next case, and the results come back
to this process, which keeps the books. Ray's usage statistics stay off unless
``RAY_USAGE_STATS_ENABLED`` says otherwise.

Example:
    >>> run_ray(job, tasks, workers=2, on_result=print)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from oncoseg.batch.cohort_case import CaseResult, CaseRunner, CaseTask, CohortJob, one_line

log = logging.getLogger(__name__)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(
            "--engine ray needs Ray: pip install 'oncoseg[cluster]' (or use --engine local)"
        ) from exc
    return ray


def _check_resources(ray: Any, workers: int, threads: int, gpus: int) -> None:
    """Fail early instead of waiting forever for actors the cluster cannot place."""
    have = ray.cluster_resources()
    for name, each in (("CPU", threads), ("GPU", gpus)):
        if workers * each > float(have.get(name, 0)):
            raise RuntimeError(
                f"the Ray cluster has {float(have.get(name, 0)):g} {name}s; {workers} workers "
                f"x {each} {name} each (--workers, --threads, --device) need {workers * each}"
            )


def _start(ray: Any, address: str | None) -> None:
    """Start a local Ray instance (no address) or join the cluster at ``address``."""
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # Ray raises bare Exception and ConnectionError alike
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise RuntimeError(
            f"could not start or join {where}: {one_line(exc)} (a local raylet that misses "
            "Ray's 30 s start-up limit on a loaded machine: run the command again)"
        ) from exc


def run_ray(
    job: CohortJob,
    tasks: Sequence[CaseTask],
    workers: int,
    on_result: Callable[[CaseResult], None],
    address: str | None = None,
) -> None:
    """Run ``tasks`` on ``workers`` Ray actors; ``on_result`` gets each result as it comes."""
    ray = _import_ray()
    from ray.util import ActorPool

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = not ray.is_initialized()
    if started:
        _start(ray, address)
    try:
        # a CUDA actor gets a GPU of its own: Ray sets CUDA_VISIBLE_DEVICES, it sees cuda:0
        gpus = 1 if job.device.startswith("cuda") else 0
        _check_resources(ray, workers, job.threads, gpus)
        actor = ray.remote(num_cpus=job.threads, num_gpus=gpus)(CaseRunner)
        pool = ActorPool([actor.remote(job) for _ in range(workers)])
        log.info("Ray: %d actors x %d threads", workers, job.threads)
        for result in pool.map_unordered(lambda a, t: a.run.remote(t), list(tasks)):
            on_result(result)
    except ray.exceptions.RayError as exc:  # an actor died or could not load the model
        raise RuntimeError(
            f"Ray: {one_line(exc)} (finished cases are kept: run the command again to resume)"
        ) from exc
    finally:
        if started:
            ray.shutdown()
