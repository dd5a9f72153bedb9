"""Measure training and inference speed: vision-only vs note-guided at 64³, batch 2.

``oncoseg bench model --out docs/results/model`` writes ``bench.json`` and ``bench.md``.
Each configuration runs in its own subprocess so peak memory (max RSS) is its own.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from oncoseg.io.atomic import write_json, write_text
from oncoseg.provenance import compute_device, provenance

VISION, VISION_BF16 = "vision-only (fusion none)", "vision-only, bf16 autocast"
CONFIGS: dict[str, dict[str, Any]] = {
    VISION: {"fusion": "none"},
    "multimodal (two_way, SmolLM2 suffix prompts)": {"fusion": "two_way", "position": "suffix"},
    "multimodal (two_way, SmolLM2 prefix prompts)": {"fusion": "two_way", "position": "prefix"},
    VISION_BF16: {"fusion": "none", "bf16": True},
    "multimodal (suffix), bf16 autocast": {"fusion": "two_way", "position": "suffix", "bf16": True},
}


def measure(
    fusion: str,
    position: str = "suffix",
    size: int = 64,
    repeats: int = 6,
    bf16: bool = False,
    device: str = "cpu",
) -> dict[str, float]:
    """Median train-step and per-case inference time for one configuration (this process).

    On a GPU the clock is read after ``torch.cuda.synchronize`` and peak memory is the
    allocator's peak on the device; on the CPU it is the process's max RSS.
    """
    from monai.losses import DiceCELoss

    from oncoseg.models.multimodal import ModelConfig, build_model
    from oncoseg.models.sliding import segment_volume
    from oncoseg.text.factory import TextConfig, build_text_encoder

    dev = torch.device(device)
    cuda = dev.type == "cuda"

    def clock() -> float:
        if cuda:
            torch.cuda.synchronize(dev)
        return time.perf_counter()

    torch.manual_seed(0)
    text = build_text_encoder(TextConfig(position=position)) if fusion != "none" else None
    model = build_model(ModelConfig(preset="small", fusion=fusion), text).to(dev)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    x = torch.randn(2, 1, size, size, size, device=dev)
    y = (torch.rand(2, 1, size, size, size, device=dev) > 0.7).long()
    notes = ["N2, total mastectomy, left side", "N0, breast conserving surgery, right side"]
    steps = []
    for i in range(repeats + 1):
        t0 = clock()
        context = model.encode_notes(notes)  # fp32, as in training
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            logits = model(x, context=context)
        loss = loss_fn(logits.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            steps.append(clock() - t0)
    model.eval()
    infer = []
    with torch.no_grad():
        for i in range(4):
            t0 = clock()
            segment_volume(model, x[:1], f"N{i % 3}, left side", roi_size=(size,) * 3, bf16=bf16)
            infer.append(clock() - t0)
    peak = (
        torch.cuda.max_memory_allocated(dev) / 1e9
        if cuda
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    )
    return {
        "train_step_s": statistics.median(steps),
        "train_step_min_s": min(steps),
        "inference_per_case_s": statistics.median(infer[1:]),
        "peak_memory_gb": peak,
    }


def run_model_benchmark(out: str | os.PathLike[str], device: str = "cpu") -> dict[str, Any]:
    """Measure every configuration in its own process on ``device`` (cpu | cuda)."""
    results = {}
    for name, kw in CONFIGS.items():
        code = (
            "import json,sys; from oncoseg.train.bench import measure; "
            f"print('RESULT'+json.dumps(measure(device={device!r}, **{kw!r})))"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT"))
        results[name] = json.loads(line[len("RESULT") :])
    for name, r in results.items():  # against vision-only at the same precision
        base = results[VISION_BF16 if CONFIGS[name].get("bf16") else VISION]["train_step_s"]
        r["text_overhead"] = r["train_step_s"] / base - 1
    meta = provenance(
        config={"size": 64, "batch": 2, "preset": "small", "device": device, "configs": CONFIGS},
        results=results,
        threads=torch.get_num_threads(),
        device=compute_device() if device == "cpu" else f"{device}: {_gpu_name()}",
    )
    root = Path(out)
    write_json(root / "bench.json", meta)
    where = f"{torch.get_num_threads()} CPU threads" if device == "cpu" else meta["device"]
    memory = "peak RSS (GB)" if device == "cpu" else "peak GPU memory (GB)"
    lines = [
        f"# Model timings (64³, batch 2, small preset, fp32 unless named, {where})",
        "",
        f"Command `{meta['command']}`, commit `{meta['commit']}`, {meta['created_utc']}.",
        "",
        "| configuration | train step (s) | fastest | text overhead | inference per "
        "case (s) | " + memory + " |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['train_step_s']:.2f} | {r['train_step_min_s']:.2f} | "
            f"{r['text_overhead']:+.0%} | {r['inference_per_case_s']:.2f} | "
            f"{r['peak_memory_gb']:.2f} |"
        )
    write_text(root / "bench.md", "\n".join(lines) + "\n")
    return meta


def _gpu_name() -> str:
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
