from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from oncoseg.infer import Predictor
from oncoseg.infer.config import ConfigError, load_config
from oncoseg.io.image import Image, load_image, save_image
from oncoseg.tasks import note_variants_for
from oncoseg.train.trainer import train

BASE = [
    "model.preset=tiny",
    "data.patch_size=[32,32,32]",
    "train.batch_size=2",
    "train.lr=3e-3",
    "train.warmup_steps=2",
]


def _cfg(dataset: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return load_config(None, [f"data.dataset={dataset}", f"out={out}", *BASE, *extra])


def test_config_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("train:\n  epochs: 2\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match="unknown key 'learning_rate'"):
        load_config(bad)
    bad.write_text("model: [1, 2]\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_learning_rate_schedules() -> None:
    from oncoseg.train.optim import lr_factor

    warm = [lr_factor(s, 4, 24)(i) for s in ("cosine", "poly", "constant") for i in range(4)]
    assert warm == pytest.approx([0.25, 0.5, 0.75, 1.0] * 3)  # the same linear warm-up
    cosine, poly, const = (lr_factor(s, 4, 24) for s in ("cosine", "poly", "constant"))
    assert cosine(14) == pytest.approx(0.5) and poly(14) == pytest.approx(0.5**0.9)
    assert cosine(24) == pytest.approx(0.0) and poly(24) == pytest.approx(0.0)
    assert const(14) == const(24) == 1.0
    assert load_config(None, ["train.schedule=poly"]).train.schedule == "poly"
    with pytest.raises(ConfigError, match=r"train.schedule: expected one of \['cosine'"):
        load_config(None, ["train.schedule=step"])


def test_train_resume_writes_run_files(breast_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(_cfg(breast_dataset, out, "model.fusion=none", "train.epochs=2"))
    for name in (
        "config.yaml",
        "provenance.json",
        "plan.json",
        "metrics.jsonl",
        "best.pt",
        "last.pt",
    ):
        assert (out / name).exists(), name
    prov = json.loads((out / "provenance.json").read_text())
    assert len(prov["data_hash"]) == 16 and prov["commit"] and prov["val_cases"]
    train(_cfg(breast_dataset, out, "model.fusion=none", "train.epochs=3"), resume=True)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) and 0 <= r["val_dice"] <= 1 for r in lines)
    ckpt = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 3 and ckpt["step"] == lines[-1]["step"]


def test_same_seed_same_weights(breast_dataset: Path, tmp_path: Path) -> None:
    states = []
    for name in ("a", "b"):
        train(
            _cfg(
                breast_dataset,
                tmp_path / name,
                "model.fusion=none",
                "train.epochs=1",
                "train.bf16=false",
            )
        )
        states.append(torch.load(tmp_path / name / "last.pt", weights_only=True)["model"])
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_removed_settings_load_at_their_old_default(tmp_path: Path) -> None:
    """A stored run's config.yaml may name a removed setting (docs/ablations.md): at its old
    default it is dropped, set otherwise it is refused by name."""
    old = tmp_path / "config.yaml"
    old.write_text(
        "data:\n  cache_images: true\nmodel:\n  head_prior: 0.0\n"
        "train:\n  epochs: 3\n  mirror: 0.0\n  note_pairs: false\n  init_from: ''\n"
        "  dice_background: true\n"
    )
    assert load_config(old).train.epochs == 3
    for key, value in (
        ("train.mirror", "0.5"),
        ("train.note_pairs", "true"),
        ("train.init_from", "runs/x"),
        ("train.dice_background", "false"),
        ("model.head_prior", "0.01"),
        ("data.cache_images", "false"),
    ):
        with pytest.raises(ConfigError, match=f"{key}=.* is a removed setting"):
            load_config(old, [f"{key}={value}"])


def _oblique(shape: tuple[int, int, int]) -> Image:
    theta = np.deg2rad(15)
    rot = np.array(
        [[np.cos(theta), 0, np.sin(theta)], [0, 1, 0], [-np.sin(theta), 0, np.cos(theta)]]
    )
    affine = np.eye(4)
    affine[:3, :3] = rot @ np.diag([-7.1, -5.3, 4.4])
    affine[:3, 3] = [120.5, 88.25, -140.0]
    data = np.random.default_rng(0).normal(-500, 300, shape).astype(np.int16)
    return Image(data, affine)


def test_predict_keeps_exact_input_geometry(breast_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(_cfg(breast_dataset, out, "model.fusion=none", "train.epochs=1"))
    predictor = Predictor.from_run(out)
    for shape in ((40, 36, 23), (32, 32, 32)):
        img = _oblique(shape)
        mask = predictor.predict([img])
        assert mask.shape == shape and mask.array.dtype == np.uint8
        assert np.array_equal(mask.affine, img.affine)
    with pytest.raises(ValueError, match="needs 1 channel"):
        predictor.predict([img, img])


def test_multimodal_run_with_local_lm_folder(
    breast_dataset: Path, tmp_path: Path, tiny_lm_dir: Path
) -> None:
    out = tmp_path / "mm"
    train(
        _cfg(
            breast_dataset,
            out,
            "model.fusion=two_way",
            f"text.model={tiny_lm_dir}",
            "train.epochs=1",
            "train.note_swap=0.5",  # other N stages with their labels
            "train.side_swap=0.5",  # and the other side, against the image
            "train.note_voxel_weight=1",  # the voxels only the note decides weigh more
            "model.deep_supervision=1",  # the note term on the finest output
        ),
        note_variants=note_variants_for(breast_dataset),  # the task's hook
    )
    # 6 training cases, batch 2
    assert [json.loads(line)["step"] for line in (out / "metrics.jsonl").open()] == [3]
    ckpt = torch.load(out / "best.pt", weights_only=True)["model"]
    assert not any(k.startswith("text_encoder.decoder.") for k in ckpt)  # frozen LM not copied
    assert "text_encoder.first_std" in ckpt and "text_encoder.state_std" in ckpt  # cached-frozen
    predictor = Predictor.from_run(out)
    img = _oblique((32, 32, 32))
    a = predictor.predict_proba([img], "N0, breast conserving surgery, left side")[0]
    b = predictor.predict_proba([img], "N3, total mastectomy, right side")[0]
    assert a.shape == (2, 32, 32, 32) and np.abs(a - b).max() > 0


def test_predict_cli(breast_dataset: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from oncoseg.cli import app

    out = tmp_path / "run"
    # deep supervision: trained on every decoder level, predicts from the finest only
    train(
        _cfg(breast_dataset, out, "model.fusion=none", "train.epochs=1", "model.deep_supervision=2")
    )
    (record,) = [json.loads(line) for line in (out / "metrics.jsonl").open()]
    assert math.isfinite(record["loss"]) and record["loss"] > 0
    assert any(
        k.startswith("unet.aux_heads.1.")
        for k in torch.load(out / "last.pt", weights_only=True)["model"]
    )
    img = _oblique((30, 34, 20))
    save_image(img, tmp_path / "in_0000.nii.gz")
    res = CliRunner().invoke(
        app,
        [
            "predict",
            "--model",
            str(out),
            "-i",
            str(tmp_path / "in_0000.nii.gz"),
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    mask = load_image(tmp_path / "o" / "in.nii.gz")
    assert mask.shape == (30, 34, 20) and np.allclose(mask.affine, img.affine, atol=1e-5)
    res = CliRunner().invoke(
        app,
        [
            "predict",
            "--model",
            str(tmp_path / "nope"),
            "-i",
            str(tmp_path / "in_0000.nii.gz"),
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 2 and "not found" in res.output


# One case fitted from the product's start: PyTorch's output bias (every voxel starts at
# P(foreground) ~0.5) and its loss (Dice over both classes + cross-entropy), for
# OVERFIT_STEPS steps at lr 1e-2 held constant after a 2-step warm-up.
#
# Measured 2026-12-06 on a 2-core AMD EPYC between a6b035f and 0184041 (the test at 0184041
# reproduces 0.882 and 0.825), training seeds 0 / 1 / 2, foreground Dice (background Dice
# 0.998-0.999 once the target shows):
# - N0 case (cohort seed 0, target 0.65% of the 64³ volume): after 20 steps 0.005 / 0.877 /
#   0.855; after 40 0.882 / 0.886 / 0.885 (with 2 deep-supervision levels 0.889 / 0.888 /
#   0.887); after 60 0.892 / 0.905 / 0.901. Loss 1.24-1.42 -> 0.07 after 40 steps.
# - N2 case (cohort seed 4, 1.0%: breast plus nodal compartments the CT does not outline),
#   2 deep-supervision levels: after 20 steps 0.758 / 0.529 / 0.711; after 24 0.794 /
#   0.809 / 0.785; after 40 0.825 / 0.826 / 0.831 (without deep supervision, seed 0: 0.125
#   / 0.853 / 0.864 after 20 / 40 / 60). Loss 1.25-1.31 -> 0.064-0.069 after 40 steps.
# The first ~10 steps push the whole volume towards background (P(foreground) 0.47 -> 0.01
# outside the target, 0.49 -> 0.13-0.2 inside); P(foreground) inside then climbs back
# across argmax's 0.5, where Dice jumps from ~0 to over 0.5: between steps 13 and 22 (N0)
# and 17 and 20 (N2), depending on the seed. 40 steps leave 18 or more beyond the latest
# crossing seen; the floors lie 0.08 (N0) and 0.075 (N2) under the lowest run. A broken
# training fails both checks (seed 0, 40 steps): lr 0 leaves the loss where it started and
# Dice at 0.015 (N0) / 0.024 (N2); the label's voxels shuffled give Dice 0.001 / 0.0 with
# the loss at 0.37x / 0.26x its start (hence the loss bound 0.2x, not the former 0.4x).
#
# Why the earlier floors failed (issue #33: N0 > 0.9 after 20 steps, N2 > 0.75 after 20 and
# > 0.95 after 100): they were measured (5b28b1c, 48cd397) with the output bias at a 1%
# foreground prior and the Dice term over the foreground only, which skip that
# all-background phase (N0: 0.93 after 20 steps). b87aa0b removed both settings from the
# product (they lost their ablations on the task, docs/ablations.md) and 46cee0e dropped them
# from this test without re-measuring: after 20 steps seed 0 stands at P(foreground) 0.445
# inside the N0 target, just under 0.5, Dice 0.005, while the loss fell to 0.17x its start.
OVERFIT_STEPS = 40
OVERFIT = [  # (cohort seed, N stage of its one case, deep-supervision levels, Dice floor)
    (0, "N0", 0, 0.8),
    (4, "N2", 2, 0.75),
]


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "stage", "ds", "floor"), OVERFIT)
def test_overfit_one_case(tmp_path: Path, seed: int, stage: str, ds: int, floor: float) -> None:
    """The training machinery fits one case (vision-only, batch 1, no augmentation) from the
    product's start and loss; how the budget and floors were measured: above OVERFIT."""
    from oncoseg.data.dataset import read_clinical_csv
    from oncoseg.data.phantom_cohort import write_cohort
    from oncoseg.tasks import breast_ctv

    ds_root = write_cohort(tmp_path / "one", breast_ctv.cohort_spec(), cases=1, size=64, seed=seed)
    assert read_clinical_csv(ds_root)["bctv_int_0000"]["n_stage"] == stage
    out = tmp_path / "fit"
    cfg = load_config(
        None,
        [
            f"data.dataset={ds_root}",
            f"out={out}",
            "model.fusion=none",
            "data.fold=-1",
            "train.batch_size=1",
            f"train.epochs={OVERFIT_STEPS}",
            "train.lr=1e-2",
            "train.schedule=constant",
            "train.augment=false",
            "train.warmup_steps=2",
            f"model.deep_supervision={ds}",
        ],
    )
    train(cfg)
    losses = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").open()]
    assert len(losses) == OVERFIT_STEPS and losses[-1] < 0.2 * losses[0], losses[::4]
    predictor = Predictor.from_run(out, checkpoint="last")
    case = ds_root / "imagesTr" / "bctv_int_0000_0000.nii.gz"
    mask = predictor.predict([load_image(case)]).array > 0
    gt = load_image(ds_root / "labelsTr" / "bctv_int_0000.nii.gz").array > 0
    dice = 2 * (mask & gt).sum() / (mask.sum() + gt.sum())
    background = 2 * (~mask & ~gt).sum() / ((~mask).sum() + (~gt).sum())
    print(
        f"overfit: {stage} case, {OVERFIT_STEPS} steps, DS {ds}: Dice {dice:.3f} "
        f"(background {background:.4f}), loss {losses[0]:.3f} -> {losses[-1]:.3f}"
    )
    assert dice > floor, dice


@pytest.mark.slow
def test_ddp_two_gloo_processes(breast_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29533",
        "-m",
        "oncoseg.cli",
        "train",
        "--set",
        f"data.dataset={breast_dataset}",
        "--set",
        f"out={out}",
        *[a for kv in BASE for a in ("--set", kv)],
        "--set",
        "model.fusion=none",
        "--set",
        "train.epochs=2",
        "--set",
        "train.device=cpu",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2  # rank 0 alone writes
    steps = json.loads(lines[-1])["step"]
    assert steps == 2  # 6 training cases / batch 2 / 2 ranks = 1 step per epoch per rank


def test_training_at_a_configured_spacing(breast_dataset: Path, tmp_path: Path) -> None:
    from oncoseg.data.dataset import list_cases, read_case
    from oncoseg.data.loader import load_sample

    case_id = list_cases(breast_dataset, "Ts")[0]
    native = load_sample(breast_dataset, case_id, "Ts").spacing  # model axis order
    spacing = [round(2 * v, 4) for v in native]
    coarse = load_sample(breast_dataset, case_id, "Ts", spacing)
    assert coarse.spacing == tuple(spacing) and coarse.image.shape[1:] == (16, 16, 16)
    out = tmp_path / "coarse"
    train(
        _cfg(breast_dataset, out, "model.fusion=none", "train.epochs=1", f"data.spacing={spacing}")
    )
    assert json.loads((out / "plan.json").read_text())["target_spacing"] == spacing
    # the model works at half resolution; the mask comes back on the input's grid
    case = read_case(breast_dataset, case_id, "Ts")
    mask = Predictor.from_run(out).predict(case.images)
    assert mask.shape == case.images[0].shape
    assert np.array_equal(mask.affine, case.images[0].affine)
    with pytest.raises(ConfigError, match="data.spacing"):
        train(_cfg(breast_dataset, tmp_path / "bad", "train.epochs=1", "data.spacing=[2.0,2.0]"))
    with pytest.raises(ConfigError, match="train.note_swap"):
        train(_cfg(breast_dataset, tmp_path / "bad", "train.epochs=1", "train.note_swap=-0.1"))
    with pytest.raises(ConfigError, match="train.side_swap"):
        train(_cfg(breast_dataset, tmp_path / "bad", "train.epochs=1", "train.side_swap=2"))
    # note variants come from the dataset's task; without its hook a share is refused
    bad = _cfg(breast_dataset, tmp_path / "bad", "model.fusion=two_way", "train.note_swap=0.5")
    with pytest.raises(ConfigError, match="no note variants were given"):
        train(bad)


def test_predict_prints_no_python_warnings(
    breast_dataset: Path, tmp_path: Path, tiny_lm_dir: Path
) -> None:
    """A good case through the real console script: the terminal shows the output path and
    nothing else (library FutureWarnings go to the debug log)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "mm"
    train(_cfg(breast_dataset, out, "model.fusion=two_way", f"text.model={tiny_lm_dir}"))
    save_image(_oblique((32, 32, 32)), tmp_path / "in_0000.nii.gz")
    (tmp_path / "note.txt").write_text("N2, total mastectomy, left side", encoding="utf-8")
    script = Path(sys.executable).parent / "oncoseg"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "oncoseg.cli"]
    res = subprocess.run(
        [*cmd, "predict", "-m", str(out), "-i", str(tmp_path / "in_0000.nii.gz")]
        + ["-n", str(tmp_path / "note.txt"), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "default"},
        timeout=600,
    )
    assert res.returncode == 0, res.stderr
    assert "Warning" not in res.stdout + res.stderr, res.stderr
    assert res.stdout.strip().endswith("in.nii.gz")
