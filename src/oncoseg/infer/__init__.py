"""Inference: a training run folder -> masks in the input's exact geometry.

Imports no training code (no training loop, DDP, losses, phantom tasks or plotting):
``oncoseg.infer.config`` reads a run's ``config.yaml``, ``oncoseg.infer.checkpoint`` its
weights, ``oncoseg.infer.plan`` its ``plan.json``; :class:`Predictor` is the one object the
CLI, the service and cohort runs share.

Example:
    >>> from oncoseg.infer import Predictor
    >>> predictor = Predictor.from_run("runs/demo/multimodal")  # doctest: +SKIP
    >>> mask = predictor.predict([ct], note)  # doctest: +SKIP
"""

from __future__ import annotations

from oncoseg.infer.plan import Plan
from oncoseg.infer.predictor import Predictor, describe, to_labels

__all__ = ["Plan", "Predictor", "describe", "to_labels"]
