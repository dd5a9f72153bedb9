"""The review page end to end with a trained note-guided model, not the stand-in.

A tiny two_way model (tiny random Llama as its frozen LM, word-level tokenizer) is trained
on 32³ breast phantoms with prompt notes and other-N-stage variants (``train.note_swap``),
and kept in pytest's cache (``.pytest_cache/d/oncoseg-review-model``; delete it to
retrain): the first run trains (about a minute on 2 free cores), later runs reuse it.
In Chromium: upload a test case, segment with its N2 note (a plain job: no clause is
shaded), edit it to N0, tick "Explain", re-contour. The page must show the volume change
and the note's clauses shaded by the ml each moved, draw a clause's region when one is
clicked, and raise no page error. This tiny model does not
learn to follow the N stage (its contour grew from N2 to N0 when measured), so only the
change, not its direction, is asserted; the stand-in test (test_review_page.py) checks the
direction with a fixed rule. The screenshot goes to
``test-artefacts/review-page-model.png`` (``$ONCOSEG_TEST_ARTEFACTS``) and is copied into
docs/img/ by hand when the page changes.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.serve.test_review_page import ARTEFACTS, CHROMIUM, _colours

WORDS = ["[PAD]", "<s>", "</s>", "[UNK]", "n0", "n1mi", "n1", "n2", "n3", "t1", "t2", "t3"]
WORDS += ["t4", "left", "right", "both", "side", "sides", "total", "mastectomy", "breast"]
WORDS += ["conserving", "surgery", ","]
SETTINGS = [
    "model.preset=tiny",
    "model.fusion=two_way",
    "data.patch_size=[32,32,32]",
    "train.batch_size=2",
    "train.epochs=30",
    "train.lr=3e-3",
    "train.note_swap=0.75",
    "train.val_every=30",
    "data.fold=0",
]


def _tiny_lm(folder: Path) -> Path:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from tests.text.tiny import tiny_llama

    if (folder / "config.json").exists():
        return folder
    tiny_llama().save_pretrained(folder)
    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    tk.normalizer = normalizers.Lowercase()
    PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="[PAD]", unk_token="[UNK]"
    ).save_pretrained(folder)
    return folder


def trained_model(cache: Path) -> tuple[Path, Path]:
    """``(run, dataset)``: the cached run, trained first if it is not there."""
    from oncoseg.data.phantom_cohort import write_cohort
    from oncoseg.infer.config import load_config
    from oncoseg.tasks import breast_ctv, note_variants_for
    from oncoseg.train.trainer import train

    key = json.dumps(SETTINGS + WORDS)
    ds, run = cache / "breast", cache / "run"
    if (run / "best.pt").exists() and (cache / "key.json").read_text() == key:
        return run, ds
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    lm = _tiny_lm(cache / "tiny-llama")
    spec = breast_ctv.cohort_spec()
    write_cohort(ds, spec, cases=24, test_cases=2, size=32, style="prompt", seed=11)
    sets = [f"data.dataset={ds}", f"out={run}", f"text.model={lm}", *SETTINGS]
    train(load_config(None, sets), note_variants=note_variants_for(ds))
    (cache / "key.json").write_text(key)
    return run, ds


@pytest.fixture(scope="module")
def review_model(request: pytest.FixtureRequest) -> tuple[Path, Path]:
    return trained_model(Path(request.config.cache.mkdir("oncoseg-review-model")))


@pytest.mark.slow
def test_review_page_with_a_trained_model(
    serve: Callable[..., str], review_model: tuple[Path, Path]
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run does)")
    from oncoseg.infer import Predictor, describe

    run, ds = review_model
    predictor = Predictor.from_run(run)
    image = sorted((ds / "imagesTs").glob("*_0000.nii.gz"))[0]
    note = (ds / "notesTs" / image.name.replace("_0000.nii.gz", ".txt")).read_text().strip()
    n2 = re.sub(r"\b(T\d )?N[0-3]\w*", "N2", note)
    info = {"run": "tiny note-guided", "uses_text": True, **describe(predictor)}
    url = serve(predictor, model_info=info)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 820})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_function("document.getElementById('model').textContent !== 'connecting...'")
        page.set_input_files("#image", str(image))
        page.fill("#note", n2)
        page.click("#segment")
        page.wait_for_function(
            "document.getElementById('volume').dataset.ml !== ''", timeout=120_000
        )
        first_ml = float(page.get_attribute("#volume", "data-ml") or "nan")
        plain = page.evaluate("document.querySelectorAll('#explain .clause').length")
        page.fill("#note", n2.replace("N2", "N0"))
        page.check("#want-explain")
        page.click("#segment")
        page.wait_for_function(
            "document.getElementById('volume').dataset.previousMl !== ''", timeout=120_000
        )
        page.wait_for_function("document.querySelectorAll('#explain .clause').length === 3")
        second_ml = float(page.get_attribute("#volume", "data-ml") or "nan")
        volume_text = page.text_content("#volume") or ""
        clauses = page.eval_on_selector_all(
            "#explain .clause", "els => els.map(e => [e.textContent, Number(e.dataset.ml)])"
        )
        top = page.text_content("#explain-top") or ""
        strongest = max(range(len(clauses)), key=lambda i: clauses[i][1])
        before = _colours(page, "coronal")
        page.click(f"#explain .clause[data-clause='{strongest}']")
        region = page.evaluate(
            "() => state.clauseRegion ? state.clauseRegion.data.reduce((a, b) => a + b, 0) : -1"
        )
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "review-page-model.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert plain == 0  # the first job did not ask for the attribution
    # the contour moved with the note and the page says by how much; the direction is not
    # asserted: this tiny model (val Dice 0.45 after 30 epochs) does not follow N2 -> N0
    # (measured: 167.3 -> 174.5 ml), which the shaded clauses show a reviewer
    assert second_ml != first_ml, (first_ml, second_ml)
    sign = "+" if second_ml >= first_ml else "\u2212"
    change = re.search(rf"change {re.escape(sign)}([0-9.]+) ml", volume_text)
    assert change and float(change[1]) == pytest.approx(abs(first_ml - second_ml), abs=0.051)
    # the clauses of the N0 note, shaded by what each moved, as the service computed them
    assert [c[0] for c in clauses] == [c.strip() for c in n2.replace("N2", "N0").split(",")]
    assert clauses[strongest][1] > 0 and "strongest" in top
    assert region > 0  # the clicked clause's changed voxels, drawn on the slices
    assert before[0] > 0  # the contour itself is on the coronal view
