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
from oncoseg.provenance import provenance

CONFIGS = {
    "vision-only (fusion none)": {"fusion": "none"},
    "multimodal (two_way, SmolLM2 suffix prompts)": {"fusion": "two_way", "position": "suffix"},
    "multimodal (two_way, SmolLM2 prefix prompts)": {"fusion": "two_way", "position": "prefix"},
}


def measure(
    fusion: str, position: str = "suffix", size: int = 64, repeats: int = 6, bf16: bool = False
) -> dict[str, float]:
    """Median train-step and per-case inference time for one configuration (this process)."""
    from monai.losses import DiceCELoss

    from oncoseg.models.multimodal import ModelConfig, build_model
    from oncoseg.models.sliding import segment_volume
    from oncoseg.text.factory import TextConfig, build_text_encoder

    torch.manual_seed(0)
    text = build_text_encoder(TextConfig(position=position)) if fusion != "none" else None
    model = build_model(ModelConfig(preset="small", fusion=fusion), text)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    x = torch.randn(2, 1, size, size, size)
    y = (torch.rand(2, 1, size, size, size) > 0.7).long()
    notes = ["N2, total mastectomy, left side", "N0, breast conserving surgery, right side"]
    steps = []
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(x, notes=notes)
        loss = loss_fn(logits.float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            steps.append(time.perf_counter() - t0)
    model.eval()
    infer = []
    with torch.no_grad():
        for i in range(4):
            t0 = time.perf_counter()
            segment_volume(model, x[:1], f"N{i % 3}, left side", roi_size=(size,) * 3)
            infer.append(time.perf_counter() - t0)
    return {
        "train_step_s": statistics.median(steps),
        "train_step_min_s": min(steps),
        "inference_per_case_s": statistics.median(infer[1:]),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
    }


def run_model_benchmark(out: str | os.PathLike[str]) -> dict[str, Any]:
    results = {}
    for name, kw in CONFIGS.items():
        code = (
            "import json,sys; from oncoseg.train.bench import measure; "
            f"print('RESULT'+json.dumps(measure(**{kw!r})))"
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
    base = results["vision-only (fusion none)"]["train_step_s"]
    for r in results.values():
        r["text_overhead"] = r["train_step_s"] / base - 1
    meta = provenance(
        config={"size": 64, "batch": 2, "preset": "small", "fp32": True},
        results=results,
        threads=torch.get_num_threads(),
    )
    root = Path(out)
    write_json(root / "bench.json", meta)
    lines = [
        "# Model timings (64³, batch 2, small preset, fp32, 2 CPU threads)",
        "",
        f"Command `{meta['command']}`, commit `{meta['commit']}`, {meta['created_utc']}.",
        "",
        "| configuration | train step (s) | fastest | text overhead | inference per "
        "case (s) | peak RSS (GB) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['train_step_s']:.2f} | {r['train_step_min_s']:.2f} | "
            f"{r['text_overhead']:+.0%} | {r['inference_per_case_s']:.2f} | "
            f"{r['peak_rss_gb']:.2f} |"
        )
    write_text(root / "bench.md", "\n".join(lines) + "\n")
    return meta
