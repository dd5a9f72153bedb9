from __future__ import annotations

from pathlib import Path

import pytest


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
