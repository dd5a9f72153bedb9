"""Training with the classes a note rules out (``train.rule_out``).

A head-and-neck prescription decides which targets exist: a patient prescribed 70 and 56 Gy
has no PTV63, whatever the CT looks like. The predictor gives a class the note rules out no
probability (:meth:`oncoseg.infer.predictor.Predictor.rule_out`); with ``train.rule_out`` the
loss does the same, so the model chooses only among the classes each note allows. A target is
then learnt from the patients whose note prescribes it, and nothing teaches the model to leave
it out where the image alone cannot tell: that is the note's part.

Example:
    >>> import torch
    >>> logits = torch.zeros(1, 3, 2, 2, 2)
    >>> out = mask_logits(logits, torch.tensor([[False, False, True]]))
    >>> [round(float(p), 3) for p in torch.softmax(out, 1)[0, :, 0, 0, 0]]
    [0.5, 0.5, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from oncoseg.infer.config import RunConfig
from oncoseg.text.readers import NoteReader

# a ruled-out logit sits this far below the largest one: softmax gives it e^-40 (~4e-18)
_BELOW = 40.0


class RuledOut:
    """Which classes each note rules out, as a B x K boolean tensor (``None`` when no note of
    the batch rules out anything). Each distinct note is read once."""

    def __init__(self, reader: NoteReader, labels: Mapping[str, int], num_classes: int) -> None:
        self.reader, self.labels, self.k = reader, dict(labels), num_classes
        self._seen: dict[str, tuple[int, ...]] = {}

    @classmethod
    def for_run(
        cls, cfg: RunConfig, reader: NoteReader | None, labels: Mapping[str, int]
    ) -> RuledOut | None:
        """The run's, where ``train.rule_out`` asks for it (the config checks the reader)."""
        if not cfg.train.rule_out or reader is None:
            return None
        return cls(reader, labels, cfg.model.out_channels)

    def classes(self, note: str) -> tuple[int, ...]:
        """The label values ``note`` rules out (never background)."""
        if note not in self._seen:
            absent = self.reader(note).absent if note else ()
            values = (self.labels.get(name, 0) for name in absent)
            self._seen[note] = tuple(sorted(v for v in values if 0 < v < self.k))
        return self._seen[note]

    def __call__(self, notes: Sequence[str]) -> torch.Tensor | None:
        out = torch.zeros(len(notes), self.k, dtype=torch.bool)
        for i, note in enumerate(notes):
            out[i, list(self.classes(note))] = True
        return out if bool(out.any()) else None


def mask_logits(logits: Any, absent: torch.Tensor) -> Any:
    """``logits`` (B x K x ..., or a deep-supervision list of them) in fp32 with each sample's
    ruled-out classes (``absent``, B x K) pushed far below its other classes: softmax gives
    them no probability and no gradient flows into them."""
    if isinstance(logits, list):
        return [mask_logits(x, absent) for x in logits]
    x = logits.float()
    view = absent.to(x.device).view(*absent.shape, *([1] * (x.ndim - 2)))
    floor = x.detach().amax(dim=1, keepdim=True) - _BELOW
    return torch.where(view, floor, x)


def zero_ruled_out(probs: torch.Tensor, absent: torch.Tensor | None) -> torch.Tensor:
    """Class probabilities (B x K x ...) with ``absent`` classes at 0, the rest renormalised
    (what the predictor does before labels are taken)."""
    if absent is None:
        return probs
    view = absent.to(probs.device).view(*absent.shape, *([1] * (probs.ndim - 2)))
    probs = probs.masked_fill(view, 0.0)
    return probs / probs.sum(dim=1, keepdim=True).clamp_min(1e-12)
