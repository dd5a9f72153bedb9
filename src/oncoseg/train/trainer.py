"""The training loop: DiceCE, AdamW + warm-up and a cosine/poly/constant schedule, bf16
autocast, validation Dice, best/last checkpoints, resume, seeds, and DDP when started by
``torchrun``."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from monai.losses import DeepSupervisionLoss, DiceCELoss
from monai.metrics import compute_dice
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from oncoseg.data.dataset import (
    dataset_hash,
    list_cases,
    read_clinical_csv,
    read_info,
    read_splits,
)
from oncoseg.data.loader import (
    Sample,
    batches,
    load_samples,
    patients_per_batch,
    train_transform,
)
from oncoseg.io.atomic import write_json, write_text
from oncoseg.io.orientation import MODEL_ORIENTATION
from oncoseg.models.multimodal import NoteGuidedSegmenter, build_model
from oncoseg.models.sliding import segment_volume
from oncoseg.provenance import provenance
from oncoseg.synth.breast_ctv import (
    REGIONS,
    BreastClinical,
    ctv_components,
    nodal_variants,
    side_variants,
)
from oncoseg.text.factory import build_text_encoder
from oncoseg.text.models import file_sha256
from oncoseg.train.checkpoint import (
    checkpoint_of,
    load_checkpoint,
    restore_model,
    save_checkpoint,
    warm_start,
)
from oncoseg.train.config import ConfigError, RunConfig, dump_config, to_dict

log = logging.getLogger(__name__)
GRAD_CLIP = 12.0  # gradient-norm clipping, as nnU-Net


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def build_from_config(cfg: RunConfig, device: torch.device) -> NoteGuidedSegmenter:
    """The model a run config describes (text encoder only when fusion needs one)."""
    info = read_info(cfg.data.dataset)
    cfg.model.in_channels = info.num_channels
    cfg.model.out_channels = len(info.labels)
    text = build_text_encoder(cfg.text) if cfg.model.fusion != "none" else None
    return build_model(cfg.model, text).to(device)


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


def note_shares(cfg: RunConfig, model: NoteGuidedSegmenter) -> dict[str, Any]:
    """The shares of mirrored / other-N-stage / other-side samples this model trains with,
    and whether batches pair each patient with a counterfactual note (all off for
    vision-only models and without augmentation); keyword arguments of ``batches``."""
    on = model.uses_text and cfg.train.augment
    return {
        "mirror": cfg.train.mirror if on else 0.0,
        "swap": cfg.train.note_swap if on else 0.0,
        "side": cfg.train.side_swap if on else 0.0,
        "pairs": cfg.train.note_pairs and on,
    }


def add_note_variants(
    dataset: str | os.PathLike[str],
    samples: list[Sample],
    *,
    nodal: bool = True,
    sides: bool = False,
) -> None:
    """Give each breast_ctv training sample its other-N-stage notes (``nodal``) and its
    other-side notes (``sides``), with their labels (in place; labels uint8).

    Needs the phantom's clinical.csv, region maps and note style (dataset.json). A case whose
    stored label is not the rule table's label for its own row is an error: the variants'
    labels would then be wrong too (a 2% disagreement is allowed for resampled cases, whose
    label and region map are interpolated separately).
    """
    keys = "/".join(k for k, on in (("note_swap/note_pairs", nodal), ("side_swap", sides)) if on)
    info = read_info(dataset)
    if info.task != "breast_ctv":
        raise ConfigError(
            f"train.{keys}: {dataset} is a {info.task or 'unnamed'!r} dataset; note "
            "variants need a breast_ctv phantom (clinical.csv, regionsTr/)"
        )
    rows = read_clinical_csv(dataset)
    style, seed = info.extra.get("note_style", "prompt"), int(info.extra.get("seed", 0))
    for s in samples:
        if s.case_id not in rows:
            raise ConfigError(f"train.{keys}: {dataset}/clinical.csv has no row for {s.case_id}")
        assert s.regions is not None and s.label is not None  # loaded with regions=True
        row = rows[s.case_id]
        own = ctv_components(BreastClinical.from_row(row))
        expected = np.isin(s.regions, [REGIONS[n] for n in own])
        wrong = np.count_nonzero(expected != (s.label[0] > 0))
        if wrong > 0.02 * max(1, int(np.count_nonzero(s.label))):
            raise ConfigError(
                f"train.{keys}: the label of {s.case_id} is not the rule table's CTV for "
                "its clinical.csv row, so its note variants cannot be labelled"
            )
        if nodal:
            s.variants = [(n, y[None]) for n, y in nodal_variants(row, s.regions, style, seed)]
        if sides:
            s.side_variants = [(n, y[None]) for n, y in side_variants(row, s.regions, style, seed)]


def lr_factor(schedule: str, warmup: int, total: int) -> Any:
    """``step -> factor`` of the base learning rate: linear warm-up over ``warmup`` steps,
    then ``schedule`` (cosine | poly | constant) over the remaining ``total - warmup``."""

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        t = min(1.0, (step - warmup) / max(1, total - warmup))
        if schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * t))
        if schedule == "poly":
            return (1 - t) ** 0.9
        return 1.0

    return f


def validate(
    model: NoteGuidedSegmenter, samples: list[Sample], cfg: RunConfig, device: torch.device
) -> float:
    """Mean foreground Dice over ``samples`` (full volumes, sliding window).

    Runs on rank 0 alone, so it uses MONAI's functional ``compute_dice``: the cumulative
    ``DiceMetric`` all-gathers across ranks when torch.distributed is up and would wait
    forever for ranks that do not validate.
    """
    scores = []
    model.eval()
    k = cfg.model.out_channels
    with torch.no_grad():
        for s in samples:
            probs = segment_volume(
                model,
                torch.as_tensor(s.image)[None].to(device),
                s.note,
                roi_size=cfg.data.patch_size,
                bf16=cfg.train.bf16,
                sw_batch_size=cfg.train.sw_batch_size,
            )
            pred = torch.nn.functional.one_hot(probs.argmax(1), k).permute(0, 4, 1, 2, 3)
            assert s.label is not None
            gt = torch.nn.functional.one_hot(torch.as_tensor(s.label)[None, 0].to(device), k)
            scores.append(compute_dice(pred, gt.permute(0, 4, 1, 2, 3), include_background=False))
    model.train()
    if not scores:
        return float("nan")
    return float(torch.nanmean(torch.cat(scores).float()).item())  # classes absent: NaN


def _ddp() -> tuple[int, int]:
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def train(cfg: RunConfig, *, resume: bool = False) -> Path:
    """Train as configured; returns the run directory."""
    rank, world = _ddp()
    seed_everything(cfg.train.seed + rank)
    device = pick_device(cfg.train.device)
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", rank % torch.cuda.device_count())
    out = Path(cfg.out)
    model = build_from_config(cfg, device)
    train_ids, val_ids = split_cases(cfg)
    spacing = cfg.data.spacing or None  # checked by load_config
    shares = note_shares(cfg, model)
    nodal = shares["swap"] > 0 or shares["pairs"]
    variants = nodal or shares["side"] > 0
    train_s = load_samples(cfg.data.dataset, train_ids, spacing=spacing, regions=variants)
    val_s = load_samples(cfg.data.dataset, val_ids, spacing=spacing) if rank == 0 else []
    if variants:
        add_note_variants(cfg.data.dataset, train_s, nodal=nodal, sides=shares["side"] > 0)
    if not resume:
        notes = {s.note for s in train_s} | {
            n for s in train_s for n, _ in s.variants + s.side_variants
        }
        model.fit_context_norm(sorted(notes))
    if cfg.train.init_from and not resume:
        try:
            source = warm_start(model, cfg.train.init_from)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"train.init_from: {exc}") from exc
        log.info("U-Net weights from %s", source)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.train.lr, weight_decay=cfg.train.weight_decay)
    per_batch = patients_per_batch(cfg.train.batch_size, shares["pairs"])
    steps_per_epoch = max(1, len(train_s) // per_batch // world)
    total = steps_per_epoch * cfg.train.epochs
    factor = lr_factor(cfg.train.schedule, cfg.train.warmup_steps, total)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    state = {"epoch": 0, "step": 0, "best_dice": -1.0}
    if resume:
        ckpt = load_checkpoint(out / "last.pt")
        restore_model(model, ckpt["model"], str(out / "last.pt"))
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        state = {k: ckpt[k] for k in state}
        log.info("resumed %s at epoch %d", out, state["epoch"])
    net: torch.nn.Module = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=False)
    if rank == 0:
        _write_run_files(cfg, out, train_ids, val_ids, resume)
        _write_plan(cfg, out, train_s)
    loss_fn: Any = DiceCELoss(
        to_onehot_y=True,
        softmax=True,
        include_background=cfg.train.dice_background,
        lambda_dice=1.0,
        lambda_ce=1.0,
    )
    if cfg.model.deep_supervision:
        # weights 1, 1/2, 1/4 ... normalised to sum to 1 (nnU-Net); labels are resized to
        # each output by nearest-neighbour interpolation, hence passed as float
        n = cfg.model.deep_supervision + 1
        weights = [0.5**k / sum(0.5**j for j in range(n)) for k in range(n)]
        loss_fn = DeepSupervisionLoss(loss_fn, weights=weights)
    transform = train_transform(
        cfg.data.patch_size, flips=not model.uses_text, augment=cfg.train.augment
    )
    transform.set_random_state(seed=cfg.train.seed + rank)  # MONAI keeps its own RNG
    model.train()
    _epochs(
        cfg,
        model,
        net,
        opt,
        sched,
        loss_fn,
        transform,
        train_s,
        val_s,
        state,
        out,
        device,
        rank,
        world,
    )
    if world > 1:
        dist.barrier()
    return out


def _epochs(
    cfg: RunConfig,
    model: NoteGuidedSegmenter,
    net: torch.nn.Module,
    opt: torch.optim.Optimizer,
    sched: Any,
    loss_fn: Any,
    transform: Any,
    train_s: list[Sample],
    val_s: list[Sample],
    state: dict[str, Any],
    out: Path,
    device: torch.device,
    rank: int,
    world: int,
) -> None:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=rank != 0) as bar:
        task = bar.add_task("train", total=cfg.train.epochs, completed=state["epoch"], info="")
        for epoch in range(state["epoch"], cfg.train.epochs):
            rng = np.random.default_rng([cfg.train.seed, epoch])  # same order on every rank
            t0, losses = time.perf_counter(), []
            params = [p for p in model.parameters() if p.requires_grad]
            for image, label, notes in batches(
                train_s,
                cfg.train.batch_size,
                transform,
                rng,
                rank=rank,
                world=world,
                **note_shares(cfg, model),
            ):
                image, label = image.to(device), label.to(device)
                # the note stays fp32: notes that differ in one word give LM states that
                # differ in the third digit, which bf16 would round away
                context = model.encode_notes(notes)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.train.bf16):
                    logits = net(image, context=context)
                if isinstance(logits, list):  # deep supervision: every level, fine to coarse
                    loss = loss_fn([x.float() for x in logits], label.float())
                else:
                    loss = loss_fn(logits.float(), label)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                norm = torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP)
                if not (torch.isfinite(loss) and torch.isfinite(norm)):
                    state["skipped"] = state.get("skipped", 0) + 1  # never apply a NaN update
                    log.warning(
                        "non-finite loss or gradient at step %d: step skipped", state["step"]
                    )
                    continue
                opt.step()
                sched.step()
                losses.append(float(loss.item()))
                state["step"] += 1
            state["epoch"] = epoch + 1
            record: dict[str, Any] = {
                "epoch": epoch + 1,
                "step": state["step"],
                "loss": float(np.mean(losses)) if losses else None,
                "lr": sched.get_last_lr()[0],
                "seconds": time.perf_counter() - t0,
            }
            if rank == 0:
                _end_of_epoch(cfg, model, opt, sched, val_s, state, record, out, device)
                bar.update(
                    task,
                    advance=1,
                    info=f"loss {record['loss']:.3f} "
                    f"val {record.get('val_dice', float('nan')):.3f} "
                    f"{record['seconds'] / max(1, len(losses)):.2f} s/step",
                )


def _end_of_epoch(
    cfg: RunConfig,
    model: NoteGuidedSegmenter,
    opt: Any,
    sched: Any,
    val_s: list[Sample],
    state: dict[str, Any],
    record: dict[str, Any],
    out: Path,
    device: torch.device,
) -> None:
    is_last = state["epoch"] == cfg.train.epochs
    if val_s and (state["epoch"] % cfg.train.val_every == 0 or is_last):
        record["val_dice"] = validate(model, val_s, cfg, device)
        if record["val_dice"] > state["best_dice"]:
            state["best_dice"] = record["val_dice"]
            save_checkpoint(
                out / "best.pt", model, epoch=state["epoch"], val_dice=state["best_dice"]
            )
    elif not val_s:
        save_checkpoint(out / "best.pt", model, epoch=state["epoch"])
    save_checkpoint(
        out / "last.pt", model, optimizer=opt.state_dict(), scheduler=sched.state_dict(), **state
    )
    with (out / "metrics.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
    log.info("epoch %(epoch)d loss %(loss).4f", record)


def _write_plan(cfg: RunConfig, out: Path, samples: list[Sample]) -> None:
    """What inference needs besides weights: channels, labels, spacing, patch, orientation."""
    info = read_info(cfg.data.dataset)
    spacing = np.median(np.array([s.spacing for s in samples]), axis=0)
    write_json(
        out / "plan.json",
        {
            "channel_names": info.channel_names,
            "labels": info.labels,
            "task": info.task,
            "target_spacing": [float(v) for v in spacing],
            "patch_size": list(cfg.data.patch_size),
            "orientation": MODEL_ORIENTATION,
        },
    )


def _write_run_files(
    cfg: RunConfig, out: Path, train_ids: list[str], val_ids: list[str], resume: bool
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if not resume and (out / "metrics.jsonl").exists():
        (out / "metrics.jsonl").unlink()
    write_text(out / "config.yaml", dump_config(cfg))
    write_json(
        out / "provenance.json",
        provenance(
            config=to_dict(cfg),
            data_hash=dataset_hash(cfg.data.dataset),
            train_cases=train_ids,
            val_cases=val_ids,
            torch=torch.__version__,
            **_init_source(cfg),
        ),
    )


def _init_source(cfg: RunConfig) -> dict[str, Any]:
    """Which weights started the run (file and SHA-256), for the provenance record."""
    if not cfg.train.init_from:
        return {}
    path = checkpoint_of(cfg.train.init_from)
    return {"init_from": {"checkpoint": str(path), "sha256": file_sha256(path)}}
