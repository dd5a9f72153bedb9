"""``Predictor``: one object shared by the CLI and the service to segment a case.

``Predictor.from_run(run_dir)`` rebuilds the model from the run's ``config.yaml``,
``plan.json`` and checkpoint. ``predict(images, note)`` reorients to the model's voxel
order, normalises, resamples to the training spacing (when training resampled:
``data.spacing`` set), runs sliding-window inference with
the note's context computed once, resamples the class probabilities back, labels them
(argmax, or the run's ``infer.threshold`` on the foreground probability: :func:`to_labels`)
and undoes the reorientation: the mask has the input's exact grid (shape, spacing, origin,
direction).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oncoseg.data.normalize import normalize_channels
from oncoseg.data.resample import resampled_shape, resize
from oncoseg.infer.checkpoint import load_checkpoint, restore_model
from oncoseg.infer.config import RunConfig, load_config
from oncoseg.infer.device import native_bf16, pick_device
from oncoseg.infer.plan import Plan
from oncoseg.infer.postprocess import keep_largest, read_choice
from oncoseg.io.image import Image, same_geometry
from oncoseg.io.image_rules import check_image
from oncoseg.io.orientation import (
    OrientTransform,
    from_orientation,
    spacing_in_orientation,
    to_orientation,
)
from oncoseg.models.multimodal import NoteGuidedSegmenter, build_model
from oncoseg.models.sliding import segment_volume
from oncoseg.text.factory import build_text_encoder
from oncoseg.text.note_length import fit_note
from oncoseg.text.readers import NoteReading, get_reader


def to_labels(probs: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Label map (uint8) from class probabilities (K, *shape), class 0 the background.

    ``threshold`` None: the most probable class. Otherwise a voxel is foreground when
    1 - P(background) exceeds ``threshold`` and takes its most probable foreground class.
    """
    if threshold is None:
        return _argmax(probs)
    labels = _argmax(probs[1:]) + np.uint8(1)
    labels[1.0 - probs[0] <= threshold] = 0
    return labels


def _argmax(probs: np.ndarray) -> np.ndarray:
    """``probs.argmax(axis=0)`` as uint8 (the first class wins a tie), one class at a time:
    numpy's argmax over the leading axis of a CT-size volume walks it with a stride."""
    labels = np.zeros(probs.shape[1:], dtype=np.uint8)
    best = probs[0]
    for c in range(1, len(probs)):
        better = probs[c] > best
        labels[better] = c
        if c + 1 < len(probs):
            best = np.where(better, probs[c], best)
    return labels


class Predictor:
    """Segments cases with a trained run."""

    def __init__(
        self, model: NoteGuidedSegmenter, cfg: RunConfig, plan: Plan, device: torch.device
    ) -> None:
        self.model, self.cfg, self.plan, self.device = model.eval(), cfg, plan, device

    @classmethod
    def from_run(
        cls,
        run_dir: str | os.PathLike[str],
        checkpoint: str = "best",
        device: str = "auto",
        infer: list[str] | None = None,
    ) -> Predictor:
        """The run's model; ``infer`` overrides its prediction settings, e.g.
        ``["infer.threshold=0.4"]`` (other sections are refused: they shaped the weights)."""
        run = Path(run_dir)
        bad = [o for o in infer or [] if not o.startswith("infer.")]
        if bad:
            raise ValueError(f"only infer.* settings can change at prediction time, got {bad}")
        cfg = load_config(run / "config.yaml", infer)
        plan = Plan.read(run / "plan.json")
        if cfg.infer.largest_component is None:  # the run's choice, made on validation
            cfg.infer.largest_component = read_choice(run) or ()
        classes = set(plan.labels.values()) - {0}
        unknown = set(cfg.infer.largest_component) - classes
        if unknown:
            raise ValueError(
                f"{run}: infer.largest_component names classes {sorted(unknown)} the model "
                f"does not have (its foreground classes: {sorted(classes)})"
            )
        dev = pick_device(device)
        text = build_text_encoder(cfg.text) if cfg.model.fusion != "none" else None
        model = build_model(cfg.model, text, note_reader=get_reader(cfg.text.reader)).to(dev)
        ckpt_path = run / f"{checkpoint}.pt"
        restore_model(model, load_checkpoint(ckpt_path)["model"], str(ckpt_path))
        return cls(model, cfg, plan, dev)

    @property
    def uses_text(self) -> bool:
        return self.model.uses_text

    @property
    def threshold(self) -> float | None:
        """The foreground threshold :meth:`predict` applies (None: argmax)."""
        return self.cfg.infer.threshold

    def read_note(self, note: str) -> NoteReading | None:
        """What the run's note reader (``text.reader``) reads in ``note``: the fields the
        model is given, and the words that decided them; None without a reader."""
        reader = self.model.note_reader
        return reader(note) if reader is not None and note else None

    def predict(self, images: Sequence[Image], note: str = "", note_source: str = "note") -> Image:
        """Label map (uint8) on the grid of ``images[0]``.

        ``note_source`` names the note (its file) in the warning given when the note is
        longer than the model reads.
        """
        probs, t, ref = self._oriented_proba(images, note, note_source)
        labels = to_labels(probs, self.threshold)  # before un-orienting: a quarter the bytes
        if self.cfg.infer.largest_component:
            labels = keep_largest(labels, self.cfg.infer.largest_component)
        return Image(from_orientation(labels, t), ref.affine.copy())

    def predict_proba(
        self, images: Sequence[Image], note: str = "", note_source: str = "note"
    ) -> tuple[np.ndarray, Image]:
        """Class probabilities (K, *shape) on the grid of ``images[0]``, and that image."""
        probs, t, ref = self._oriented_proba(images, note, note_source)
        return from_orientation(probs, t), ref

    def _oriented_proba(
        self, images: Sequence[Image], note: str, note_source: str
    ) -> tuple[np.ndarray, OrientTransform, Image]:
        """Probabilities (K, *shape) in the model's orientation, the transform back to
        ``images[0]``'s, and that image."""
        self._check(images)
        if self.uses_text:
            note = fit_note(self.model.text_encoder, note, note_source)
        ref = images[0]
        arrays, t = [], None
        for img in images:
            arr, t = to_orientation(np.asarray(img.array), ref.affine)
            arrays.append(arr)
        assert t is not None
        x = torch.as_tensor(normalize_channels(arrays, self._modalities()))[None].to(self.device)
        shape = tuple(x.shape[2:])
        spacing = spacing_in_orientation(ref.affine, t)
        # a run with data.spacing resampled every training case to the plan's spacing; one
        # without read each at its own, and so does this, unless the input's spacing is far
        # from every training case's (a 0.8 mm scanner grid for a 5 mm model): then the
        # model works at its median training spacing, in millimetres, not voxels, and the
        # input is smoothed before it shrinks (its training cases were never resampled; a
        # data.spacing run's were, without smoothing, and its inputs are treated the same)
        if self.cfg.data.spacing or self.plan.resample_needed(spacing):
            size = resampled_shape(shape, spacing, self.plan.target_spacing)
            x = resize(x, size, antialias=not self.cfg.data.spacing)
        with torch.no_grad():
            p = segment_volume(
                self.model,
                x,
                note if self.uses_text else None,
                roi_size=self.plan.patch_size,
                bf16=self.cfg.train.bf16 and native_bf16(self.device),
                sw_batch_size=max(2, self.cfg.train.sw_batch_size),
            )
            p = resize(p.float(), shape)
        return self.rule_out(p[0].cpu().numpy(), note), t, ref

    def rule_out(self, probs: np.ndarray, note: str) -> np.ndarray:
        """``probs`` with the classes the note rules out (its reading's ``absent``, e.g. a
        target that is not prescribed) at probability 0 and the rest renormalised, so they
        come out empty with or without ``infer.threshold`` and their voxels go to the
        likeliest other class (in place; ``probs`` is (K, *shape))."""
        reading = self.read_note(note) if self.uses_text else None
        if reading is None or not reading.absent:
            return probs
        out = [int(self.plan.labels.get(n, 0)) for n in reading.absent]
        out = [v for v in out if 0 < v < probs.shape[0]]
        if out:
            probs[out] = 0.0
            np.divide(probs, np.maximum(probs.sum(axis=0, keepdims=True), 1e-12), out=probs)
        return probs

    def _modalities(self) -> list[str]:
        names = self.plan.channel_names
        return [names[str(c)] for c in range(len(names))]

    def _check(self, images: Sequence[Image]) -> None:
        """The channel count, the image rules of :mod:`oncoseg.io.image_rules` on every channel
        (an in-memory image may never have been through :func:`~oncoseg.io.image.load_image`),
        and one grid for all channels."""
        n = len(self.plan.channel_names)
        if len(images) != n:
            raise ValueError(
                f"this model needs {n} channel(s) "
                f"({', '.join(self._modalities())}), got {len(images)}"
            )
        for i, img in enumerate(images):
            check_image(img.array, img.affine, img.source or f"channel {i}")
        for i, img in enumerate(images[1:], start=1):
            if not same_geometry(img, images[0]):
                raise ValueError(
                    f"{img.source or f'channel {i}'}: grid differs from channel 0's "
                    f"(shape {img.shape} vs {images[0].shape}), expected one grid for all"
                )


def describe(predictor: Predictor) -> dict[str, Any]:
    return {
        "fusion": predictor.cfg.model.fusion,
        "preset": predictor.cfg.model.preset,
        "text": predictor.cfg.text.encoder if predictor.uses_text else "none",
        "threshold": predictor.threshold,
        "largest_component": list(predictor.cfg.infer.largest_component or ()),
    }
