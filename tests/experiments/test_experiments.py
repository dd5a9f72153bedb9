"""Experiments end to end with tiny models (one epoch): schema, reports, reuse, statistics."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from oncoseg.experiments.config import ExperimentConfig, load_experiment_config
from oncoseg.experiments.runner import run_experiment
from oncoseg.experiments.store import model_key
from oncoseg.infer.config import ConfigError, load_config
from oncoseg.train.trainer import split_cases

TINY = ("model.preset=tiny", "data.patch_size=[32,32,32]", "train.warmup_steps=2", "data.fold=0")
METRIC_KEYS = {"mean", "sd", "median", "ci_low", "ci_high"}


def _cfg(tmp_path: Path, lm: Path, **kw: object) -> ExperimentConfig:
    base: dict[str, object] = dict(
        cases=6,
        test_cases=3,
        external_cases=2,
        size=32,
        epochs=1,
        train=TINY,
        multimodal=("model.fusion=two_way", f"text.model={lm}", "text.position=suffix"),
        store=str(tmp_path / "models"),
        data_dir=str(tmp_path / "data"),
    )
    base.update(kw)
    return ExperimentConfig(**base)  # type: ignore[arg-type]


def test_counterfactual_experiment_writes_schema_and_reports(
    tmp_path: Path, tiny_lm_dir: Path
) -> None:
    cfg = _cfg(tmp_path, tiny_lm_dir)
    path = run_experiment("counterfactual", cfg, tmp_path / "cf", command="oncoseg test")
    doc = json.loads(path.read_text())
    for key in ("experiment", "dataset", "command", "commit", "data_hash", "models", "comparisons"):
        assert key in doc
    assert (doc["experiment"], doc["dataset"], doc["command"]) == (
        "counterfactual",
        "breast_ctv",
        "oncoseg test",
    )
    assert set(doc["models"]) == {"vision", "multimodal"}
    for sites in doc["models"].values():
        assert set(sites) == {"internal", "external"}
        assert (sites["internal"]["n"], sites["external"]["n"]) == (3, 2)
        assert set(sites["internal"]["dice"]) >= METRIC_KEYS
        clin = sites["internal"]["clinical"]
        assert clin["correct"] + clin["minor"] + clin["incorrect"] == 3
    comp = {(c["site"], c["metric"]) for c in doc["comparisons"]}
    assert ("internal", "dice") in comp and ("external", "hd95") in comp
    assert all({"t_test_p", "wilcoxon_p", "a", "b"} <= set(c) for c in doc["comparisons"])
    cf = doc["counterfactual"]
    # a vision-only model predicts one mask whatever the note says: it never follows
    assert cf["vision"]["nodal_follows_note"] == 0 and cf["vision"]["side_follows_note"] == 0
    assert cf["multimodal"]["n"] == 3 and len(cf["multimodal"]["cases"]) == 3
    # the same on each run's validation cases (training cases of the cohort, never test ones)
    val = json.loads((Path(doc["runs"]["multimodal"]) / "provenance.json").read_text())
    cf_val = doc["counterfactual_validation"]["multimodal"]
    assert [c["case"] for c in cf_val["cases"]] == val["val_cases"] and cf_val["n"] >= 1
    assert doc["counterfactual_validation"]["vision"]["nodal_follows_note"] == 0
    # the foreground-threshold sweep, on validation cases only; at 0.5 it is the argmax
    assert "sweep" not in cf["multimodal"]
    sweep = cf_val["sweep"]
    assert list(sweep) == ["0.5", "0.45", "0.4", "0.35", "0.3"]
    assert sweep["0.5"]["nodal_follows_note"] == cf_val["nodal_follows_note"]
    assert all(0.0 <= r["dice"] <= 1.0 for r in sweep.values())
    assert (
        "Foreground threshold on the validation cases"
        in (tmp_path / "cf" / "summary.md").read_text()
    )
    assert "share of validation cases" in (tmp_path / "cf" / "summary.md").read_text()
    html = (tmp_path / "cf" / "report.html").read_text()
    assert "<table>" in html and html.count("data:image/png;base64,") >= 4  # box, cf, 3 cases
    assert "Counterfactual" in (tmp_path / "cf" / "summary.md").read_text()
    assert len(list((tmp_path / "cf" / "predictions" / "multimodal" / "external").iterdir())) == 2

    # a second experiment reuses the identical trained models instead of retraining
    done = Path(doc["runs"]["vision"]) / "done.json"
    stamp = done.stat().st_mtime_ns
    doc2 = json.loads(run_experiment("compare", cfg, tmp_path / "cmp").read_text())
    assert doc2["runs"] == doc["runs"] and done.stat().st_mtime_ns == stamp
    assert (
        doc2["models"]["vision"]["internal"]["dice"] == doc["models"]["vision"]["internal"]["dice"]
    )

    # a prediction setting is not part of the model's key: the stored model serves it, and a
    # lower foreground threshold only grows the contours
    low = dataclasses.replace(cfg, multimodal=(*cfg.multimodal, "infer.threshold=0.3"))
    doc3 = json.loads(run_experiment("counterfactual", low, tmp_path / "cf-low").read_text())
    assert doc3["runs"] == doc["runs"] and done.stat().st_mtime_ns == stamp
    assert doc3["infer"] == {
        "vision": ["infer.threshold=null", "infer.largest_component=null"],
        "multimodal": ["infer.threshold=0.3", "infer.largest_component=null"],
    }
    before = {c["case"]: c for c in cf["multimodal"]["cases"]}
    for c in doc3["counterfactual"]["multimodal"]["cases"]:
        for key in ("nodal_cover_n0", "nodal_cover_n2"):
            assert c[key] >= before[c["case"]][key]
    assert doc3["counterfactual_validation"]["multimodal"]["sweep"] == sweep


def test_kfold_scores_every_training_case_once(tmp_path: Path, tiny_lm_dir: Path) -> None:
    cfg = _cfg(tmp_path, tiny_lm_dir, folds=2, external_cases=0, vision=("model.fusion=none",))
    cfg.multimodal = ("model.fusion=none", "train.lr=1e-3")  # a second vision model: fast
    doc = json.loads(run_experiment("kfold", cfg, tmp_path / "kf").read_text())
    assert doc["folds"] == 2 and len(doc["runs"]["vision"]) == 2
    data = Path(cfg.data_dir) / "breast_ctv-internal-6+3-32-prompt-s0"
    splits = json.loads((data / "splits.json").read_text())
    n_val = len(splits[0]["val"]) + len(splits[1]["val"])
    assert doc["models"]["vision"]["cv"]["n"] == n_val


def test_train_fraction_nested_subsets(tmp_path: Path) -> None:
    from oncoseg.data.phantom_cohort import write_cohort
    from oncoseg.tasks import breast_ctv

    ds = write_cohort(tmp_path / "d", breast_ctv.cohort_spec(), cases=10, size=32, seed=1)
    ids = {}
    for frac in (0.4, 0.6, 1.0):
        cfg = load_config(None, [f"data.dataset={ds}", f"data.train_fraction={frac}"])
        ids[frac] = set(split_cases(cfg)[0])
    assert len(ids[1.0]) == 8 and len(ids[0.6]) == 5 and len(ids[0.4]) == 3
    assert ids[0.4] < ids[0.6] < ids[1.0]
    with pytest.raises(ValueError, match="train_fraction"):
        split_cases(load_config(None, [f"data.dataset={ds}", "data.train_fraction=0"]))


def test_model_key_ignores_paths_but_not_training() -> None:
    a = model_key(["data.dataset=/a", "out=/x", "train.epochs=3"], "h1")
    assert a == model_key(["data.dataset=/b", "out=/y", "train.epochs=3"], "h1")
    assert a == model_key(["train.epochs=3", "infer.threshold=0.4"], "h1")  # prediction only
    assert a != model_key(["train.epochs=4"], "h1") and a != model_key(["train.epochs=3"], "h2")


def test_experiment_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key 'epoch'"):
        load_experiment_config(None, ["epoch=3"])
    with pytest.raises(ConfigError, match="kfold_of"):
        load_experiment_config(None, ["kfold_of=kfold"])
    with pytest.raises(ConfigError, match="fractions"):
        load_experiment_config(None, ["fractions=[0.5, 1.5]"])
    bad = tmp_path / "e.yaml"
    bad.write_text("epochs: [1\n")
    with pytest.raises(ConfigError, match="e.yaml"):
        load_experiment_config(str(bad), [])


def test_every_shipped_config_loads() -> None:
    configs = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
    assert len(configs) >= 5
    for path in configs:
        cfg = load_experiment_config(str(path), [])
        for overrides in (cfg.vision, cfg.multimodal):
            load_config(None, [*cfg.train, *overrides])  # every override names a real key


OPENKBP = Path(__file__).resolve().parents[3] / "shared" / "data" / "openkbp"


@pytest.mark.slow  # about 2 min alone: 128^3 sliding windows, 5 predictions per test case
@pytest.mark.skipif(not OPENKBP.is_dir(), reason="../shared/data/openkbp absent")
def test_openkbp_counterfactual_and_prescription_breakdown(
    tmp_path: Path, tiny_lm_dir: Path
) -> None:
    import shutil

    from oncoseg.tasks.openkbp.convert import convert_openkbp

    src = tmp_path / "src"
    for group, pts in (("train-pats", 2), ("validation-pats", 1), ("test-pats", 2)):
        for p in sorted((OPENKBP / group).iterdir())[:pts]:
            shutil.copytree(p, src / group / p.name)
    convert_openkbp(src, tmp_path / "kbp")
    cfg = _cfg(tmp_path, tiny_lm_dir, dataset=str(tmp_path / "kbp"))
    cfg.train = (*TINY[1:], "model.preset=tiny", "data.patch_size=[64,64,64]", "train.batch_size=1")
    # the full-resolution recipe's two settings (configs/openkbp_full_cpu.yaml)
    cfg.train = (*cfg.train, "data.crop_ratios=[1,1,1,1]", "model.out_channels=4")
    cfg.multimodal = (*cfg.multimodal, "text.reader=openkbp", "train.rule_out=true")
    doc = json.loads(run_experiment("counterfactual", cfg, tmp_path / "cf").read_text())
    assert doc["dataset"] == "openkbp"
    internal = doc["models"]["multimodal"]["internal"]
    assert internal["n"] == 2 and set(internal["classes"]) == {"PTV70", "PTV63", "PTV56"}
    shares = doc["counterfactual"]["multimodal"]["shares"]
    # per target: both edits together, then added (patients without it) and removed (with it)
    assert len(shares) == 6 and all(0 <= v <= 1 for v in shares.values())
    assert all(v == 0 for v in doc["counterfactual"]["vision"]["shares"].values())
    targets = doc["by_prescription"]["models"]["vision"]["targets"]
    assert set(targets) == {"PTV70", "PTV63", "PTV56"}
    assert all(g["prescribed"]["n"] + g["not_prescribed"]["n"] == 2 for g in targets.values())
    assert targets["PTV70"]["prescribed"]["n"] == 2  # every patient has the primary
    assert (
        doc["by_prescription"]["paired_vs_vision"]["multimodal"]["mean_prescribed_dice"]["n"] == 2
    )
    assert "Targets where prescribed" in (tmp_path / "cf" / "summary.md").read_text()
    # the note-guided model draws no target its prescription leaves out
    for g in doc["by_prescription"]["models"]["multimodal"]["targets"].values():
        assert g["not_prescribed"]["drawn_under_1cc"] in (None, 1.0)
    for case in doc["counterfactual"]["multimodal"]["cases"]:
        assert case["PTV63_cc_without"] == case["PTV56_cc_without"] == 0.0


def test_demo_report_and_model_links(tmp_path: Path, tiny_lm_dir: Path) -> None:
    from oncoseg.experiments.demo import run_demo

    report = run_demo(tmp_path / "demo", cfg=_cfg(tmp_path, tiny_lm_dir, external_cases=0))
    text = report.read_text()
    assert text.startswith("# oncoseg demo: experiment `counterfactual`")
    assert "Total wall-clock time" in text and "brain_tumor phantom" in text
    for name in ("vision", "multimodal"):
        link = tmp_path / "demo" / name
        assert link.is_symlink() and (link / "best.pt").exists()
    for png in ("counterfactual_multimodal.png", "dice.png"):
        assert (tmp_path / "demo" / "figures" / png).stat().st_size > 1000
    doc = json.loads((tmp_path / "demo" / "results.json").read_text())
    assert doc["seconds_total"] > 0 and (tmp_path / "demo" / "report.html").exists()


def test_store_lock_serialises_concurrent_training(tmp_path: Path) -> None:
    import threading
    import time

    from oncoseg.experiments.store import store_lock

    lock, order = tmp_path / "store" / ".m.lock", []

    def first() -> None:
        with store_lock(lock):
            order.append("first in")
            time.sleep(0.5)
            order.append("first out")

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.1)
    with store_lock(lock):  # waits until the first holder is done
        order.append("second in")
    t.join()
    assert order == ["first in", "first out", "second in"]


def test_store_reuses_a_model_trained_before_a_setting_existed(tmp_path: Path) -> None:
    from oncoseg.experiments.store import equivalent_stored, model_key

    overrides = ["train.epochs=2", "model.fusion=none"]
    old = tmp_path / "store" / "vision-0123456789ab"  # the key an older version gave it
    old.mkdir(parents=True)
    (old / "done.json").write_text(json.dumps({"key": "0123456789ab", "overrides": overrides}))
    (old / "provenance.json").write_text(json.dumps({"data_hash": "d1"}))
    want = tmp_path / "store" / f"vision-{model_key(overrides, 'd1')}"
    assert equivalent_stored(want, overrides, "d1") == old
    assert equivalent_stored(want, overrides, "d2") is None  # other data
    other = ["train.epochs=3", "model.fusion=none"]
    assert equivalent_stored(tmp_path / "store" / "vision-x", other, "d1") is None
    # another name, same model: data-efficiency's 100 % run is compare's run
    full = [*overrides, "data.train_fraction=1.0"]
    assert equivalent_stored(tmp_path / "store" / "vision@100%-x", full, "d1") == old
    half = [*overrides, "data.train_fraction=0.5"]
    assert equivalent_stored(tmp_path / "store" / "vision@50%-x", half, "d1") is None
    (old / "provenance.json").write_text("{broken")
    assert equivalent_stored(want, overrides, "d1") is None  # unreadable: not a match


def test_demo_config_file_matches_the_demo() -> None:
    from oncoseg.experiments.demo import demo_config

    root = Path(__file__).resolve().parents[2]
    assert load_experiment_config(str(root / "configs" / "breast_ctv_demo_cpu.yaml"), []) == (
        demo_config()
    )


def test_cached_cohort_is_remade_when_the_generator_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oncoseg.experiments import cohorts as experiments

    cfg = ExperimentConfig(
        cases=3, test_cases=1, external_cases=0, size=32, data_dir=str(tmp_path / "data")
    )
    first = experiments.prepare_data(cfg)
    note = first.internal / "notesTr" / "bctv_int_0000.txt"
    original = note.read_text()
    note.write_text("stale note from an older generator")
    # same generator: the cache is trusted as it is
    assert experiments.prepare_data(cfg).hashes != first.hashes
    assert note.read_text() == "stale note from an older generator"
    # other generator code: the cohort is remade and its hash is the original one again
    monkeypatch.setattr(experiments, "generator_fingerprint", lambda task: "0123456789abcdef")
    again = experiments.prepare_data(cfg)
    assert note.read_text() == original and again.hashes == first.hashes
    stamp = Path(cfg.data_dir) / "breast_ctv-internal-3+1-32-prompt-s0.generator"
    assert stamp.read_text().strip() == "0123456789abcdef"


def test_side_by_side_trains_both_models_with_a_thread_schedule(
    tmp_path: Path, tiny_lm_dir: Path
) -> None:
    """Two models at once: the shorter in a child process on one thread, the longer here on
    one thread for its first side_by_side epochs; the schedule is in each run's config, the
    parent's thread count is restored, and an error is raised, not waited on."""
    import torch
    import yaml

    from oncoseg.experiments.cohorts import prepare_data
    from oncoseg.experiments.store import trained_all

    cfg = _cfg(tmp_path, tiny_lm_dir, external_cases=0, side_by_side=1)
    data = prepare_data(cfg)
    models = {"vision": ("model.fusion=none",), "multimodal": (*cfg.multimodal, "train.epochs=2")}
    threads = torch.get_num_threads()
    runs = trained_all(cfg, data, models)
    assert list(runs) == ["vision", "multimodal"] and torch.get_num_threads() == threads
    train = {n: yaml.safe_load((p / "config.yaml").read_text())["train"] for n, p in runs.items()}
    assert (train["vision"]["threads"], train["vision"]["threads_epochs"]) == (1, 0)
    assert (train["multimodal"]["threads"], train["multimodal"]["threads_epochs"]) == (1, 1)
    epochs = [len((p / "metrics.jsonl").read_text().splitlines()) for p in runs.values()]
    assert epochs == [1, 2]
    assert trained_all(cfg, data, models) == runs  # reused from the store
    # an error here stops the child's training too
    bad = {**models, "multimodal": (*models["multimodal"], "train.note_swap=2")}
    with pytest.raises(ConfigError, match="train.note_swap"):
        trained_all(dataclasses.replace(cfg, store=str(tmp_path / "other")), data, bad)


def test_epoch_threads_follows_the_schedule_and_restores() -> None:
    import torch

    from oncoseg.infer.config import TrainConfig
    from oncoseg.train.threads import epoch_threads

    before = torch.get_num_threads()
    seen = []
    with epoch_threads(TrainConfig(threads=1, threads_epochs=2)) as at:
        for epoch in range(4):
            at(epoch)
            seen.append(torch.get_num_threads())
    assert seen == [1, 1, before, before] and torch.get_num_threads() == before
    with epoch_threads(TrainConfig()) as at:
        at(0)
        assert torch.get_num_threads() == before
