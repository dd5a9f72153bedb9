"""Cohort inference: a dataset's cases through one model, resumably, locally or on Ray.

Output folder::

    OUT/
      cohort.json           the job (model, checkpoint, dataset, split) and one record per run
      masks/<case>.nii.gz   predicted label maps, each written atomically
      status.csv            case, status (ok | failed), error, seconds: every case once
      metrics.csv           case, class, dice, iou, hd95: cases that have a label
      .lock                 held while a run writes to OUT

A case is finished when its mask exists under its final name: a rerun skips finished cases
and runs the rest (failed ones included). Engines: ``local`` (N spawned worker processes, or
this process when N is 1, each with one :class:`~oncoseg.infer.Predictor` and cores / N torch
threads) and ``ray`` (:mod:`oncoseg.batch.ray_engine`: N actors on a local or existing Ray
cluster). The model and the dataset are read by the workers, the masks written by them: on
several machines, OUT, the dataset and the run folder sit on a shared file system.

Example:
    >>> job = CohortJob(model="runs/m", dataset="data/ds", out="out/ds")  # doctest: +SKIP
    >>> run_cohort(job, engine="local", workers=2).ok  # doctest: +SKIP
    20
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from filelock import FileLock, Timeout
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oncoseg.batch.cohort_case import (
    MASKS,
    METRICS,
    CaseResult,
    CaseRunner,
    CaseTask,
    CohortJob,
    mask_path,
)
from oncoseg.batch.cohort_status import StatusBook
from oncoseg.data.dataset import label_path, list_cases, read_info
from oncoseg.eval.evaluate import class_metric_rows, foreground_labels
from oncoseg.infer import Plan
from oncoseg.infer.postprocess import read_choice
from oncoseg.io.atomic import remove_stale_temp_files, write_json
from oncoseg.io.image import load_image

log = logging.getLogger(__name__)
SPLITS = {"test": ("Ts",), "all": ("Tr", "Ts")}
ENGINES = ("local", "ray")
OnResult = Callable[[CaseResult], None]


class CohortError(ValueError):
    """Bad input to a cohort run (dataset, model, output folder or options)."""


@dataclass
class RunRecord:
    """One run of a cohort job, as kept in ``cohort.json``."""

    engine: str
    workers: int
    threads: int
    cases: int  # in the split
    skipped: int  # finished by an earlier run
    ok: int  # predicted by this run
    failed: int  # failed in this run
    seconds: float  # wall time of the engine: workers started, models loaded, cases run
    first_result_s: float  # wall time until the first case came back (start-up included)
    cpu_seconds: float = 0.0  # CPU time the workers spent on this run's cases

    @property
    def cases_per_min(self) -> float:
        n = self.ok + self.failed
        return 60.0 * n / self.seconds if self.seconds > 0 else 0.0

    @property
    def steady_cases_per_min(self) -> float:
        """Throughput after the first result (worker start-up and model loading excluded)."""
        n, t = self.ok + self.failed - 1, self.seconds - self.first_result_s
        return 60.0 * n / t if n > 0 and t > 0 else 0.0

    def add(self, result: CaseResult, elapsed: float) -> None:
        """Count a case that came back ``elapsed`` seconds after the engine started."""
        self.ok += result.status == "ok"
        self.failed += result.status == "failed"
        self.cpu_seconds += result.cpu_seconds
        self.first_result_s = self.first_result_s or elapsed

    def to_json(self) -> dict[str, Any]:
        out = {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}
        rates = {
            "cases_per_min": self.cases_per_min,
            "steady_cases_per_min": self.steady_cases_per_min,
        }
        return {**out, **{k: round(v, 2) for k, v in rates.items()}}


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def list_tasks(dataset: str | os.PathLike[str], split: str) -> list[CaseTask]:
    """The cases of ``split`` (test | all), in dataset order; ids must be unique."""
    if split not in SPLITS:
        raise CohortError(f"--split: expected one of {list(SPLITS)}, got {split!r}")
    read_info(dataset)  # a DatasetFormatError names a missing or bad dataset.json
    tasks = [CaseTask(c, s) for s in SPLITS[split] for c in list_cases(dataset, s)]
    ids = [t.case_id for t in tasks]
    if len(set(ids)) != len(ids):
        dup = sorted({c for c in ids if ids.count(c) > 1})
        raise CohortError(f"{dataset}: case ids in both imagesTr and imagesTs: {dup[:5]}")
    if not tasks:
        where = "imagesTs" if split == "test" else "imagesTr or imagesTs"
        hint = " (use --split all)" if split == "test" else ""
        raise CohortError(f"{dataset}: no cases in {where}{hint}")
    return tasks


def check_model(job: CohortJob) -> Plan:
    """The run's plan, after checking that its files exist (before any worker starts)."""
    run = Path(job.model)
    for name in ("config.yaml", "plan.json", f"{job.checkpoint}.pt"):
        if not (run / name).is_file():
            raise CohortError(f"{run / name}: not found (is {run} a training run folder?)")
    return Plan.read(run / "plan.json")


def _identity(job: CohortJob) -> dict[str, str]:
    """What a resumed run must share with the earlier ones (so no folder mixes masks made
    with and without the run's post-processing choice, ``postprocess.json``)."""
    ident = {
        "model": str(Path(job.model).resolve()),
        "checkpoint": job.checkpoint,
        "dataset": str(Path(job.dataset).resolve()),
        "split": job.split,
    }
    choice = read_choice(job.model)
    if choice:  # absent without one: earlier folders of such runs still match
        ident["largest_component"] = str(list(choice))
    return ident


def _read_runs(out: Path, job: CohortJob) -> list[dict[str, Any]]:
    """Earlier runs of this output folder; an error if they ran another job."""
    path = out / "cohort.json"
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("job") != _identity(job):
        raise CohortError(
            f"{path}: this folder holds a run of {doc.get('job')}, not of {_identity(job)}; "
            "use another -o folder"
        )
    return list(doc.get("runs", []))


def _remove_leftovers(out: Path) -> None:
    """Temporary files of a killed run (io/atomic.py's pattern, nothing else): whatever their
    age, since this run holds OUT's lock and no other writer can be at work in it."""
    for folder in (out, out / MASKS):
        remove_stale_temp_files(folder, max_age=0)


def _reconcile(job: CohortJob, tasks: list[CaseTask], book: StatusBook, plan: Plan) -> list[int]:
    """Indices of the unfinished tasks; finished ones get an ok row and their scores."""
    labels = foreground_labels(plan.labels)
    todo = []
    for i, task in enumerate(tasks):
        mask = mask_path(job.out, task.case_id)
        if not mask.exists():
            todo.append(i)
            continue
        has_scores = task.case_id in book.metrics
        if book.is_ok(task.case_id) and (has_scores or not job.metrics):
            continue
        rows: list[dict[str, Any]] = []
        lpath = label_path(Path(job.dataset), task.case_id, task.split)
        if job.metrics and lpath.exists():  # killed between the mask and the books
            pred = np.asarray(load_image(mask).array)
            rows = class_metric_rows(task.case_id, pred, load_image(lpath), labels, METRICS)
        old = book.status.get(task.case_id, {})
        secs = float(old["seconds"]) if book.is_ok(task.case_id) and old.get("seconds") else 0.0
        book.record(CaseResult(task.case_id, "ok", "", secs, rows), write=False)
    book.write()
    return todo


def _init_worker(job: CohortJob) -> None:
    global _RUNNER
    _RUNNER = CaseRunner(job)


def _run_in_worker(task: CaseTask) -> CaseResult:
    assert _RUNNER is not None, "worker initialiser did not run"
    return _RUNNER.run(task)


_RUNNER: CaseRunner | None = None


def run_local(job: CohortJob, tasks: Sequence[CaseTask], workers: int, on_result: OnResult) -> None:
    """Run ``tasks`` here (1 worker) or in ``workers`` spawned processes."""
    if workers == 1:
        threads = torch.get_num_threads()
        try:
            runner = CaseRunner(job)
            for task in tasks:
                on_result(runner.run(task))
        finally:
            torch.set_num_threads(threads)  # this process's own setting, as it was
        return
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(job,))
    try:
        futures = [pool.submit(_run_in_worker, t) for t in tasks]
        for fut in as_completed(futures):
            on_result(fut.result())
    except BrokenProcessPool as exc:
        raise RuntimeError(
            "a worker process died (out of memory, or the model failed to load): "
            "run the command again to resume"
        ) from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _engine(engine: str, address: str | None) -> Callable[..., None]:
    if engine not in ENGINES:
        raise CohortError(f"--engine: expected one of {list(ENGINES)}, got {engine!r}")
    if engine == "local":
        if address:
            raise CohortError("--address joins a Ray cluster: use it with --engine ray")
        return run_local
    from oncoseg.batch.ray_engine import run_ray

    return lambda job, tasks, workers, on_result: run_ray(job, tasks, workers, on_result, address)


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
    )


def run_cohort(
    job: CohortJob,
    *,
    engine: str = "local",
    workers: int = 1,
    address: str | None = None,
    console: Console | None = None,
) -> RunRecord:
    """Predict every unfinished case of ``job``; returns this run's record.

    Raises:
        CohortError: bad options, dataset, model or output folder (nothing is written), or
            another run holds the output folder's lock.
    """
    if workers < 1:
        raise CohortError(f"--workers: expected 1 or more, got {workers}")
    run_engine = _engine(engine, address)
    tasks = list_tasks(job.dataset, job.split)
    plan = check_model(job)
    out = Path(job.out)
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise CohortError(f"{out}: another predict-cohort run is writing here") from exc
    try:
        return _run_locked(job, tasks, plan, run_engine, engine, workers, console)
    finally:
        lock.release()


def _run_locked(
    job: CohortJob,
    tasks: list[CaseTask],
    plan: Plan,
    run_engine: Callable[..., None],
    engine: str,
    workers: int,
    console: Console | None,
) -> RunRecord:
    out = Path(job.out)
    runs = _read_runs(out, job)
    _remove_leftovers(out)
    book = StatusBook(out, [t.case_id for t in tasks])
    todo = [tasks[i] for i in _reconcile(job, tasks, book, plan)]
    skipped = len(tasks) - len(todo)
    log.info("%d cases: %d finished before, %d to run", len(tasks), skipped, len(todo))
    rec = RunRecord(engine, workers, job.threads, len(tasks), skipped, 0, 0, 0.0, 0.0)
    t0 = time.perf_counter()
    with _progress(console) as bar:
        bar_task = bar.add_task("predict", total=len(tasks), completed=skipped, info="")

        def on_result(result: CaseResult) -> None:
            book.record(result)
            rec.add(result, time.perf_counter() - t0)
            if result.status == "failed":
                log.warning("%s failed: %s", result.case_id, result.error)
            bar.update(bar_task, advance=1, info=f"ok {rec.ok} failed {rec.failed}")

        try:
            if todo:
                run_engine(job, todo, min(workers, len(todo)), on_result)
        finally:
            rec.seconds = time.perf_counter() - t0
            doc = {"job": _identity(job), "runs": [*runs, rec.to_json()]}
            write_json(out / "cohort.json", doc)
    for name, dice in book.mean_dice().items():
        log.info("mean Dice %s: %.3f", name, dice)
    return rec
