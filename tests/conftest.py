from __future__ import annotations

from pathlib import Path

import pytest

from oncoseg.data.phantom_cohort import write_cohort
from oncoseg.tasks import brain_tumor, breast_ctv

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _private_note_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Note states and dequantised LMs cached by tests go to a temporary folder, not to the
    user's ~/.cache/oncoseg (where the installed SmolLM2's dequantised copy stays valid)."""
    import os

    if "ONCOSEG_CACHE" not in os.environ:
        os.environ["ONCOSEG_CACHE"] = str(tmp_path_factory.mktemp("oncoseg-cache"))


@pytest.fixture(scope="session")
def breast_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid breast_ctv dataset (32³, 8 training + 2 test cases). Do not modify."""
    out = tmp_path_factory.mktemp("ds") / "breast"
    return write_cohort(
        out, breast_ctv.cohort_spec(), cases=8, test_cases=2, size=32, style="narrative", seed=3
    )


@pytest.fixture(scope="session")
def brain_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "brain"
    return write_cohort(out, brain_tumor.cohort_spec(), cases=4, size=32, seed=1)


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama + word-level tokenizer saved as a local Hugging Face folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from tests.text.tiny import tiny_llama

    d = tmp_path_factory.mktemp("lm") / "tiny-llama"
    tiny_llama().save_pretrained(d)
    words = ["[PAD]", "<s>", "</s>", "[UNK]"] + [
        "n0",
        "n1mi",
        "n1",
        "n2",
        "n3",
        "left",
        "right",
        "both",
        "side",
        "sides",
        "total",
        "mastectomy",
        "breast",
        "conserving",
        "surgery",
        ",",
        ".",
    ]
    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tk.normalizer = __import__("tokenizers").normalizers.Lowercase()
    PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="[PAD]", unk_token="[UNK]"
    ).save_pretrained(d)
    return d


@pytest.fixture(scope="session")
def case_image(breast_dataset: Path) -> Path:
    """One 32³ phantom CT (NIfTI) of the shared breast dataset."""
    return sorted((breast_dataset / "imagesTs").glob("*_0000.nii.gz"))[0]


@pytest.fixture(scope="session")
def tiny_run(breast_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vision-only tiny U-Net trained one epoch on the breast phantoms (a few seconds)."""
    from oncoseg.infer.config import load_config
    from oncoseg.train.trainer import train

    out = tmp_path_factory.mktemp("serve-run") / "tiny"
    cfg = load_config(
        None,
        [
            f"data.dataset={breast_dataset}",
            f"out={out}",
            "model.preset=tiny",
            "model.fusion=none",
            "data.patch_size=[32,32,32]",
            "train.batch_size=2",
            "train.epochs=1",
        ],
    )
    return train(cfg)


@pytest.fixture(scope="session")
def guided_run(
    breast_dataset: Path, tiny_lm_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A tiny note-guided model (random tiny LM), one epoch: its contour depends on the note."""
    from oncoseg.infer.config import load_config
    from oncoseg.train.trainer import train

    out = tmp_path_factory.mktemp("explain") / "guided"
    sets = [
        f"data.dataset={breast_dataset}",
        f"out={out}",
        "model.preset=tiny",
        "data.patch_size=[32,32,32]",
        "train.batch_size=2",
        "train.epochs=1",
        "model.fusion=two_way",
        f"text.model={tiny_lm_dir}",
    ]
    return train(load_config(None, sets))
