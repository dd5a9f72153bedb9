"""CPU threads of a training run: ``train.threads`` for its first ``train.threads_epochs``.

Two trainings side by side on a small CPU each run best on a core of their own (PyTorch's
2-thread kernels on 64³ batches gain less than 2x), and the one still running when the
other ends should take every core again. An experiment that trains its models at once
(``ExperimentConfig.side_by_side``) writes that schedule into each run's config, so a run
is the same computation however it is started: its thread count at each epoch is part of
its recipe (the count changes the order of float reductions), not of the machine's timing.

Example:
    >>> from oncoseg.infer.config import TrainConfig
    >>> with epoch_threads(TrainConfig(threads=1, threads_epochs=2)) as at:
    ...     at(0)
    ...     torch.get_num_threads()
    1
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from oncoseg.infer.config import TrainConfig


@contextmanager
def epoch_threads(cfg: TrainConfig) -> Iterator[Callable[[int], None]]:
    """A function that sets the threads for an epoch; the count in force before is restored
    on leaving (the process goes on, e.g. to evaluate, with every core)."""
    default = torch.get_num_threads()

    def at(epoch: int) -> None:
        scheduled = cfg.threads > 0 and (cfg.threads_epochs == 0 or epoch < cfg.threads_epochs)
        n = cfg.threads if scheduled else default
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)

    try:
        yield at
    finally:
        torch.set_num_threads(default)
