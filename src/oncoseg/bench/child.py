"""One configuration of the model benchmark, measured inside one process.

:func:`measure` times a train step (split into parts), warm predicts and peak memory;
:mod:`oncoseg.bench.model` runs it through :func:`child_main` in a fresh subprocess per
configuration and round (the spec and the result travel as JSON files), so each process's
peak memory is its own configuration's.
"""

from __future__ import annotations

import gc
import json
import random
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from oncoseg.bench.peak import clock_for
from oncoseg.infer.config import RunConfig, dump_config
from oncoseg.io.atomic import write_json, write_text
from oncoseg.io.image import Image, load_image


@dataclass(frozen=True)
class BenchConfig:
    """One measured configuration."""

    name: str
    fusion: str  # none (vision-only) | two_way
    mode: str = ""  # text.mode; "" for vision-only
    position: str = "prefix"  # text.position (in-LM modes)
    default: bool = False  # the default note-guided configuration (TextConfig's defaults)
    cli: bool = False  # also time a cold `oncoseg predict`

    @property
    def text(self) -> str:
        return self.mode or "none"


PARTS = ("lm", "adapter", "fusion", "unet_forward", "loss", "backward", "optimizer")
SIDES = ("left side", "right side", "both sides")
SURGERY = ("total mastectomy", "breast conserving surgery")
STAGES = ("N0", "N1mi", "N1", "N2", "N3")


@dataclass(frozen=True)
class BenchSettings:
    """What every configuration is measured with (small values for tests)."""

    preset: str = "small"
    size: int = 64  # training patch (voxels per axis)
    batch: int = 2
    repeats: int = 5  # measured train steps per process, after one warm-up step
    pool: int = 8  # distinct notes drawn from per step
    predict_size: int = 128  # CT of the predict timings (voxels per axis, 1 mm)
    predict_repeats: int = 2  # warm predicts per process, after one warm-up predict
    lm: str = "smollm2"  # text.model: packaged name or local folder
    device: str = "cpu"
    compile: bool = False  # torch.compile the U-Net of the train step (fusion not split then)
    bf16: bool = False  # bf16 autocast in the train step and predict, as train.bf16 does
    fusion_grid: int = 8  # model.fusion_grid of the note-guided rows (the demo's)
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.repeats, self.predict_repeats, self.pool, self.batch) < 1:
            raise ValueError("repeats, predict_repeats, pool and batch must be >= 1")
        if self.pool + 4 + self.predict_repeats > len(all_notes()):
            raise ValueError(f"pool + predict_repeats must leave new notes ({len(all_notes())})")


def all_notes(seed: int = 0) -> list[str]:
    """Every short note "N stage, surgery, side" (30), in a seeded order."""
    notes = [f"{n}, {s}, {side}" for n in STAGES for s in SURGERY for side in SIDES]
    random.Random(seed).shuffle(notes)
    return notes


class PartTimer:
    """Wall time spent inside given modules' forwards (forward pre-hook to forward hook)."""

    def __init__(self, modules: Sequence[nn.Module], clock: Callable[[], float]) -> None:
        self.total, self._start, self._clock = 0.0, 0.0, clock
        self._handles = []
        for m in modules:
            self._handles.append(m.register_forward_pre_hook(self._enter))
            self._handles.append(m.register_forward_hook(self._leave))

    def _enter(self, *_: Any) -> None:
        self._start = self._clock()

    def _leave(self, *_: Any) -> None:
        self.total += self._clock() - self._start

    def remove(self) -> None:
        for h in self._handles:
            h.remove()


def run_config(config: BenchConfig, settings: BenchSettings, run_dir: Path) -> RunConfig:
    """The run config of ``config`` with its run folder ``run_dir``."""
    cfg = RunConfig(out=str(run_dir))
    cfg.data.patch_size = (settings.size,) * 3
    cfg.model.preset, cfg.model.fusion = settings.preset, config.fusion
    if config.fusion == "two_way":
        cfg.model.fusion_grid = settings.fusion_grid
    cfg.train.batch_size, cfg.train.device = settings.batch, settings.device
    cfg.train.bf16 = settings.bf16  # the Predictor reads it too
    if config.fusion == "none":
        cfg.text.encoder = "none"
    else:
        cfg.text.model, cfg.text.mode, cfg.text.position = settings.lm, config.mode, config.position
        cfg.text.cache_dir = str(run_dir / "note-states")  # fresh: new notes run the LM
    return cfg


def write_run(run_dir: Path, cfg: RunConfig, model: nn.Module) -> None:
    """A run folder :class:`~oncoseg.infer.Predictor` reads: ``best.pt``,
    ``config.yaml`` and a ``plan.json`` like training's (1 CT channel, 2 labels, 1 mm)."""
    from oncoseg.io.orientation import MODEL_ORIENTATION
    from oncoseg.train.checkpoint import save_checkpoint

    run_dir.mkdir(parents=True, exist_ok=True)
    save_checkpoint(run_dir / "best.pt", model)
    write_text(run_dir / "config.yaml", dump_config(cfg))
    plan = {
        "channel_names": {"0": "CT"},
        "labels": {"background": 0, "target": 1},
        "task": "bench",
        "target_spacing": [1.0, 1.0, 1.0],
        "patch_size": list(cfg.data.patch_size),
        "orientation": MODEL_ORIENTATION,
    }
    write_json(run_dir / "plan.json", plan)


def _train_steps(model: Any, settings: BenchSettings, pool: list[str]) -> dict[str, list[float]]:
    """Per measured step (after one warm-up step): its time and its parts (see module)."""
    from monai.losses import DiceCELoss

    from oncoseg.train.optim import build_optimizer, clip_gradients

    dev, size, b = torch.device(settings.device), settings.size, settings.batch
    clock = clock_for(dev)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = build_optimizer(params, lr=1e-4, weight_decay=1e-5)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    net = torch.compile(model.unet) if settings.compile else model.unet
    fusion = PartTimer([] if settings.compile else list(model.unet.fusions or []), clock)
    adapter = PartTimer(list(getattr(model.text_encoder, "layers", [])), clock)
    x = torch.randn(b, 1, size, size, size, device=dev)  # B x 1 x D x H x W
    y = (torch.rand(b, 1, size, size, size, device=dev) > 0.7).long()
    rng = random.Random(settings.seed)
    model.train()
    if model.uses_text:  # every pool note read once, as after the first epoch
        model.encode_notes(pool)
    out: dict[str, list[float]] = {k: [] for k in ("step", *PARTS)}
    for i in range(settings.repeats + 1):
        notes = [rng.choice(pool) for _ in range(b)]
        fusion.total = adapter.total = 0.0
        t = [clock()]
        context = model.encode_notes(notes)
        t.append(clock())
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=settings.bf16):
            logits = net(x, context)  # as Trainer.step: the note stays fp32
        t.append(clock())
        loss = loss_fn(logits.float(), y)
        t.append(clock())
        loss.backward()
        t.append(clock())
        clip_gradients(params)
        opt.step()
        opt.zero_grad(set_to_none=True)
        t.append(clock())
        if i == 0:  # the warm-up step
            continue
        d = np.diff(t).tolist()  # encode, forward, loss, backward, optimizer
        lm = d[0] - adapter.total if model.uses_text else 0.0
        parts = (lm, adapter.total, fusion.total, d[1] - fusion.total, *d[2:])
        for key, value in zip(("step", *PARTS), (t[-1] - t[0], *parts), strict=True):
            out[key].append(max(value, 0.0))
    fusion.remove()
    adapter.remove()
    return out


def _new_note_costs(model: Any, notes: list[str]) -> list[float]:
    """Seconds the LM takes once per new note (cached modes; empty for the others)."""
    from oncoseg.text.encoders import prepare_note

    enc = model.text_encoder
    read = getattr(enc, "note_states", None)
    if read is None:
        return []
    clock = clock_for(torch.device(next(model.parameters()).device))
    times = []
    with torch.no_grad():
        for note in notes:
            t0 = clock()
            read([prepare_note(note, enc.deid)])
            times.append(clock() - t0)
    return times


def _predict_times(run_dir: Path, device: str, image: Image, notes: list[str]) -> list[float]:
    """Warm predict seconds of ``image``, each with a new note (``notes[0]``'s is the
    untimed warm-up)."""
    from oncoseg.infer import Predictor

    predictor = Predictor.from_run(run_dir, device=device)
    times = []
    for i, note in enumerate(notes):
        t0 = time.perf_counter()
        predictor.predict([image], note)  # returns a numpy array: the GPU is done
        if i:
            times.append(time.perf_counter() - t0)
    return times


def measure(
    config: BenchConfig, settings: BenchSettings, run_dir: Path, image: Path
) -> dict[str, Any]:
    """Measure ``config`` in this process; ``run_dir`` gets the fresh model's run folder,
    ``image`` (a NIfTI CT) is what the warm predicts segment.

    Returns:
        Lists of seconds per measured step (``step`` and each of :data:`PARTS`),
        ``lm_new_note_s``, ``predict_warm_s``; ``lm_calls_in_steps`` (notes the LM read
        during the measured steps, None for encoders without the counter); peak memory in
        MB: ``train_peak_rss_mb``, ``peak_rss_mb`` (after the predicts too) and, on CUDA,
        ``peak_gpu_mb``.
    """
    from oncoseg.models.multimodal import build_model
    from oncoseg.text.factory import build_text_encoder

    dev = torch.device(settings.device)
    torch.manual_seed(settings.seed)
    cfg = run_config(config, settings, run_dir)
    text = build_text_encoder(cfg.text) if config.fusion != "none" else None
    model = build_model(cfg.model, text).to(dev)
    notes = all_notes(settings.seed)
    pool, fresh = notes[: settings.pool], notes[settings.pool :]
    model.fit_context_norm(pool)  # the LM reads the pool once (cached modes: never again)
    write_run(run_dir, cfg, model)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    calls = getattr(text, "lm_calls", None)
    res: dict[str, Any] = _train_steps(model, settings, pool)
    after = getattr(text, "lm_calls", None)
    res["lm_calls_in_steps"] = None if calls is None or after is None else after - calls
    res["lm_new_note_s"] = _new_note_costs(model, fresh[:3]) if text is not None else []
    res["train_peak_rss_mb"] = _rss_mb()
    if dev.type == "cuda":
        res["peak_gpu_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
    del model, text
    gc.collect()
    ct, n = load_image(image), settings.predict_repeats + 1
    res["predict_warm_s"] = _predict_times(run_dir, settings.device, ct, fresh[3 : 3 + n])
    res["peak_rss_mb"] = _rss_mb()
    return res


def _rss_mb() -> float:
    """This process's peak resident memory so far (MB; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_main(spec: str) -> None:
    """Entry point of a measuring subprocess: ``spec`` is JSON from :func:`_spawn`."""
    raw = json.loads(spec)
    result = measure(
        BenchConfig(**raw["config"]),
        BenchSettings(**raw["settings"]),
        Path(raw["run_dir"]),
        Path(raw["image"]),
    )
    write_json(Path(raw["result"]), result)
