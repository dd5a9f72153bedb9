"""The cached text modes load the LM only for notes not cached, and load it quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from oncoseg.text.cache import EmbeddingCache
from oncoseg.text.cached_states import CachedStateConfig, CachedStateEncoder
from oncoseg.text.factory import TextConfig, build_text_encoder
from oncoseg.text.models import LazyCausalLM
from oncoseg.text.note_length import fit_note
from tests.text.tiny import ByteTokenizer, tiny_llama

NOTE = "N1, breast conserving surgery, right side"


def _lm_folder(root: Path) -> Path:
    """A tiny Llama saved as a Hugging Face folder, with a word-level tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    folder = root / "lm"
    if (folder / "config.json").exists():
        return folder
    tiny_llama().save_pretrained(folder)
    words = ["[UNK]", "<s>", "</s>", "N1", ",", "breast", "conserving", "surgery"]
    words += ["right", "left", "side", "N0", "N2", "."]
    tk = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="[UNK]"
    ).save_pretrained(folder)
    return folder


def _config(tmp_path: Path) -> TextConfig:
    return TextConfig(
        model=str(_lm_folder(tmp_path)), cache_dir=str(tmp_path / "states"), note_states=4
    )


def test_a_cached_note_needs_neither_the_lm_nor_its_tokenizer(tmp_path: Path) -> None:
    first = build_text_encoder(_config(tmp_path))
    assert isinstance(first, CachedStateEncoder) and first.mode == "cached-frozen"
    assert first._lazy is not None and not first._lazy.loaded  # built without the weights
    assert first.out_dim == 32 and first.num_tokens == 1 + 4
    context = first.encode([NOTE])  # a new note: the LM loads and reads it
    assert first._lazy.loaded and first.lm_calls == 1

    again = build_text_encoder(_config(tmp_path))  # as a new process would
    assert isinstance(again, CachedStateEncoder) and again._lazy is not None
    assert fit_note(again, NOTE, "note.txt") == NOTE  # counted from the cached states
    assert torch.equal(again.encode([NOTE]), context)
    assert again.lm_calls == 0 and not again._lazy.loaded
    assert again._lazy._tokenizer is None  # not even the tokenizer was read
    again.encode([NOTE.replace("right", "left")])  # a note not cached: now it loads
    assert again._lazy.loaded and again.lm_calls == 1


def test_a_predict_with_a_cached_note_never_imports_transformers(tmp_path: Path) -> None:
    """In a new process: build the encoder, fit and encode a cached note."""
    cfg = _config(tmp_path)
    warm = build_text_encoder(cfg)
    assert warm is not None
    warm.encode([NOTE])
    code = (
        "import sys, json; from oncoseg.text.factory import TextConfig, build_text_encoder;"
        "from oncoseg.text.note_length import fit_note;"
        f"enc = build_text_encoder(TextConfig(**json.loads({json.dumps(json.dumps(vars(cfg)))})));"
        f"fit_note(enc, {NOTE!r}, 'n.txt'); enc.encode([{NOTE!r}]);"
        "print(json.dumps(['transformers' in sys.modules, enc.lm_calls]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert json.loads(out.stdout.splitlines()[-1]) == [False, 0]
    assert out.stderr == ""


def test_loading_the_lm_prints_nothing(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    folder = _lm_folder(tmp_path)
    capfd.readouterr()
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    model, tok = LazyCausalLM(str(folder)).load()
    assert model.config.hidden_size == 32 and tok.bos_token_id == 1
    assert capfd.readouterr() == ("", "")  # no "Loading weights" bar, no library line
    assert hf_logging.is_progress_bar_enabled() == bars  # the caller's setting is back


def test_the_fingerprint_is_remembered_and_renewed_when_the_file_changes(tmp_path: Path) -> None:
    from oncoseg.text.models import _read_fingerprints, model_fingerprint

    weights = tmp_path / "w.gguf"
    weights.write_bytes(b"a" * 1000)
    first = model_fingerprint(weights)
    assert _read_fingerprints()[str(weights)]["fingerprint"] == first
    assert model_fingerprint(weights) == first
    weights.write_bytes(b"b" * 1001)  # another file under the same name
    assert model_fingerprint(weights) != first


def test_frozen_context_equals_a_direct_lm_forward() -> None:
    """The default mode's output, before any statistics are fitted, is the LM's own [SEG]
    state followed by the states of the note's first L tokens, bit for bit."""
    lm, tok = tiny_llama(), ByteTokenizer()
    enc = CachedStateEncoder(lm, tok, config=CachedStateConfig(note_states=4), cache=None)
    assert enc.config.mode == "cached-frozen" and enc.num_tokens == 1 + 4
    out = enc.encode([NOTE])
    ids = [tok.bos_token_id, *tok([NOTE])["input_ids"][0], tok.eos_token_id]
    with torch.no_grad():
        h = lm.model(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids)))
    states = h.last_hidden_state.float()[0]
    expected = torch.cat([states[-1:], states[1:5]])  # [SEG], then note tokens 1..4
    assert torch.equal(out[0], expected)


def test_cached_states_count_a_notes_tokens_only_below_the_limit() -> None:
    enc = CachedStateEncoder(
        tiny_llama(),
        ByteTokenizer(),
        config=CachedStateConfig(max_tokens=16, note_states=2),
        cache=EmbeddingCache(),
    )
    short, long = "N0 left", "N2 total mastectomy left side"
    assert enc.token_count(short) is None  # never read
    enc.encode([short, long])
    assert enc.token_count(short) == len(short.encode())  # one byte, one token
    assert enc.token_count(long) is None  # truncated at 16: only the tokenizer knows
