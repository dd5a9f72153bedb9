"""``make demo``: the main job end to end on the embedded phantom cohorts.

It is the ``counterfactual`` experiment (which contains ``compare``) at CPU settings:

1. Generate breast_ctv internal (60 training + 20 test) and external (20 test) cohorts,
   validate them; a small brain_tumor cohort is drawn for the picture gallery.
2. Train a vision-only U-Net (16 epochs, bf16 where native) and the note-guided model
   (two_way fusion on an 8-voxel attention grid, SmolLM2 read once per note as the breast
   note reader gives it, other-N-stage note variants, a loss term on the voxels only the
   note decides, 28 epochs in fp32) on the internal
   training cases (fold 0 of splits.json validates), both at lr 3e-3 (``DEMO_TRAIN``).
   The models live in the experiment store (``runs/models``, reused by later
   experiments) and are linked as ``OUT/vision`` and ``OUT/multimodal``.
3. Evaluate both on the internal and external test cases: Dice, IoU, HD95 (mm) with
   bootstrap 95% CIs, paired tests, clinical accuracy.
4. Counterfactual notes on the same images: N0 <-> N2 and left <-> right.
5. Write ``report.md``, ``report.html``, ``results.json`` and figures, with command,
   commit and data hashes.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from oncoseg.data.dataset import list_cases
from oncoseg.data.phantom_cohort import write_cohort
from oncoseg.eval.figures import render_case_png
from oncoseg.experiments.config import MULTIMODAL, VISION, ExperimentConfig
from oncoseg.experiments.runner import run_experiment
from oncoseg.io.atomic import write_json, write_text
from oncoseg.tasks import brain_tumor

# What the demo changes from the experiment defaults (configs/breast_ctv_demo_cpu.yaml), each
# chosen on validation cases (docs/results.md, "The demo recipe"): lr 3e-3 for both models;
# the note-guided model attends on an 8-voxel grid, learns from its training cases' other N
# stages (note_swap 0.75), weighs target voxels 3x in the loss (train.class_weights: a missed
# voxel of the thin nodal compartments costs more than a wrongly drawn one; validation N2
# nodal coverage 0.68 / 0.75 / 0.78 at weights 1 / 2 / 3), adds a cross-entropy on the voxels
# only the note decides (train.note_voxel_weight 0.2: the nodal compartments of the N stage
# and the breast of the side; without it the N stage was learnt late, at half strength, and
# needed 44 epochs; with it 24 sufficed for 14 of 15 seed x kernel cells, docs/models.md),
# is validated every second epoch and trains 28 epochs (24 left default-kernel seed 1
# drawing the nodes on N0 mastectomy notes: fold-0 validation nodal 50%; 28 epochs: seeds 0
# and 1 both 100%, N2 / N0 coverage 0.94 / 0.01, val Dice 0.862 / 0.878; W = 0.3 at 24
# epochs also followed, seeds 0-2, but with val Dice 0.848 / 0.860 / 0.829, docs/history.md),
# and after its first 8 epochs a fifth of its note variants are the other surgery's
# (train.surgery_variants 0.2, train.surgery_after 8: without them the model followed a
# breast-conserving <-> mastectomy edit in 5 of 12 validation cases in seeds 0 and 1, with them
# in 12 of 12 at the same mean validation Dice; from the first epoch they left default-kernel
# seed 2 learning so slowly that it missed the side, validation Dice 0.73; docs/history.md).
# Precision: the note-guided model trains in fp32 on every machine, because bf16 (on a CPU
# with AMX) left its N-stage margin too thin to hold (DESIGN §8); the vision-only model, which
# bf16 does not harm, uses bf16 where the hardware runs it natively (train.precision=auto).
# The breast note reader (text.reader) gives the model every note in the form it trains on,
# so notes written any way reach it as their side, surgery and N stage.
DEMO_TRAIN = ("train.lr=3e-3", "train.batch_size=2", "data.fold=0")
# validated every second epoch, as the note-guided model (each validation ~2 s of a ~12 s epoch)
DEMO_VISION = (*VISION, "train.precision=auto", "train.val_every=2")
DEMO_EPOCHS = 16  # the vision-only model's
# notes in phrasings neither the model nor the note reader saw (written blind; read by the
# demo when run from a checkout, as `make demo` is)
DEMO_HELDOUT = "configs/heldout/breast_notes_heldout_v5.json"
DEMO_NOTE_EPOCHS = 28
DEMO_MULTIMODAL = (
    *MULTIMODAL,
    "text.reader=breast_ctv",
    "model.fusion_grid=8",
    "train.note_swap=0.75",
    "train.class_weights=[1,3]",
    "train.note_voxel_weight=0.2",
    "train.surgery_variants=0.2",
    "train.surgery_after=8",
    "train.val_every=2",
    "train.precision=fp32",
)


def demo_config(
    size: int = 64, seed: int = 0, epochs: int = DEMO_EPOCHS, note_epochs: int = DEMO_NOTE_EPOCHS
) -> ExperimentConfig:
    """The demo's settings (``epochs`` for the vision-only model, ``note_epochs`` for the
    note-guided one); models and cohorts go to the shared store, so a later ``oncoseg
    experiment NAME --config configs/breast_ctv_demo_cpu.yaml`` reuses what the demo
    trained."""
    return ExperimentConfig(
        size=size,
        seed=seed,
        epochs=epochs,
        train=DEMO_TRAIN,
        vision=DEMO_VISION,
        multimodal=(*DEMO_MULTIMODAL, f"train.epochs={note_epochs}"),
        heldout_notes=DEMO_HELDOUT if Path(DEMO_HELDOUT).is_file() else "",
        # both models train at once, one thread each; the note-guided one takes every core
        # after as many epochs as the vision-only one trains: its epochs cost more (the same
        # U-Net plus the fusions), so the other run has ended by then and the two never share
        # a core (on 2 cores a third thread made both 2-3x slower; docs/performance.md)
        side_by_side=epochs,
    )


def _link(link: Path, target: Path) -> None:
    """``link`` -> ``target`` (relative symlink), replacing an older link or run folder.

    The new link is made under a temporary name and renamed over the old one, so a kill
    never leaves the name pointing nowhere."""
    tmp = link.with_name(f".{link.name}.link-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(os.path.relpath(target.resolve(), link.parent.resolve()))
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)  # an older run folder (os.replace cannot replace a folder)
    os.replace(tmp, link)


def run_demo(
    out: str | os.PathLike[str],
    size: int = 64,
    seed: int = 0,
    epochs: int = DEMO_EPOCHS,
    note_epochs: int = DEMO_NOTE_EPOCHS,
    cfg: ExperimentConfig | None = None,
) -> Path:
    """Run the demo into ``out`` and return the report path (``cfg`` replaces the defaults)."""
    root = Path(out)
    t0 = time.perf_counter()
    cfg = cfg or demo_config(size, seed, epochs, note_epochs)
    path = run_experiment("counterfactual", cfg, root)
    doc = json.loads(path.read_text(encoding="utf-8"))
    for name, run in doc["runs"].items():  # the trained models, where the README says
        _link(root / name, Path(run))
    brain = write_cohort(
        root / "data" / "brain_tumor",
        brain_tumor.cohort_spec(),
        cases=2,
        test_cases=1,
        size=cfg.size,
        seed=cfg.seed,
        overwrite=True,
    )
    case = list_cases(brain, "Ts")[0]
    render_case_png(brain, case, root / "figures" / f"{case}.png", split="Ts")
    doc["seconds_total"] = round(time.perf_counter() - t0, 1)
    write_json(path, doc)
    summary = (root / "summary.md").read_text(encoding="utf-8")
    extra = [
        "",
        f"Total wall-clock time: {doc['seconds_total'] / 60:.1f} min. "
        "Full report with figures: `report.html`.",
        "",
        "## Counterfactual figures (multimodal)",
        "",
        "The first unilateral breast-conserving test case: both breasts are on the CT, so",
        "only the note names the side.",
        "",
        "![counterfactual](figures/counterfactual_multimodal.png)",
        "",
        "The first unilateral mastectomy: the CT shows the operated side, and a note naming",
        "the other side contradicts it.",
        "",
        "![counterfactual, mastectomy](figures/counterfactual_multimodal_mastectomy.png)",
        "",
        "## A brain_tumor phantom (the second embedded task)",
        "",
        f"![{case}](figures/{case}.png)",
        "",
    ]
    report = root / "report.md"
    write_text(
        report, summary.replace("# Experiment", "# oncoseg demo: experiment", 1) + "\n".join(extra)
    )
    return report
