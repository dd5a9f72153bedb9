"""Which clauses of the note moved the contour: occlusion, one clause at a time.

Faithful by construction: each clause of the de-identified note is neutralised
(:func:`oncoseg.text.clauses.neutralise`, ``filler`` by default, ``remove`` on request),
the case is predicted again with the same :class:`~oncoseg.infer.Predictor`, and the
clause's effect is what changed: voxels added to and removed from the contour (ml),
relabelled between classes, the changed voxels' centroid (world mm, RAS) and bounding box,
the summed change of the foreground probability (``soft_ml``: it also moves when no voxel
flips), and, given a region map, the changed ml in each named region.

Why ``filler`` is the default: the cached LM text path keeps the states of the note's
first tokens *by position*; cutting a clause shifts every later clause into other
positions, so its effect would mix the clause's meaning with the shift. Replacing its words
by as many ``unknown`` words keeps the note's shape. ``remove`` is the plainer question
("what if the note did not say it") and is offered beside it.

Cost: the image does not depend on the note, so all variants of a case run together. For
each sliding window the U-Net's first encoder block (before any fusion) runs once, and the
rest runs once per variant in one batch, each variant with its own context; the context of
every variant comes from one call of the text encoder (frozen note states are cached).
``predict_proba``'s own preparation (orientation, normalisation, resampling) is reused by
handing it a stand-in model, so the base contour equals :meth:`Predictor.predict`'s.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from oncoseg.infer.predictor import Predictor, to_labels
from oncoseg.io.atomic import write_json
from oncoseg.io.image import Image, save_image
from oncoseg.models.multimodal import NoteGuidedSegmenter
from oncoseg.text.clauses import MODES, Clause, neutralise, split_clauses
from oncoseg.text.encoders import prepare_note
from oncoseg.text.note_length import fit_note
from oncoseg.text.readers import NoteReading

log = logging.getLogger(__name__)

MAX_VARIANTS = 8  # note variants per batched pass (memory grows with it)
# auto: contrast where the model's note reader offers each field's values, else filler
EXPLAIN_MODES = (*MODES, "contrast", "auto")


@dataclass
class ClauseEffect:
    """What neutralising one clause changed in the contour."""

    index: int
    start: int
    end: int
    text: str
    added_ml: float = 0.0
    removed_ml: float = 0.0
    relabelled_ml: float = 0.0
    soft_ml: float = 0.0  # sum over voxels of |change of P(foreground)| x voxel volume
    centroid_mm: list[float] | None = None  # of the changed voxels, world RAS
    bbox: list[list[int]] | None = None  # [[i0, j0, k0], [i1, j1, k1]] inclusive, voxels
    regions_ml: dict[str, float] = field(default_factory=dict)
    # mode contrast: the edit whose effect this is ("side: left -> right"; "removed" for a
    # clause that decides no field the reader can edit)
    edit: str = ""

    @property
    def changed_ml(self) -> float:
        return self.added_ml + self.removed_ml + self.relabelled_ml


@dataclass
class Explanation:
    """Per-clause effects on one case; ``changed`` holds each clause's changed-voxel mask
    (bool, the input grid) and is not part of :meth:`to_json`."""

    note: str  # the de-identified note the offsets index
    mode: str
    reads_note: bool
    base_ml: float
    effects: list[ClauseEffect]
    seconds: float
    changed: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def top(self) -> int | None:
        """Index of the clause with the largest effect (changed ml, then soft ml), or None
        when no clause changed anything."""
        if not self.effects:
            return None
        best = max(self.effects, key=lambda e: (e.changed_ml, e.soft_ml))
        return best.index if best.changed_ml > 0 or best.soft_ml > 0 else None

    def to_json(self) -> dict[str, Any]:
        effects = [{**asdict(e), "changed_ml": e.changed_ml} for e in self.effects]
        return {
            "note": self.note,
            "mode": self.mode,
            "reads_note": self.reads_note,
            "base_ml": self.base_ml,
            "top_clause": self.top,
            "seconds": self.seconds,
            "clauses": effects,
        }

    def bitmask(self) -> np.ndarray:
        """One uint32 volume: bit ``i`` set where clause ``i`` changed the voxel (clauses
        past the 32nd are left out)."""
        shape = self.changed[0].shape if self.changed else (0, 0, 0)
        out = np.zeros(shape, np.uint32)
        for i, m in enumerate(self.changed[:32]):
            out[m] |= np.uint32(1 << i)
        return out


class _Once(nn.Module):
    """A note-independent block run once on the first of ``copies`` stacked copies of its
    input, its output repeated: (copies * b, C, ...) -> (copies * b, C', ...)."""

    def __init__(self, block: nn.Module, copies: int) -> None:
        super().__init__()
        self.block, self.copies = block, copies

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0] // self.copies
        y = self.block(x[:b])
        return y.repeat(self.copies, *([1] * (y.dim() - 1)))


class _VariantUNet(nn.Module):
    """The U-Net run on each window once per context: (b, C, ...) -> (b, V * K, ...), each
    variant's K channels log-softmaxed (so a softmax over all V * K channels, renormalised
    per variant, is that variant's own softmax)."""

    def __init__(self, unet: nn.Module, contexts: Tensor) -> None:
        super().__init__()
        self.contexts = contexts  # V x N x Dt
        self.divisor = unet.divisor
        shared = copy.copy(unet)  # the same parameters; only the encoder list differs
        shared._modules = dict(unet._modules)
        encoder = list(unet.encoder)  # type: ignore[arg-type]
        blocks = [_Once(encoder[0], len(contexts)), *encoder[1:]]
        shared._modules["encoder"] = nn.ModuleList(blocks)
        self.shared = shared

    def forward(self, x: Tensor, context: Tensor | None = None) -> Tensor:
        v, b = len(self.contexts), x.shape[0]
        xs = x.repeat(v, *([1] * (x.dim() - 1)))  # (V * b) x C x D x H x W, variant-major
        ctx = self.contexts.to(x.dtype).repeat_interleave(b, dim=0)  # (V * b) x N x Dt
        logits = torch.log_softmax(self.shared(xs, ctx).float(), dim=1)  # (V * b) x K x ...
        k = logits.shape[1]
        out = logits.reshape(v, b, k, *logits.shape[2:]).transpose(0, 1)  # b x V x K x ...
        return out.reshape(b, v * k, *logits.shape[2:])


class _VariantModel(nn.Module):
    """Stands in for the segmenter inside :meth:`Predictor.predict_proba`."""

    uses_text = True
    note_reader = None  # what a note rules out is applied per variant (variant_probs)

    def __init__(self, model: NoteGuidedSegmenter, contexts: Tensor) -> None:
        super().__init__()
        self.text_encoder = model.text_encoder
        self.unet = _VariantUNet(model.unet, contexts)

    def encode_notes(self, notes: Sequence[str]) -> Tensor:
        return self.unet.contexts.new_zeros(1, 1, 1)  # unused: the U-Net holds the contexts


def variant_probs(
    predictor: Predictor, images: Sequence[Image], notes: Sequence[str]
) -> np.ndarray:
    """Class probabilities (V, K, *shape) of the case under each of ``notes``, on the grid of
    ``images[0]``, in batched passes of at most :data:`MAX_VARIANTS` notes (a model that
    does not read the note: one pass, the same probabilities for every note)."""
    if not predictor.uses_text:
        p, _ = predictor.predict_proba(images)
        return np.broadcast_to(p, (len(notes), *p.shape))
    model = predictor.model
    out = []
    for i in range(0, len(notes), MAX_VARIANTS):
        # each note cut to what the model reads, as predict_proba does for one note
        chunk = [fit_note(model.text_encoder, n, "note") for n in notes[i : i + MAX_VARIANTS]]
        with torch.no_grad():
            contexts = model.encode_notes(chunk)
        assert contexts is not None
        stand_in = copy.copy(predictor)
        stand_in.model = _VariantModel(model, contexts)  # type: ignore[assignment]
        p, _ = stand_in.predict_proba(images, chunk[0])
        p = p.reshape(len(chunk), -1, *p.shape[1:])  # V x K x ...
        p = np.divide(p, np.maximum(p.sum(axis=1, keepdims=True), 1e-30), out=p)
        for j, note in enumerate(chunk):
            predictor.rule_out(p[j], note)  # each note's own ruled-out labels
        out.append(p)
    return out[0] if len(out) == 1 else np.concatenate(out)


def _effect(
    c: Clause,
    labels: tuple[np.ndarray, np.ndarray],
    fg: tuple[np.ndarray, np.ndarray],
    affine: np.ndarray,
    regions: tuple[np.ndarray, Mapping[str, int]] | None,
) -> tuple[ClauseEffect, np.ndarray]:
    """The effect of clause ``c``: ``labels`` and ``fg`` (foreground probability) are
    (base, variant) pairs."""
    (l0, l1), (f0, f1) = labels, fg
    ml = float(abs(np.linalg.det(affine[:3, :3]))) / 1000.0
    changed = l0 != l1
    e = ClauseEffect(c.index, c.start, c.end, c.text)
    e.added_ml = float(((l1 > 0) & (l0 == 0)).sum()) * ml
    e.removed_ml = float(((l0 > 0) & (l1 == 0)).sum()) * ml
    e.relabelled_ml = float((changed & (l0 > 0) & (l1 > 0)).sum()) * ml
    e.soft_ml = float(np.abs(f1 - f0).sum(dtype=np.float64)) * ml
    idx = np.argwhere(changed)
    if len(idx):
        centre = affine[:3, :3] @ idx.mean(axis=0) + affine[:3, 3]
        e.centroid_mm = [round(float(v), 1) for v in centre]
        e.bbox = [idx.min(axis=0).tolist(), idx.max(axis=0).tolist()]
    if regions is not None:
        rmap, names = regions
        e.regions_ml = {
            name: float((changed & (rmap == value)).sum()) * ml
            for name, value in names.items()
            if (changed & (rmap == value)).any()
        }
    return e, changed


def explain_note(
    predictor: Predictor,
    images: Sequence[Image],
    note: str,
    *,
    mode: str = "filler",
    regions: tuple[np.ndarray, Mapping[str, int]] | None = None,
    note_source: str = "note",
) -> Explanation:
    """The effect of each clause of ``note`` on the contour of ``images``.

    ``regions``: an optional region map on the grid of ``images[0]`` and its name -> value
    table; each effect then says how many changed ml lie in each region.
    """
    if mode not in EXPLAIN_MODES:
        raise ValueError(f"explain mode must be one of {EXPLAIN_MODES}, got {mode!r}")
    t0 = time.perf_counter()
    if not predictor.uses_text:
        mask = np.asarray(predictor.predict(images, note, note_source).array)
        ml = float(abs(np.linalg.det(images[0].affine[:3, :3]))) / 1000.0
        return Explanation("", mode, False, float((mask > 0).sum()) * ml, [], 0.0)
    encoder = predictor.model.text_encoder
    text = prepare_note(fit_note(encoder, note, note_source), bool(getattr(encoder, "deid", True)))
    reading = predictor.read_note(text) if mode in ("auto", "contrast") else None
    if mode == "auto":  # contrast where the reader can edit the fields
        editable = reading is not None and bool(reading.options) and reading.render is not None
        mode = "contrast" if editable else "filler"
    clauses = split_clauses(text)
    edits = _contrast_edits(predictor, reading, text, clauses) if mode == "contrast" else None
    per_clause = edits or [[("", neutralise(text, clauses, c.index, mode))] for c in clauses]
    # each distinct note once (an edited field stated by two clauses gives one note)
    notes = list(dict.fromkeys([text, *(n for e in per_clause for _, n in e)]))
    probs = variant_probs(predictor, images, notes)
    labels = [to_labels(p, predictor.threshold) for p in probs]
    fg = [1.0 - p[0] for p in probs]
    affine = images[0].affine
    effects, changed = [], []
    for c, clause_edits in zip(clauses, per_clause, strict=True):
        tried = []
        for label, note_k in clause_edits:  # the largest of the clause's edits
            k = notes.index(note_k)
            e, m = _effect(c, (labels[0], labels[k]), (fg[0], fg[k]), affine, regions)
            e.edit = label
            tried.append((e, m))
        e, m = max(tried, key=lambda t: (t[0].changed_ml, t[0].soft_ml))
        effects.append(e)
        changed.append(m)
    ml = float(abs(np.linalg.det(affine[:3, :3]))) / 1000.0
    seconds = round(time.perf_counter() - t0, 3)
    log.info("explained %d clauses in %.2f s", len(clauses), seconds)
    return Explanation(
        text, mode, True, float((labels[0] > 0).sum()) * ml, effects, seconds, changed
    )


explain = explain_note  # the short name, for Python callers


def _contrast_edits(
    predictor: Predictor, reading: NoteReading | None, text: str, clauses: Sequence[Clause]
) -> list[list[tuple[str, str]]]:
    """Per clause, ``(label, note)`` for each edit of what it says: every other value of each
    field the clause decides (the reader reads it differently once the clause is blanked) or
    states (the reader reads the same value in the clause alone, so a field written twice is
    edited from either clause), written as the reader's canonical note; a clause that decides
    and states no editable field is blanked (``filler``) instead. ``reading``: the reader's
    reading of ``text`` (read once by the caller)."""
    if reading is None or not reading.options or reading.render is None:
        raise ValueError(
            "explain mode 'contrast' needs a model whose note reader (text.reader) offers "
            "each field's values; use filler or remove"
        )
    out = []
    fields = reading.fields
    for c in clauses:
        blanked = neutralise(text, clauses, c.index, "filler")
        without, alone = predictor.read_note(blanked), predictor.read_note(c.text)
        decided = [
            f
            for f in fields
            if f in reading.options
            and (
                (without is None or without.fields.get(f) != fields[f])  # only it decides f
                or (alone is not None and alone.fields.get(f) == fields[f])  # it states f
            )
        ]
        edits = [
            (f"{f}: {fields[f]} -> {v}", reading.edited(f, v) or text)
            for f in decided
            for v in reading.options[f]
            if v != fields[f]
        ]
        out.append(edits or [("removed", blanked)])
    return out


def write_explanation(
    ex: Explanation, mask: Image, out: str | os.PathLike[str], name: str
) -> list[Path]:
    """``NAME_explain.json`` (:meth:`Explanation.to_json`) and ``NAME_explain.nii.gz`` (the
    :meth:`Explanation.bitmask` on the mask's grid) under ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    doc, volume = folder / f"{name}_explain.json", folder / f"{name}_explain.nii.gz"
    write_json(doc, ex.to_json())
    bits = ex.bitmask() if ex.changed else np.zeros(mask.shape, np.uint32)
    save_image(Image(bits, mask.affine.copy()), volume)
    return [doc, volume]
