"""Experiment settings: what an experiment runs on, how long it trains, which models it compares.

Example:
    >>> cfg = load_experiment_config(None, ["epochs=2"])
    >>> sorted(model_set(cfg, "compare"))
    ['multimodal', 'vision']
"""

from __future__ import annotations

from dataclasses import dataclass

from oncoseg.infer.config import ConfigError, load_into

EXPERIMENTS = (
    "compare",
    "fusion-ablation",
    "text-ablation",
    "data-efficiency",
    "counterfactual",
    "kfold",
)
PROMPT_LM = ("text.encoder=prompt-lm", "text.model=smollm2")
VISION = ("model.fusion=none",)
MULTIMODAL = ("model.fusion=two_way", *PROMPT_LM, "text.mode=cached-frozen")


@dataclass
class ExperimentConfig:
    """What an experiment runs on and how long it trains (CPU defaults)."""

    dataset: str = "breast_ctv"  # breast_ctv | brain_tumor (synthesised) or a dataset folder
    external: str = ""  # a second dataset folder tested as the external site (optional)
    cases: int = 60  # synthesised training cases (internal site)
    test_cases: int = 20  # synthesised internal test cases
    external_cases: int = 20  # synthesised external-site test cases (0: no external site)
    size: int = 64  # synthesised volume edge (voxels)
    style: str = "prompt"  # note style of synthesised cases: prompt | narrative | raw
    seed: int = 0
    epochs: int = 16  # 2-core CPU: the demo (both models) fits in 20 min
    train: tuple[str, ...] = ("train.lr=1e-3", "train.batch_size=2", "data.fold=0")
    vision: tuple[str, ...] = VISION  # training overrides of the vision-only model
    multimodal: tuple[str, ...] = MULTIMODAL  # ... and of the note-guided model
    fractions: tuple[float, ...] = (0.4, 0.6, 0.8, 1.0)  # data-efficiency
    folds: int = 5  # kfold
    kfold_of: str = "compare"  # whose models kfold cross-validates
    # notes in phrasings the model never saw (a held-out file, tasks/breast_ctv/heldout.py),
    # scored by the counterfactual experiment on the test cases; "": none
    heldout_notes: str = ""
    # compare / counterfactual: train and score the vision-only model beside the note-guided
    # one; false: the note-guided model alone (a kernel-matrix cell, where only its margin
    # and Dice are asked and the baseline would double the cost)
    baseline: bool = True
    # two models (compare, counterfactual): 0 trains one after the other with every core;
    # n > 0 trains both at once, one thread each, the longer-training one on every core
    # from its epoch n (choose n where the other has ended: two threads on the core the
    # other still uses make both runs 2-3x slower; the demo takes the other's epoch count,
    # as its epochs cost less). Each run records its thread schedule
    # (train.threads, train.threads_epochs), which changes its rounding like any kernel
    # setting
    side_by_side: int = 0
    store: str = "runs/models"  # trained models, reused when config and data match
    data_dir: str = "runs/data"  # synthesised cohorts, reused when spec and generator code match


def load_experiment_config(path: str | None, overrides: list[str] | None) -> ExperimentConfig:
    cfg = load_into(ExperimentConfig(), path, overrides)
    if cfg.kfold_of not in EXPERIMENTS or cfg.kfold_of in ("kfold", "counterfactual"):
        raise ConfigError(f"kfold_of must name a model-comparing experiment, got {cfg.kfold_of!r}")
    if not all(0 < f <= 1 for f in cfg.fractions):
        raise ConfigError(f"fractions must lie in (0, 1], got {cfg.fractions}")
    return cfg


def model_set(cfg: ExperimentConfig, experiment: str) -> dict[str, tuple[str, ...]]:
    """Model name -> training overrides for a model-comparing experiment."""
    if experiment in ("compare", "counterfactual"):
        if not cfg.baseline:
            return {"multimodal": cfg.multimodal}
        return {"vision": cfg.vision, "multimodal": cfg.multimodal}
    if experiment == "fusion-ablation":
        text = tuple(o for o in cfg.multimodal if not o.startswith("model.fusion="))
        return {
            "none": cfg.vision,
            **{f: (f"model.fusion={f}", *text) for f in ("concat", "static", "gated", "two_way")},
        }
    if experiment == "text-ablation":
        fuse = ("model.fusion=two_way",)
        inlm = {
            "inlm-multi-prompt/suffix": ("text.mode=inlm-multi-prompt", "text.position=suffix"),
            "inlm-multi-prompt/prefix": ("text.mode=inlm-multi-prompt", "text.position=prefix"),
            "inlm-one-prompt/suffix": ("text.mode=inlm-one-prompt", "text.position=suffix"),
            "inlm-lora": ("text.mode=inlm-lora", "text.position=prefix"),
        }
        return {
            "cached-frozen": (*fuse, *PROMPT_LM, "text.mode=cached-frozen"),
            "cached-queries": (*fuse, *PROMPT_LM, "text.mode=cached-queries"),
            **{name: (*fuse, *PROMPT_LM, *mode) for name, mode in inlm.items()},
            "sentence": (*fuse, "text.encoder=sentence", "text.model=minilm"),
        }
    raise ValueError(f"{experiment} does not define a model set")
