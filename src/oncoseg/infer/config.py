"""Run configuration: dataclasses with commented defaults, a strict YAML loader, overrides.

A YAML file has up to five sections (``data``, ``model``, ``text``, ``train``, ``infer``) plus
``out``; unknown sections or keys are errors that name the key. ``--set train.lr=3e-4`` style
overrides are parsed as YAML scalars and type-checked against the field. The schema lives
with inference: a run's ``config.yaml`` rebuilds its model, read by ``oncoseg.infer`` without
the training loop. Settings that lost their ablation were removed (``REMOVED``, results in
docs/ablations.md); a stored run that names one at its old default loads with a logged note,
one that set it otherwise is refused by name. A written config carries ``version``
(:data:`CONFIG_VERSION`); a default that changes for new runs keeps its old value for a file
of an older version that does not set it (:func:`load_config`), so a stored run rebuilds the
model it trained; a file without ``version`` is version 1.

Example:
    >>> cfg = load_config(None, ["train.epochs=3", "model.fusion=none"])
    >>> cfg.train.epochs, cfg.model.fusion
    (3, 'none')
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from oncoseg.models.multimodal import ModelConfig
from oncoseg.text.factory import TextConfig, canonical_mode

log = logging.getLogger(__name__)

# settings removed after their ablation lost (docs/ablations.md) -> their old default; a
# stored config.yaml still names them
REMOVED: dict[str, Any] = {
    "data.cache_images": True,  # never read
    "model.head_prior": 0.0,
    "train.mirror": 0.0,
    "train.note_pairs": False,
    "train.init_from": "",
    "train.dice_background": True,
    "train.spatial_aug": 0.0,
}

# the schema version written into config.yaml; a file without one is version 1
CONFIG_VERSION = 2
# model.fusion_grid for a new two_way run (docs/models.md, "Attention grid"). Version 1
# files default to 0 (every voxel attends): what runs trained before version 2 used
FUSION_GRID = 8


@dataclass
class DataConfig:
    dataset: str = ""  # dataset folder (oncoseg format)
    fold: int = 0  # splits.json fold used for validation; -1: train on all, no validation
    train_fraction: float = 1.0  # use this share of the fold's training cases (seeded subset)
    patch_size: tuple[int, int, int] = (64, 64, 64)  # training crop (voxels)
    # voxel spacing (mm, model axis order) the model works at; cases are resampled to it for
    # training and inference resamples back (nnU-Net's target spacing). Empty: the median
    # spacing of the training cases, which are then used as they are
    spacing: tuple[float, ...] = ()
    # patch centres drawn per class with these ratios, background first (MONAI's
    # RandCropByLabelClassesd; a class a case lacks is skipped); empty: uniform crops
    crop_ratios: tuple[float, ...] = ()


SCHEDULES = ("cosine", "poly", "constant")


@dataclass
class TrainConfig:
    epochs: int = 50
    batch_size: int = 2
    lr: float = 1e-4  # AdamW
    weight_decay: float = 1e-5
    warmup_steps: int = 20  # linear warm-up, then the schedule
    # learning rate after warm-up: cosine (decay to 0), poly (nnU-Net's (1 - t)^0.9) or
    # constant
    schedule: str = "cosine"
    seed: int = 0
    # autocast to bfloat16 (fusion blocks stay fp32 on CPU): an epoch of the demo's
    # note-guided model costs ~0.6x fp32's on 2 CPU cores, and bf16 with 44 epochs beat fp32
    # with 28 on the validation cases (docs/results.md, "Note guidance over seeds")
    bf16: bool = False
    # fp32 | bf16 | auto (bf16 only where the CPU or GPU runs it natively: AVX-512 BF16 or
    # AMX, oneDNN not capped below them; elsewhere bf16 autocast is up to 150x slower) | "":
    # train.bf16 decides. The outcome is stored in train.bf16; prediction uses bf16 only
    # where it is native, whatever the run trained with
    precision: str = ""
    augment: bool = True  # intensity aug always; left-right flips only for vision-only
    # note variants (note-guided models, on a dataset whose task provides them through
    # oncoseg.tasks; other tasks refuse a share > 0). note_swap: share of samples whose note
    # is replaced by one equally consistent with the image, with its own label (breast_ctv:
    # the same patient with another N stage, the label by the rule table; the nodal status
    # never shows in the image). side_swap: share whose note names the other side, the
    # label moved with it; unlike note_swap this contradicts the image (a mastectomy
    # shows), so the model learns that the note decides the side. See docs/models.md
    note_swap: float = 0.0
    side_swap: float = 0.0
    # share of note_swap's draws that take the same patient with the other surgery
    # (breast_ctv: breast-conserving <-> mastectomy, the label by the rule table: breast <->
    # chest wall); the rest draw among the N-stage variants (a case without them keeps its
    # own note). Like side_swap this contradicts the image, so the model learns that the note
    # decides breast or chest wall; the voxels it moves have their own note-voxel term.
    # 0: none. Above 0 it needs note_swap > 0
    surgery_variants: float = 0.0
    # epochs trained before the surgery variants are drawn (0: from the first): a model that
    # has not yet learnt to read the note takes a label that contradicts the image as noise
    surgery_after: int = 0
    # one weight per class (background first) for both loss terms (MONAI DiceCELoss
    # ``weight``); empty: all 1. A foreground weight above 1 makes a missed target voxel cost
    # more than a wrongly drawn one, which moves uncertain borders outwards
    class_weights: tuple[float, ...] = ()
    # an extra cross-entropy term (unweighted by class), with this weight, on the voxels whose
    # label depends on the note, two kinds each averaged over its own voxels: where a
    # sample's N-stage variants (note_swap) disagree with its label (the nodal compartments),
    # and where the other side's label does (the other-side labels, and their notes in the
    # context standardisation, are built for this even with side_swap 0). The Dice + CE loss
    # averages over every voxel, so the few only the note decides barely move it and a model
    # learns to half-draw them; 0: off. Needs a note-guided model with augmentation and
    # note_swap > 0 (docs/models.md, "Note-dependent voxels")
    note_voxel_weight: float = 0.0
    # the classes each note's reader rules out (``absent``: a target the prescription
    # leaves out) get no probability in the loss and at validation, as at prediction
    # (``Predictor.rule_out``). Needs a note reader (text.reader)
    rule_out: bool = False
    val_every: int = 1  # epochs
    device: str = "auto"  # auto | cpu | cuda
    sw_batch_size: int = 2  # sliding-window batch at validation
    # CPU threads of training: 0 = PyTorch's default (every core); n > 0: n threads for the
    # first threads_epochs epochs (0: all of them), then the default. Set by an experiment
    # that trains its models side by side (ExperimentConfig.side_by_side); part of the
    # recipe, since the thread count changes the rounding
    threads: int = 0
    threads_epochs: int = 0


@dataclass
class InferConfig:
    """How probabilities become labels at prediction time; never read by training, so a
    stored model serves any of these settings (the model store's key leaves them out)."""

    # a voxel is labelled when its foreground probability (1 - P(background)) exceeds this,
    # then with its likeliest foreground class; null: argmax over all classes (0.5 for one
    # foreground class). Lower trades precision for coverage: choose it on validation cases
    threshold: float | None = None
    # classes whose largest connected component alone is kept; null: the run's choice made
    # on validation (postprocess.json, `oncoseg postprocess RUN`), none without one
    largest_component: tuple[int, ...] | None = None


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    text: TextConfig = field(default_factory=TextConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    out: str = "runs/train"  # run directory


class ConfigError(ValueError):
    """A config file or override is invalid."""


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _coerce(value, args[0], where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        inner = typing.get_args(tp)[0]
        return tuple(_coerce(v, inner, where) for v in value)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    if tp is int and isinstance(value, bool):
        raise ConfigError(f"{where}: expected int, got {value!r}")
    return value


def _apply(obj: Any, values: dict[str, Any], where: str, prefix: str = "") -> None:
    hints = typing.get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for key, value in values.items():
        if key not in names:
            if prefix + key in REMOVED:
                _removed(prefix + key, value, where)
                continue
            raise ConfigError(f"{where}: unknown key {key!r} (known: {sorted(names)})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}.{key}: expected a mapping")
            _apply(current, value, f"{where}.{key}", f"{prefix}{key}.")
        else:
            if prefix + key == "train.surgery_variants" and isinstance(value, bool):
                # written as a switch before it became a share (7774f59's runs): the pool drew
                # the surgery variant in one of five draws of a case with N-stage variants
                value = 0.2 if value else 0.0
            setattr(obj, key, _coerce(value, hints[key], f"{where}.{key}"))


def _removed(key: str, value: Any, where: str) -> None:
    """A removed setting: dropped at its old default (stored runs), refused otherwise."""
    if value == REMOVED[key]:
        log.info("%s: dropped %s=%r (removed setting, its old default)", where, key, value)
        return
    raise ConfigError(
        f"{where}: {key}={value!r} is a removed setting (only its old default "
        f"{REMOVED[key]!r} still loads); see docs/ablations.md"
    )


def load_config(
    path: str | os.PathLike[str] | None,
    overrides: list[str] | None = None,
) -> RunConfig:
    """Read a YAML config (or defaults) and apply ``key.sub=value`` overrides.

    Settings neither the file nor an override gives take the defaults of the file's
    ``version`` (no file: a new run, today's): ``model.fusion_grid`` is 8 for a new
    ``two_way`` run, 0 for other fusions and for version 1 files."""
    raw = _read_yaml(path) if path is not None else {}
    version = _version(raw.pop("version", 1 if path is not None else CONFIG_VERSION), path)
    cfg = RunConfig()
    _apply(cfg, raw, str(path))
    given = _keys(raw)
    for nested in _parse_overrides(overrides):
        _apply(cfg, nested, "--set")
        given |= _keys(nested)
    if "model.fusion_grid" not in given:
        new_two_way = version >= 2 and cfg.model.fusion == "two_way"
        cfg.model.fusion_grid = FUSION_GRID if new_two_way else 0
    return _check_values(cfg)


def _version(value: Any, path: str | os.PathLike[str] | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{path}: version: expected a whole number >= 1, got {value!r}")
    if value > CONFIG_VERSION:
        raise ConfigError(
            f"{path}: version {value} was written by a newer oncoseg (this one reads up to "
            f"{CONFIG_VERSION}); upgrade oncoseg"
        )
    return value


def _keys(values: dict[str, Any], prefix: str = "") -> set[str]:
    """The dotted keys a (nested) mapping sets: {"model": {"fusion": x}} -> {"model.fusion"}."""
    out = set()
    for key, value in values.items():
        if isinstance(value, dict):
            out |= _keys(value, f"{prefix}{key}.")
        else:
            out.add(f"{prefix}{key}")
    return out


def _check_values(cfg: RunConfig) -> RunConfig:
    """Value rules the types alone do not carry, checked before anything is built."""
    try:
        cfg.text.mode = canonical_mode(cfg.text.mode)  # older runs name the seed's modes
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if cfg.data.spacing and len(cfg.data.spacing) != 3:
        raise ConfigError(f"data.spacing: expected 3 values (mm), got {list(cfg.data.spacing)}")
    for key in ("note_swap", "side_swap"):
        if not 0.0 <= getattr(cfg.train, key) <= 1.0:
            raise ConfigError(
                f"train.{key}: expected a share in [0, 1], got {getattr(cfg.train, key)}"
            )
    w = cfg.train.class_weights
    if w and (len(w) != cfg.model.out_channels or min(w) <= 0):
        raise ConfigError(
            f"train.class_weights: expected {cfg.model.out_channels} positive weights (one per "
            f"class, background first), got {list(w)}"
        )
    nv, tr = cfg.train.note_voxel_weight, cfg.train
    if (
        not math.isfinite(nv)
        or nv < 0
        or (nv > 0 and (tr.note_swap <= 0 or not tr.augment or cfg.model.fusion == "none"))
    ):
        raise ConfigError(
            "train.note_voxel_weight: expected a finite weight >= 0; above 0 it needs a "
            "note-guided model (model.fusion != none), train.augment and train.note_swap > 0 "
            f"(the voxels come from the note variants), got {nv} with fusion "
            f"{cfg.model.fusion!r}, augment {tr.augment}, note_swap {tr.note_swap}"
        )
    if tr.surgery_after < 0:
        raise ConfigError(f"train.surgery_after: expected epochs >= 0, got {tr.surgery_after}")
    sv = tr.surgery_variants
    if not 0.0 <= sv <= 1.0 or (sv > 0 and tr.note_swap <= 0):
        raise ConfigError(
            "train.surgery_variants: expected a share in [0, 1] of note_swap's draws; above 0 "
            f"it needs train.note_swap > 0, got {sv} with note_swap {tr.note_swap}"
        )
    _check_classes(cfg)
    t, lc = cfg.infer.threshold, cfg.infer.largest_component
    if t is not None and not 0.0 < t < 1.0:
        raise ConfigError(f"infer.threshold: expected a probability in (0, 1) or null, got {t}")
    if lc is not None and any(c < 1 for c in lc):
        raise ConfigError(f"infer.largest_component: expected foreground classes (>= 1), got {lc}")
    if cfg.train.threads < 0 or cfg.train.threads_epochs < 0:
        raise ConfigError(
            "train.threads, train.threads_epochs: expected whole numbers >= 0, got "
            f"{cfg.train.threads}, {cfg.train.threads_epochs}"
        )
    if cfg.train.schedule not in SCHEDULES:
        raise ConfigError(
            f"train.schedule: expected one of {list(SCHEDULES)}, got {cfg.train.schedule!r}"
        )
    return cfg


def _check_classes(cfg: RunConfig) -> None:
    """The per-class settings: patch centres per class, classes a note rules out."""
    r = cfg.data.crop_ratios
    if r and (len(r) != cfg.model.out_channels or min(r) < 0 or sum(r) <= 0):
        raise ConfigError(
            f"data.crop_ratios: expected {cfg.model.out_channels} ratios >= 0 (one per class, "
            f"background first, not all 0), got {list(r)}"
        )
    if cfg.train.rule_out and (cfg.model.fusion == "none" or not cfg.text.reader):
        raise ConfigError(
            "train.rule_out: needs a note-guided model (model.fusion != none) with a note "
            f"reader (text.reader), got fusion {cfg.model.fusion!r}, reader {cfg.text.reader!r}"
        )


T = typing.TypeVar("T")


def load_into(cfg: T, path: str | os.PathLike[str] | None, overrides: list[str] | None) -> T:
    """Fill the dataclass ``cfg`` from a YAML file, then ``key.sub=value`` overrides."""
    if path is not None:
        _apply(cfg, _read_yaml(path), str(path))
    for nested in _parse_overrides(overrides):
        _apply(cfg, nested, "--set")
    return cfg


def _read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: config file not found")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    return raw


def _parse_overrides(overrides: list[str] | None) -> list[dict[str, Any]]:
    """``["a.b=1"]`` -> ``[{"a": {"b": 1}}]`` (values parsed as YAML scalars)."""
    parsed = []
    for item in overrides or []:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"override {item!r}: expected key=value")
        value = yaml.safe_load(text)
        *parents, leaf = key.strip().split(".")
        nested: dict[str, Any] = {leaf: value}
        for parent in reversed(parents):
            nested = {parent: nested}
        parsed.append(nested)
    return parsed


def to_dict(cfg: RunConfig) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


def dump_config(cfg: RunConfig) -> str:
    """The YAML a run folder keeps: every setting, under this schema's ``version``."""
    return yaml.safe_dump({"version": CONFIG_VERSION, **to_dict(cfg)}, sort_keys=False)
