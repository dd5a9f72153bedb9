"""One experiment over seeds x CPU kernel settings: does a result hold on other machines?

The float kernels a CPU runs change training's rounding, and a thin margin can flip with them
(the demo's N-stage following was 100% on one CPU and 15% on another). PyTorch and oneDNN read
their kernel choice from the environment when the process starts, so each setting runs the
experiment (``--seeds``) in a child process with its environment, into ``OUT/<setting>``
(models in ``OUT/<setting>/models``: a model trained under one setting is never reused under
another); ``OUT/matrix.json`` and ``OUT/matrix.md`` hold one row per seed x setting.

Example:
    >>> sorted(KERNEL_SETTINGS)[:3]
    ['avx2', 'default', 'fp32']
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncoseg.experiments.config import load_experiment_config
from oncoseg.infer.device import SETTING_ENV
from oncoseg.io.atomic import write_json, write_text


@dataclass(frozen=True)
class KernelSetting:
    """Environment for the child process and overrides for both models."""

    env: dict[str, str] = field(default_factory=dict)
    overrides: tuple[str, ...] = ()
    about: str = ""


KERNEL_SETTINGS: dict[str, KernelSetting] = {
    "default": KernelSetting(about="the kernels PyTorch and oneDNN pick for this CPU"),
    "avx2": KernelSetting(
        env={"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
        about="PyTorch and oneDNN limited to AVX2 (a laptop without AVX-512)",
    ),
    "threads1": KernelSetting(
        env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        about="one thread: another reduction order",
    ),
    "scalar": KernelSetting(
        env={"ATEN_CPU_CAPABILITY": "default"}, about="PyTorch's non-vectorised kernels"
    ),
    "fp32": KernelSetting(
        overrides=("train.precision=fp32",), about="both models in fp32 whatever the recipe says"
    ),
}


def parse_settings(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in KERNEL_SETTINGS]
    if not names or unknown:
        raise ValueError(
            f"--kernels: expected names from {sorted(KERNEL_SETTINGS)} (comma-separated), "
            f"got {text!r}"
        )
    return names


def child_command(
    name: str, config: str | None, overrides: list[str], seeds: str, out: Path, setting: str
) -> list[str]:
    """The ``oncoseg experiment`` call that runs one setting."""
    s = KERNEL_SETTINGS[setting]
    cmd = [sys.executable, "-m", "oncoseg.cli", "experiment", name, "--seeds", seeds]
    cmd += ["-o", str(out / setting)] + (["-c", config] if config else [])
    extra = [f"store={out / setting / 'models'}"]
    if s.overrides:  # each model's training overrides, with the setting's added last
        cfg = load_experiment_config(config, overrides)
        for key in ("vision", "multimodal"):
            extra.append(f"{key}={json.dumps([*getattr(cfg, key), *s.overrides])}")
    for o in [*overrides, *extra]:
        cmd += ["--set", o]
    return cmd


def run_matrix(
    name: str,
    config: str | None,
    overrides: list[str],
    seeds: str,
    settings: list[str],
    out: str | os.PathLike[str],
) -> Path:
    """Run ``name`` over ``seeds`` once per kernel setting, then write the matrix."""
    root = Path(out)
    for setting in settings:
        env = {**os.environ, **KERNEL_SETTINGS[setting].env, SETTING_ENV: setting}
        cmd = child_command(name, config, overrides, seeds, root, setting)
        done = subprocess.run(cmd, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"kernel setting {setting!r}: the experiment failed ({cmd})")
    return write_matrix(root, settings)


def matrix_row(doc: dict[str, Any], model: str = "multimodal") -> dict[str, Any]:
    """The quantities of one results.json: follow-rates with their coverage margin, Dice."""
    test = doc.get("counterfactual", {}).get(model, {})
    val = doc.get("counterfactual_validation", {}).get(model, {})
    dice = {
        f"{m} Dice {site}": per_site[site]["dice"]["mean"]
        for m, per_site in doc.get("models", {}).items()
        for site in per_site
    }
    held = test.get("heldout_notes", {})
    return {
        "nodal test": test.get("nodal_follows_note"),
        "nodal val": val.get("nodal_follows_note"),
        "side test": test.get("side_follows_consistent"),
        "side val": val.get("side_follows_consistent"),
        "surgery test": test.get("surgery_follows_note"),
        "surgery val": val.get("surgery_follows_note"),
        "N2 cover test": test.get("nodal_cover_n2_mean"),
        "N0 cover test": test.get("nodal_cover_n0_mean"),
        "N2 cover val": val.get("nodal_cover_n2_mean"),
        "N0 cover val": val.get("nodal_cover_n0_mean"),
        "held-out notes": held.get("cases_following_all"),
        **dice,
        "kernels": doc.get("kernels", {}),
        "device": doc.get("device"),
    }


def write_matrix(root: Path, settings: list[str]) -> Path:
    """``matrix.json`` and ``matrix.md`` from ``root/<setting>/seed*/results.json``."""
    rows = []
    for setting in settings:
        for path in sorted((root / setting).glob("seed*/results.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            rows.append({"setting": setting, "seed": path.parent.name[4:], **matrix_row(doc)})
    write_json(root / "matrix.json", {"settings": settings, "rows": rows})
    shown = [k for k in (rows[0] if rows else {}) if k not in ("kernels", "device")]
    lines = [
        f"# Seeds x kernel settings ({len(rows)} runs)",
        "",
        *(f"- `{s}`: {KERNEL_SETTINGS[s].about}" for s in settings),
        "",
        "| " + " | ".join(shown) + " |",
        "|" + "---|" * len(shown),
    ]
    for r in rows:
        lines.append("| " + " | ".join(_cell(k, r[k]) for k in shown) + " |")
    if rows:
        lines += ["", f"Machine: {rows[0]['device']}."]
    path = root / "matrix.md"
    write_text(path, "\n".join(lines) + "\n")
    return path


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        share = key.endswith(("test", "val", "notes")) and "cover" not in key
        return f"{value:.0%}" if share else f"{value:.3f}"
    return str(value)
