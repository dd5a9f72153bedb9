"""A bounded job queue with one worker thread (the model is loaded once and used serially).

``submit`` refuses with :class:`QueueFull` once ``max_queue`` jobs are waiting (the running
job does not count), so a burst of requests gets a quick 503 instead of an ever-growing
backlog. Every status change is written to the store before it is visible, so a job a client
saw as done stays done after a restart. Jobs that were queued or running when the service
stopped are **re-queued** when it starts again (their inputs are on disk and results are
written atomically, so running one twice is harmless); they are taken before new requests.

Example:
    >>> import tempfile
    >>> from oncoseg.serve.store import Store
    >>> q = JobQueue(Store(Path(tempfile.mkdtemp())), lambda job: {"ok": True}, max_queue=2)
    >>> q.start()
    >>> job = q.submit("0" * 32, "N0")
    >>> q.wait(job.job_id, timeout=5).status
    'done'
    >>> q.stop()
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oncoseg.serve.store import Job, Store, new_id

log = logging.getLogger(__name__)

Runner = Callable[[Job], dict[str, Any]]


class QueueFull(RuntimeError):
    """``max_queue`` jobs are already waiting; ``retry_after`` is a guess in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the job queue is full; retry in about {retry_after} s")
        self.retry_after = retry_after


class JobQueue:
    """Runs jobs one at a time on a worker thread; at most ``max_queue`` wait."""

    def __init__(self, store: Store, run: Runner, max_queue: int = 16) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue: expected at least 1, got {max_queue}")
        self.store, self.run, self.max_queue = store, run, max_queue
        self._pending: deque[str] = deque()
        self._jobs: dict[str, Job] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._seconds: deque[float] = deque(maxlen=20)  # recent job durations

    def start(self) -> None:
        """Re-queue jobs left queued or running by the last run, then start the worker."""
        for job in self.store.jobs():
            self._jobs[job.job_id] = job
            if job.status in ("queued", "running"):
                job.status, job.started = "queued", None
                self.store.save_job(job)
                self._pending.append(job.job_id)
        if self._pending:
            log.info("re-queued %d job(s) left unfinished by the last run", len(self._pending))
        self._thread = threading.Thread(target=self._work, name="oncoseg-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Finish the running job (up to ``timeout`` s); waiting jobs stay queued on disk."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, case_id: str, note: str, explain: bool = False) -> Job:
        """Queue a job for ``case_id`` with a de-identified ``note``; raises QueueFull.
        ``explain``: the job also attributes the contour to the note's clauses."""
        with self._cond:
            if len(self._pending) >= self.max_queue:
                raise QueueFull(self._retry_after())
            job = Job(new_id(), case_id, note, explain)
            self.store.save_job(job)
            self._jobs[job.job_id] = job
            self._pending.append(job.job_id)
            self._cond.notify_all()
        log.info("job %s queued for case %s (%d waiting)", job.job_id, case_id, self.waiting)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            return self._jobs.get(job_id)

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def wait(self, job_id: str, timeout: float) -> Job:
        """Block until the job is done or failed (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs[job_id].status not in ("done", "failed"):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"job {job_id} not finished after {timeout} s")
                self._cond.wait(left)
            return self._jobs[job_id]

    def _retry_after(self) -> int:
        per_job = sum(self._seconds) / len(self._seconds) if self._seconds else 5.0
        return max(1, math.ceil(per_job * (len(self._pending) + 1)))

    def _next(self) -> Job | None:
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            job = self._jobs[self._pending.popleft()]
            job.status, job.started = "running", time.time()
            self.store.save_job(job)
            return job

    def _work(self) -> None:
        while (job := self._next()) is not None:
            t0 = time.perf_counter()
            try:
                result, error = self.run(job), None
            except Exception as exc:  # a failed job must not stop the worker
                result, error = None, _one_line(exc)
                log.warning("job %s failed: %s", job.job_id, type(exc).__name__)
                log.debug("job %s", job.job_id, exc_info=True)
            with self._cond:
                self._seconds.append(time.perf_counter() - t0)
                job.status = "done" if error is None else "failed"
                job.result, job.error, job.finished = result, error, time.time()
                self.store.save_job(job)
                self._cond.notify_all()
            log.info("job %s %s in %.2f s", job.job_id, job.status, time.perf_counter() - t0)


def _one_line(exc: BaseException) -> str:
    """The error a client sees: its type and first line, without local file paths."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.replace(str(Path.cwd()), ".")
