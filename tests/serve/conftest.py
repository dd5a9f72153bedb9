"""Fixtures of the service tests: a stand-in model, a tiny trained run, a running server."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from oncoseg.io.image import Image

_NODE_POSITIVE = re.compile(r"\bN[1-3]", re.I)


class _Plan:
    channel_names = {"0": "CT"}
    labels = {"background": 0, "ctv": 1}


class StandInModel:
    """A rule-based segmenter with the Predictor's interface, for tests of the service itself.

    The contour is a block in the patient's left anterior quadrant ("breast"), plus a block
    above it ("nodes") when the note names N1-N3: so N2 -> N0 shrinks the volume, as the
    review page test needs, without depending on what a tiny trained model learnt. It records
    every note it is given, and ``gate`` (when set) holds each job until released.
    """

    uses_text = True
    plan = _Plan()

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.gate: threading.Event | None = None
        self.started = threading.Semaphore(0)

    def predict(self, images: Sequence[Image], note: str = "", note_source: str = "") -> Image:
        self.notes.append(note)
        self.started.release()
        if self.gate is not None:
            assert self.gate.wait(60), "test never released the stand-in model"
        ni, nj, nk = images[0].shape
        mask = np.zeros((ni, nj, nk), np.uint8)
        mask[ni // 2 : ni // 2 + ni // 4, nj // 4 : nj // 2, nk // 4 : nk // 2] = 1
        if _NODE_POSITIVE.search(note):
            mask[ni // 2 : ni // 2 + ni // 4, nj // 4 : nj // 2, nk // 2 : 3 * nk // 4] = 1
        return Image(mask, images[0].affine.copy())


@pytest.fixture
def stand_in() -> StandInModel:
    return StandInModel()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``serve(model, **create_app_kwargs) -> base URL`` of a running service on loopback;
    every server started is stopped at the end of the test."""
    from contextlib import ExitStack

    from oncoseg.serve.app import create_app
    from oncoseg.serve.server import BackgroundServer

    with ExitStack() as stack:

        def start(model: object, data: Path | None = None, **kwargs: object) -> str:
            app = create_app(model, data or tmp_path / "data", **kwargs)  # type: ignore[arg-type]
            return stack.enter_context(BackgroundServer(app)).url

        yield start
