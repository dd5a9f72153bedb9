"""Measure the model's cost: train step (split into parts), warm and cold predict, memory.

``oncoseg bench model --out docs/results/model`` writes ``bench.json`` and ``bench.md``.
Every configuration of :data:`CONFIGS` (vision-only and each text mode with two_way
fusion) runs in its own subprocess, so its peak memory (max RSS) is its own; the
configurations are interleaved (``rounds`` rounds, a fresh subprocess per configuration in
each, the order rotated every round), so a slow spell of the machine hits all of them
alike. Timings are the minimum (and the median) over every measured step of every round;
each process first runs one untimed warm-up step.

A train step (batch 2, 64³, preset small, each sample's note drawn from a pool of 8 as in
training) is split into ``lm`` (the text encoder's forward for the in-LM modes; for the
cached modes the steady-state lookup of the cached note states), ``adapter`` (the
cached-queries adapter), ``fusion`` (forward hooks on the fusion modules),
``unet_forward`` (the rest of the forward), ``loss``, ``backward`` (all of it) and
``optimizer`` (clipping, step, zero_grad). The cached modes read the pool first
(``fit_context_norm``, as training does), so the LM is not called in the measured steps
(``lm_calls_in_steps`` checks it); ``lm_new_note_s`` is what one new note costs once.
``predict_warm_s`` is :class:`~oncoseg.infer.Predictor` on a 128³ CT with the
model loaded and a new note; ``cli_cold_s`` is ``oncoseg predict`` in a new process with the
note-state cache emptied, ``cli_cached_s`` the same right after (the note's states cached).
What runs inside one process lives in :mod:`oncoseg.bench.child`, the peak in
:mod:`oncoseg.bench.peak`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oncoseg.bench.child import (
    PARTS,
    BenchConfig,
    BenchSettings,
    all_notes,
    measure,
)
from oncoseg.bench.peak import measure_conv_peak, unet_step_flops
from oncoseg.io.atomic import write_json, write_text
from oncoseg.io.image import Image, save_image
from oncoseg.io.provenance import provenance

__all__ = ["CONFIGS", "PARTS", "BenchConfig", "BenchSettings", "measure", "run_model_benchmark"]

log = logging.getLogger(__name__)

CONFIGS: tuple[BenchConfig, ...] = (
    BenchConfig("vision-only", "none", cli=True),
    BenchConfig("cached-queries", "two_way", "cached-queries"),
    BenchConfig("cached-frozen", "two_way", "cached-frozen", default=True, cli=True),
    BenchConfig("inlm-multi-prompt-suffix", "two_way", "inlm-multi-prompt", "suffix"),
    BenchConfig("inlm-multi-prompt-prefix", "two_way", "inlm-multi-prompt", "prefix"),
    BenchConfig("inlm-one-prompt-suffix", "two_way", "inlm-one-prompt", "suffix"),
    BenchConfig("inlm-lora-prefix", "two_way", "inlm-lora", "prefix"),
)
VISION = CONFIGS[0].name


def select_configs(names: Sequence[str] | None) -> list[BenchConfig]:
    """The configurations named (all if none), vision-only always first (the baseline)."""
    known = {c.name: c for c in CONFIGS}
    unknown = [n for n in names or [] if n not in known]
    if unknown:
        raise ValueError(f"unknown configuration(s) {unknown}; known: {list(known)}")
    wanted = set(names or known) | {VISION}
    return [c for c in CONFIGS if c.name in wanted]


def synthetic_ct(size: int, seed: int = 0) -> Image:
    """A (size³) CT-like image, 1 mm voxels: air, a soft-tissue ball, noise."""
    g = np.random.default_rng(seed)
    r = np.linalg.norm(np.indices((size,) * 3) - (size - 1) / 2, axis=0)
    hu = np.where(r < 0.4 * size, 40.0, -1000.0) + g.normal(0, 20, (size,) * 3)
    return Image(hu.astype(np.float32), np.eye(4))


def run_peak_benchmark(
    out: str | os.PathLike[str], device: str = "cpu", repeats: int = 3
) -> dict[str, Any]:
    """Measure the fp32 Conv3d peak and write ``peak.json`` (with provenance) into ``out``."""
    meta = provenance(**measure_conv_peak(device, repeats=repeats))
    write_json(Path(out) / "peak.json", meta)
    return meta


def load_peak(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A ``peak.json`` written by ``oncoseg bench peak``; checks it holds ``peak_gflops``."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: not found (write it with `oncoseg bench peak`)")
    raw = json.loads(p.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("peak_gflops"), (int, float)):
        raise ValueError(f"{p}: expected a JSON object with a number 'peak_gflops'")
    if raw["peak_gflops"] <= 0:
        raise ValueError(f"{p}: peak_gflops must be positive, got {raw['peak_gflops']}")
    return raw


# ----------------------------------------------------------------- subprocesses


def _spawn(config: BenchConfig, settings: BenchSettings, tmp: Path, image: Path) -> dict[str, Any]:
    """Run :func:`~oncoseg.bench.child.measure` for ``config`` in a new process."""
    result = tmp / f"{config.name}.result.json"
    spec = {
        "config": dataclasses.asdict(config),
        "settings": dataclasses.asdict(settings),
        "run_dir": str(tmp / config.name),
        "image": str(image),
        "result": str(result),
    }
    code = "import sys; from oncoseg.bench.child import child_main; child_main(sys.argv[1])"
    _run([sys.executable, "-c", code, json.dumps(spec)], f"measuring {config.name}")
    return dict(json.loads(result.read_text(encoding="utf-8")))


def _run(cmd: list[str], what: str, extra_env: dict[str, str] | None = None) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(extra_env or {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if proc.returncode:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def oncoseg_command() -> list[str]:
    """How a user starts the CLI here: the ``oncoseg`` script beside this Python, if any."""
    script = Path(sys.executable).parent / "oncoseg"
    return [str(script)] if script.exists() else [sys.executable, "-m", "oncoseg.cli"]


def cold_cli_s(
    run_dir: Path, image: Path, note: Path, out: Path, device: str, *, cached: bool = False
) -> float:
    """Seconds of ``oncoseg predict`` in a new process: imports, loading, the LM on the
    note (the run's note-state cache emptied first), prediction, writing the mask. With
    ``cached`` the note's states and its de-identification (the run's own memo) stay
    cached, so a cached mode loads neither the LM nor the de-identifier."""
    memo = run_dir / "deid-memo"
    if not cached:
        shutil.rmtree(run_dir / "note-states", ignore_errors=True)
        shutil.rmtree(memo, ignore_errors=True)
    cmd = [*oncoseg_command(), "predict", "-m", str(run_dir), "-i", str(image)]
    cmd += ["-n", str(note), "-o", str(out), "--device", device]
    t0 = time.perf_counter()
    _run(cmd, f"oncoseg predict with {run_dir.name}", {"ONCOSEG_DEID_MEMO": str(memo)})
    return time.perf_counter() - t0


def collect(
    configs: Sequence[BenchConfig],
    settings: BenchSettings,
    *,
    rounds: int = 3,
    cli: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Per configuration, one :func:`~oncoseg.bench.child.measure` result per round
    (each from a new process), with ``cli_cold_s`` added where the CLI is timed."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    out: dict[str, list[dict[str, Any]]] = {c.name: [] for c in configs}
    with tempfile.TemporaryDirectory(prefix="oncoseg-bench-") as name:
        tmp = Path(name)
        image, note = tmp / "case_0000.nii.gz", tmp / "note.txt"
        save_image(synthetic_ct(settings.predict_size, settings.seed), image)
        write_text(note, all_notes(settings.seed)[-1] + "\n")
        for r in range(rounds):
            k = r % len(configs)
            for config in [*configs[k:], *configs[:k]]:  # rotated: none always runs first
                if progress is not None:
                    progress(f"round {r + 1}/{rounds}: {config.name}")
                res = _spawn(config, settings, tmp, image)
                if cli and config.cli:
                    args = (tmp / config.name, image, note, tmp / "out", settings.device)
                    res["cli_cold_s"] = cold_cli_s(*args)
                    res["cli_cached_s"] = cold_cli_s(*args, cached=True)  # note read above
                out[config.name].append(res)
    return out


# ----------------------------------------------------------------- report


def summarise(config: BenchConfig, results: list[dict[str, Any]], compiled: bool) -> dict[str, Any]:
    """One ``bench.json`` row from the rounds' results of ``config`` (minimum and median
    over every measured step of every round; memory: the largest round's)."""

    def pooled(key: str) -> list[float]:
        return [float(v) for r in results for v in r.get(key, [])]

    steps = pooled("step")
    row: dict[str, Any] = {
        "name": config.name,
        "fusion": config.fusion,
        "text": config.text,
        "position": config.position if config.mode.startswith("inlm-") else None,
        "default": config.default,
        "train_step_s": min(steps),
        "train_step_median_s": statistics.median(steps),
    }
    for part in PARTS:
        row[f"{part}_s"] = min(pooled(part))
    if compiled and config.fusion != "none":
        row["fusion_s"] = None  # inside the compiled U-Net: counted in unet_forward_s
    new_note, warm = pooled("lm_new_note_s"), pooled("predict_warm_s")
    calls = [int(r["lm_calls_in_steps"]) for r in results if r.get("lm_calls_in_steps") is not None]
    cli = [float(r["cli_cold_s"]) for r in results if "cli_cold_s" in r]
    cached = [float(r["cli_cached_s"]) for r in results if "cli_cached_s" in r]
    row |= {
        "lm_new_note_s": min(new_note) if new_note else None,
        "lm_calls_in_steps": sum(calls) if len(calls) == len(results) else None,
        "predict_warm_s": min(warm),
        "predict_warm_median_s": statistics.median(warm),
        "cli_cold_s": min(cli) if cli else None,
        "cli_cached_s": min(cached) if cached else None,
        "peak_rss_mb": max(float(r["peak_rss_mb"]) for r in results),
        "train_peak_rss_mb": max(float(r["train_peak_rss_mb"]) for r in results),
        "rounds": len(results),
        "steps": len(steps),
    }
    if all("peak_gpu_mb" in r for r in results):
        row["peak_gpu_mb"] = max(float(r["peak_gpu_mb"]) for r in results)
    return row


def report(
    configs: Sequence[BenchConfig],
    results: dict[str, list[dict[str, Any]]],
    *,
    settings: BenchSettings,
    peak: dict[str, Any],
    unet_flops: float,
    rounds: int,
) -> dict[str, Any]:
    """The ``bench.json`` record: provenance, settings, the FLOP/s figures and ``rows``
    (one per configuration, with ratios against the vision-only row)."""
    rows = [summarise(c, results[c.name], settings.compile) for c in configs]
    vision = [r for r in rows if r["text"] == "none"]
    if len(vision) != 1 or sum(r["default"] for r in rows) > 1:
        raise ValueError("need exactly one vision-only row and at most one default row")
    base = vision[0]
    for row in rows:
        row["train_step_ratio"] = row["train_step_s"] / base["train_step_s"]
        row["predict_warm_ratio"] = row["predict_warm_s"] / base["predict_warm_s"]
    achieved = unet_flops / base["train_step_s"] / 1e9
    flops = {
        "unet_gflop_per_step": unet_flops / 1e9,
        "achieved_gflops": achieved,
        "peak_gflops": float(peak["peak_gflops"]),
        "share_of_peak": achieved / float(peak["peak_gflops"]),
    }
    return provenance(
        device=peak.get("device", settings.device),
        threads=torch.get_num_threads(),
        settings=dataclasses.asdict(settings),
        rounds=rounds,
        flops=flops,
        peak=peak,
        rows=rows,
    )


def _cell(v: Any, fmt: str = ".3f") -> str:
    return "–" if v is None else format(v, fmt)


def write_bench(out: str | os.PathLike[str], meta: dict[str, Any]) -> None:
    """Write ``bench.json`` and the ``bench.md`` table into ``out``."""
    root, s, f = Path(out), meta["settings"], meta["flops"]
    write_json(root / "bench.json", meta)
    precision = "bf16 autocast" if s.get("bf16") else "fp32"
    lines = [
        f"# Model timings ({s['size']}³, batch {s['batch']}, preset {s['preset']}, {precision}, "
        f"fusion grid {s.get('fusion_grid', 0) or 'full'}, {meta['device']})",
        "",
        f"Command `{meta['command']}`, commit `{meta['commit']}`, {meta['created_utc']}. "
        f"Minimum over {meta['rounds']} interleaved rounds × {s['repeats']} steps (one process "
        "per configuration and round, after a warm-up step); parts in seconds.",
        "",
        "| configuration | train step (s) | median | × vision | LM | adapter | fusion | "
        "U-Net fwd | loss | backward | optimizer | LM per new note | "
        f"predict {s['predict_size']}³ warm (s) | × vision | cold CLI (s) | "
        "cold CLI, note cached (s) | peak RSS (MB) |",
        "|---" * 17 + "|",
    ]
    for r in meta["rows"]:
        name = r["name"] + (" (default)" if r["default"] else "")
        cells = [r["train_step_s"], r["train_step_median_s"], r["train_step_ratio"]]
        cells += [r[f"{p}_s"] for p in PARTS] + [r["lm_new_note_s"], r["predict_warm_s"]]
        text = [_cell(v) for v in cells]
        text[2] = f"{r['train_step_ratio']:.2f}×"
        extra = [f"{r['predict_warm_ratio']:.2f}×", _cell(r["cli_cold_s"], ".1f")]
        extra.append(_cell(r.get("cli_cached_s"), ".1f"))
        lines.append(f"| {name} | " + " | ".join([*text, *extra, f"{r['peak_rss_mb']:.0f}"]) + " |")
    lines += [
        "",
        f"U-Net (vision-only) forward + backward: {f['unet_gflop_per_step']:.1f} GFLOP per step, "
        f"{f['achieved_gflops']:.1f} GFLOP/s at the minimum step time = "
        f"{f['share_of_peak']:.0%} of this machine's fp32 Conv3d peak "
        f"({f['peak_gflops']:.1f} GFLOP/s, `oncoseg bench peak`)"
        + (
            " (the steps ran in bf16: the share compares with the fp32 peak)."
            if s.get("bf16")
            else "."
        ),
    ]
    write_text(root / "bench.md", "\n".join(lines) + "\n")


def run_model_benchmark(
    out: str | os.PathLike[str],
    settings: BenchSettings | None = None,
    *,
    rounds: int = 3,
    names: Sequence[str] | None = None,
    cli: bool = True,
    peak_path: str | os.PathLike[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure the configurations ``names`` (all by default; vision-only always), write
    ``bench.json`` and ``bench.md`` into ``out`` and return the record."""
    settings = settings or BenchSettings()
    configs = select_configs(names)
    peak = load_peak(peak_path) if peak_path else measure_conv_peak(settings.device)
    results = collect(configs, settings, rounds=rounds, cli=cli, progress=progress)
    flops = unet_step_flops(
        preset=settings.preset, size=settings.size, batch=settings.batch, device=settings.device
    )
    meta = report(configs, results, settings=settings, peak=peak, unet_flops=flops, rounds=rounds)
    write_bench(out, meta)
    return meta
