"""One cohort case on a worker: read it, predict (:func:`oncoseg.infer.pipeline.run_prediction`),
score it against its label (:func:`oncoseg.eval.evaluate.class_metric_rows`), write the mask.

:class:`CaseRunner` holds one :class:`~oncoseg.infer.Predictor`, loaded once per worker
process (local engine) or per actor (Ray engine); every engine calls :meth:`CaseRunner.run`.
A case's failure is caught and returned as a ``failed`` result with a one-line error, so
one bad case never stops a cohort. The note goes only to the predictor, whose text encoder
de-identifies it (``text.deid``, on by default); it is never logged nor written.

Example:
    >>> job = CohortJob(model="runs/m", dataset="data/ds", out="out")  # doctest: +SKIP
    >>> CaseRunner(job).run(CaseTask("bctv_int_0000", "Ts")).status  # doctest: +SKIP
    'ok'
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oncoseg.data.dataset import image_path, label_path, note_path, read_info
from oncoseg.eval.evaluate import class_metric_rows, foreground_labels
from oncoseg.infer import Predictor
from oncoseg.infer.pipeline import run_prediction
from oncoseg.io.image import load_image, save_image

MASKS = "masks"
METRICS = ("dice", "iou", "hd95")
ERROR_CHARS = 300


@dataclass(frozen=True)
class CohortJob:
    """What every worker needs to run cases (plain values: it is pickled to workers)."""

    model: str  # training run folder
    dataset: str  # oncoseg/nnU-Net dataset folder
    out: str  # output folder (shared by every worker)
    split: str = "test"  # test (imagesTs) | all (imagesTr + imagesTs)
    checkpoint: str = "best"  # <model>/<checkpoint>.pt
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 1  # torch threads per worker
    metrics: bool = True  # score cases that have a label


@dataclass(frozen=True)
class CaseTask:
    """One case of the dataset: its id and the dataset split it lives in (Tr | Ts)."""

    case_id: str
    split: str


@dataclass
class CaseResult:
    """What a worker reports for one case; ``metrics`` holds one row per foreground class."""

    case_id: str
    status: str  # ok | failed
    error: str = ""
    seconds: float = 0.0  # wall time on the worker
    metrics: list[dict[str, Any]] = field(default_factory=list)
    cpu_seconds: float = 0.0  # CPU time of the worker process (all its threads)


def mask_path(out: str | Path, case_id: str) -> Path:
    """Where the mask of ``case_id`` lives once the case is finished."""
    return Path(out) / MASKS / f"{case_id}.nii.gz"


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message``, at most ``ERROR_CHARS`` characters."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 3] + "..."


class CaseRunner:
    """A worker's predictor and the loop body of a cohort run."""

    def __init__(self, job: CohortJob) -> None:
        torch.set_num_threads(max(1, job.threads))
        self.job = job
        self.predictor = Predictor.from_run(job.model, checkpoint=job.checkpoint, device=job.device)
        self.channels = read_info(job.dataset).num_channels
        self.labels = foreground_labels(self.predictor.plan.labels)

    def run(self, task: CaseTask) -> CaseResult:
        """Predict one case; a failure becomes a ``failed`` result, never an exception."""
        t0, c0 = time.perf_counter(), time.process_time()
        status, error, rows = "ok", "", []
        try:
            rows = self._predict(task)
        except Exception as exc:  # one case's failure never stops the cohort
            status, error = "failed", one_line(exc)
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        return CaseResult(task.case_id, status, error, secs, rows, cpu)

    def _predict(self, task: CaseTask) -> list[dict[str, Any]]:
        """Scores are computed before the mask is written: a finished case has both."""
        root = Path(self.job.dataset)
        cid, split = task.case_id, task.split
        images = [load_image(image_path(root, cid, c, split)) for c in range(self.channels)]
        note = ""
        if self.predictor.uses_text:
            note = note_path(root, cid, split).read_text(encoding="utf-8")
        # no files from the pipeline: the mask is written last, once its scores exist; no side
        # check, which no one reads here and which costs a pass over a full-size CT
        mask = run_prediction(self.predictor, images, note=note, formats=(), side_check=False).mask
        rows: list[dict[str, Any]] = []
        lpath = label_path(root, cid, split)
        if self.job.metrics and lpath.exists():
            pred = np.asarray(mask.array)
            rows = class_metric_rows(cid, pred, load_image(lpath), self.labels, METRICS)
        save_image(mask, mask_path(self.job.out, cid))
        return rows
