"""The training loop: DiceCE, AdamW + warm-up and a cosine/poly/constant schedule, bf16
autocast, validation Dice, best/last checkpoints, resume, seeds, and DDP when started by
``torchrun``.

Task-specific augmentation comes in through one hook: the caller hands :func:`train` the
dataset's task's :class:`~oncoseg.data.loader.NoteVariants`
(``oncoseg.tasks.note_variants_for``); this module names no task.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from oncoseg.data.dataset import list_cases, read_info, read_splits
from oncoseg.data.loader import NoteVariants, Sample, batches, load_samples, train_transform
from oncoseg.infer.checkpoint import load_checkpoint, restore_model
from oncoseg.infer.config import ConfigError, RunConfig
from oncoseg.infer.device import pick_device, resolve_bf16
from oncoseg.infer.plan import write_plan
from oncoseg.models.multimodal import NoteGuidedSegmenter, build_model
from oncoseg.text.factory import build_text_encoder
from oncoseg.text.readers import get_reader
from oncoseg.train.checkpoint import save_checkpoint
from oncoseg.train.losses import note_voxel_loss, segmentation_loss
from oncoseg.train.optim import clip_gradients, training_optimiser
from oncoseg.train.resume import (
    append_metrics,
    has_checkpoint,
    restore_rng_state,
    rng_state,
    seed_everything,
    start_run_folder,
)
from oncoseg.train.rule_out import RuledOut, mask_logits
from oncoseg.train.threads import epoch_threads
from oncoseg.train.validation_dice import validation_dice

log = logging.getLogger(__name__)


def resolve_config(cfg: RunConfig) -> RunConfig:
    """``cfg`` with the model's channels and classes read from its dataset (a copy)."""
    info = read_info(cfg.data.dataset)
    model = replace(cfg.model, in_channels=info.num_channels, out_channels=len(info.labels))
    return replace(cfg, model=model)


def build_from_config(cfg: RunConfig, device: torch.device) -> NoteGuidedSegmenter:
    """The model a resolved run config describes (text encoder only when fusion needs one)."""
    text = build_text_encoder(cfg.text) if cfg.model.fusion != "none" else None
    return build_model(cfg.model, text, note_reader=get_reader(cfg.text.reader)).to(device)


def split_cases(cfg: RunConfig) -> tuple[list[str], list[str]]:
    """Training and validation case ids of the configured fold (and training fraction)."""
    if cfg.data.fold < 0:
        train_ids, val_ids = list_cases(cfg.data.dataset), []
    else:
        splits = read_splits(cfg.data.dataset)
        if cfg.data.fold >= len(splits):
            raise ValueError(f"data.fold {cfg.data.fold} not in splits.json ({len(splits)} folds)")
        train_ids, val_ids = splits[cfg.data.fold]["train"], splits[cfg.data.fold]["val"]
    frac = cfg.data.train_fraction
    if not 0 < frac <= 1:
        raise ValueError(f"data.train_fraction must be in (0, 1], got {frac}")
    if frac < 1:  # nested subsets: a smaller fraction is a subset of a larger one
        order = np.random.default_rng(cfg.train.seed).permutation(len(train_ids))
        keep = sorted(order[: max(1, round(frac * len(train_ids)))])
        train_ids = [train_ids[i] for i in keep]
    return list(train_ids), list(val_ids)


def note_shares(cfg: RunConfig, epoch: int | None = None) -> dict[str, float]:
    """The shares of note-variant / other-side / other-surgery samples the model trains with
    (all 0 for vision-only models and without augmentation; surgery 0 before epoch
    ``train.surgery_after``, counted from 0; ``epoch`` None: the run's shares once it is
    past that); keyword arguments of ``batches``."""
    on = cfg.model.fusion != "none" and cfg.train.augment
    early = epoch is not None and epoch < cfg.train.surgery_after
    return {
        "swap": cfg.train.note_swap if on else 0.0,
        "side": cfg.train.side_swap if on else 0.0,
        "surgery": cfg.train.surgery_variants if on and not early else 0.0,
    }


def _ddp() -> tuple[int, int]:
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@dataclass
class TrainState:
    """Progress saved in ``last.pt`` and restored by ``resume``."""

    epoch: int = 0
    step: int = 0
    best_dice: float = -1.0
    skipped: int = 0  # steps whose loss or gradient was not finite (never applied)


def train(
    cfg: RunConfig,
    *,
    resume: bool = False,
    note_variants: NoteVariants | None = None,
    progress: bool = True,
) -> Path:
    """Train as configured; returns the run directory.

    ``note_variants`` is the dataset's task's hook (``oncoseg.tasks.note_variants_for``),
    needed when ``train.note_swap`` or ``train.side_swap`` is above 0; ``progress``: show
    the progress bar (off for a run trained beside another).
    """
    rank, world = _ddp()
    seed_everything(cfg.train.seed + rank)
    resume = resume and has_checkpoint(Path(cfg.out))
    device, cfg = _placed(cfg, rank, world)
    _check_note_variants(cfg, note_variants)
    model = build_from_config(cfg, device)
    train_ids, val_ids = split_cases(cfg)
    train_s, val_s = _load(cfg, train_ids, val_ids, rank, note_variants)
    if not resume:
        notes = {s.note for s in train_s} | {
            n for s in train_s for n, _ in s.variants + s.side_variants + s.surgery_variants
        }
        model.fit_context_norm(sorted(notes))
    opt, sched = training_optimiser(cfg.train, model, len(train_s), world)
    out, state, rng = Path(cfg.out), TrainState(), None
    if resume:
        state, rng = _restore(out / "last.pt", model, opt, sched)
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=False)
    if rank == 0:
        start_run_folder(cfg, out, train_ids, val_ids, state.epoch if resume else None)
        _write_run_plan(cfg, out, train_s)
    transform = _transform(cfg, model, rank, rng)
    model.train()
    trainer = Trainer(
        cfg=cfg,
        model=model,
        net=net,
        opt=opt,
        sched=sched,
        loss_fn=segmentation_loss(cfg).to(device),
        transform=transform,
        train_s=train_s,
        val_s=val_s,
        out=out,
        device=device,
        rank=rank,
        world=world,
        state=state,
        quiet=not progress,
        ruled_out=RuledOut.for_run(cfg, model.note_reader, read_info(cfg.data.dataset).labels),
    )
    trainer.fit()
    if world > 1:
        dist.barrier()
    return out


def _placed(cfg: RunConfig, rank: int, world: int) -> tuple[torch.device, RunConfig]:
    """The rank's device and the resolved config, with ``precision=auto`` decided (bf16
    only where native; config.yaml records the outcome in ``train.bf16``)."""
    device = pick_device(cfg.train.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", rank % torch.cuda.device_count())
    cfg = resolve_config(cfg)
    bf16 = resolve_bf16(cfg.train.precision, cfg.train.bf16, device)
    return device, replace(cfg, train=replace(cfg.train, bf16=bf16))


def _transform(
    cfg: RunConfig, model: NoteGuidedSegmenter, rank: int, rng: dict[str, Any] | None
) -> Any:
    """The training augmentation, seeded, and where a checkpoint left its random stream."""
    transform = train_transform(
        cfg.data.patch_size,
        flips=not model.uses_text,
        augment=cfg.train.augment,
        crop_ratios=cfg.data.crop_ratios,
    )
    transform.set_random_state(seed=cfg.train.seed + rank)  # MONAI keeps its own RNG
    if rng is not None and rank == 0:
        restore_rng_state(rng, transform)  # every stream where the checkpoint left it
    return transform


def _check_note_variants(cfg: RunConfig, note_variants: NoteVariants | None) -> None:
    shares = note_shares(cfg)
    if (shares["swap"] > 0 or shares["side"] > 0) and note_variants is None:
        raise ConfigError(
            f"train.note_swap/side_swap: {cfg.data.dataset} is a "
            f"{read_info(cfg.data.dataset).task or 'unnamed'!r} dataset and no note variants "
            "were given (its task provides none, or call train with oncoseg.tasks."
            "note_variants_for(dataset))"
        )


def _write_run_plan(cfg: RunConfig, out: Path, train_s: list[Any]) -> None:
    """plan.json: the median training spacing the model works at, and the range it saw."""
    spacings = np.array([s.spacing for s in train_s])
    write_plan(
        out / "plan.json",
        read_info(cfg.data.dataset),
        np.median(spacings, axis=0),
        cfg.data.patch_size,
        spacing_range=(spacings.min(axis=0), spacings.max(axis=0)),
    )


def _restore(
    path: Path, model: NoteGuidedSegmenter, opt: Any, sched: Any
) -> tuple[TrainState, dict[str, Any] | None]:
    """Load ``last.pt`` into the model, optimiser and schedule; its progress and its random
    streams (``None`` in a checkpoint from before they were saved)."""
    ckpt = load_checkpoint(path)
    restore_model(model, ckpt["model"], str(path))
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    log.info("resumed %s at epoch %d", path.parent, ckpt["epoch"])
    state = TrainState(ckpt["epoch"], ckpt["step"], ckpt["best_dice"], ckpt.get("skipped", 0))
    return state, ckpt.get("rng")


def _load(
    cfg: RunConfig,
    train_ids: list[str],
    val_ids: list[str],
    rank: int,
    note_variants: NoteVariants | None,
) -> tuple[list[Sample], list[Sample]]:
    """Training samples (with their task's note variants where asked for) and, on rank 0,
    validation samples."""
    spacing = cfg.data.spacing or None  # checked by load_config
    shares = note_shares(cfg)
    variants = shares["swap"] > 0 or shares["side"] > 0
    train_s = load_samples(cfg.data.dataset, train_ids, spacing=spacing, regions=variants)
    val_s = load_samples(cfg.data.dataset, val_ids, spacing=spacing) if rank == 0 else []
    if variants:
        assert note_variants is not None  # checked by train
        # the other side's label also marks side voxels for train.note_voxel_weight
        side = shares["side"] > 0 or cfg.train.note_voxel_weight > 0
        surgery = shares["surgery"] > 0
        note_variants(
            cfg.data.dataset, train_s, swap=shares["swap"] > 0, side=side, surgery=surgery
        )
    return train_s, val_s


@dataclass
class Trainer:
    """One run's model, optimisation and data between epochs (built by :func:`train`)."""

    cfg: RunConfig
    model: NoteGuidedSegmenter
    net: torch.nn.Module  # the model, or its DistributedDataParallel wrapper
    opt: torch.optim.Optimizer
    sched: Any  # LambdaLR
    loss_fn: Any
    transform: Any  # MONAI Compose
    train_s: list[Sample]
    val_s: list[Sample]
    out: Path
    device: torch.device
    rank: int = 0
    world: int = 1
    state: TrainState = field(default_factory=TrainState)
    quiet: bool = False  # no progress bar (a run trained beside another)
    ruled_out: RuledOut | None = None  # train.rule_out

    def fit(self) -> None:
        """Train the remaining epochs, with a progress bar on rank 0."""
        epochs, info = self.cfg.train.epochs, TextColumn("{task.fields[info]}")
        columns = (TextColumn("{task.description}"), BarColumn(), info, TimeElapsedColumn())
        bar = Progress(*columns, disable=self.rank != 0 or self.quiet)
        with bar, epoch_threads(self.cfg.train) as threads:
            task = bar.add_task("train", total=epochs, completed=self.state.epoch, info="")
            for epoch in range(self.state.epoch, epochs):
                threads(epoch)
                record, steps = self.epoch(epoch)
                if self.rank == 0:
                    self.end_of_epoch(record)
                    bar.update(
                        task,
                        advance=1,
                        info=f"loss {record['loss']:.3f} "
                        f"val {record.get('val_dice', float('nan')):.3f} "
                        f"{record['seconds'] / max(1, steps):.2f} s/step",
                    )

    def epoch(self, epoch: int) -> tuple[dict[str, Any], int]:
        """One pass over the training batches; the epoch's record and its step count."""
        rng = np.random.default_rng([self.cfg.train.seed, epoch])  # same order on every rank
        t0, losses = time.perf_counter(), []
        params = [p for p in self.model.parameters() if p.requires_grad]
        for image, label, notes in batches(
            self.train_s,
            self.cfg.train.batch_size,
            self.transform,
            rng,
            rank=self.rank,
            world=self.world,
            **note_shares(self.cfg, epoch),
            note_voxels=self.cfg.train.note_voxel_weight > 0,
        ):
            loss = self.step(image.to(self.device), label.to(self.device), notes, params)
            if loss is not None:
                losses.append(loss)
        self.state.epoch = epoch + 1
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "step": self.state.step,
            "loss": float(np.mean(losses)) if losses else None,
            "lr": self.sched.get_last_lr()[0],
            "seconds": time.perf_counter() - t0,
        }
        return record, len(losses)

    def step(
        self,
        image: torch.Tensor,
        label: torch.Tensor,
        notes: list[str],
        params: list[torch.nn.Parameter],
    ) -> float | None:
        """One optimiser step on a batch; its loss, or ``None`` when it was skipped."""
        # the note stays fp32: notes that differ in one word give LM states that differ in
        # the third digit, which bf16 would round away
        context = self.model.encode_notes(notes)
        bf16 = self.cfg.train.bf16
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = self.net(image, context=context)
        if self.ruled_out and (absent := self.ruled_out(notes)) is not None:
            logits = mask_logits(logits, absent)  # fp32 from here, like the loss below
        label, note_voxels = label[:, :1], label[:, 1:]  # the second channel when asked for
        if isinstance(logits, list):  # deep supervision: every level, fine to coarse
            loss = self.loss_fn([x.float() for x in logits], label.float())
        else:
            loss = self.loss_fn(logits.float(), label)
        if note_voxels.shape[1]:
            full = logits[0] if isinstance(logits, list) else logits
            loss = loss + self.cfg.train.note_voxel_weight * note_voxel_loss(
                full.float(), label, note_voxels
            )
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = clip_gradients(params)
        if not (torch.isfinite(loss) and torch.isfinite(norm)):
            self.state.skipped += 1  # never apply a NaN update
            log.warning("non-finite loss or gradient at step %d: step skipped", self.state.step)
            return None
        self.opt.step()
        self.sched.step()
        self.state.step += 1
        return float(loss.item())

    def end_of_epoch(self, record: dict[str, Any]) -> None:
        """Rank 0: validate, keep best.pt and last.pt, append the record to metrics.jsonl."""
        cfg, st, out = self.cfg, self.state, self.out
        is_last = st.epoch == cfg.train.epochs
        if self.val_s and (st.epoch % cfg.train.val_every == 0 or is_last):
            record["val_dice"] = validation_dice(
                self.model, self.val_s, cfg, self.device, self.ruled_out
            )
            if record["val_dice"] > st.best_dice:
                st.best_dice = record["val_dice"]
                save_checkpoint(out / "best.pt", self.model, epoch=st.epoch, val_dice=st.best_dice)
        elif not self.val_s:
            save_checkpoint(out / "best.pt", self.model, epoch=st.epoch)
        # metrics first: a kill between the two leaves one record too many, which resume trims
        append_metrics(out / "metrics.jsonl", record)
        save_checkpoint(
            out / "last.pt",
            self.model,
            optimizer=self.opt.state_dict(),
            scheduler=self.sched.state_dict(),
            epoch=st.epoch,
            step=st.step,
            best_dice=st.best_dice,
            skipped=st.skipped,
            rng=rng_state(self.transform),  # what the next epoch draws from (exact resume)
        )
        log.info("epoch %(epoch)d loss %(loss).4f", record)
