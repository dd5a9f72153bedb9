"""A tiny randomly initialised Llama and a byte-level tokenizer, built in memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


class ByteTokenizer:
    """Bytes -> ids 3..258; 0 pad, 1 BOS, 2 EOS. Records what it was asked to encode."""

    bos_token_id = 1
    eos_token_id = 2
    pad_token_id = 0
    vocab_size = 259

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(
        self, texts: Sequence[str], add_special_tokens: bool = False, **_: Any
    ) -> dict[str, list[list[int]]]:
        self.seen.extend(texts)
        return {"input_ids": [[b + 3 for b in t.encode("utf-8")] for t in texts]}


def tiny_llama(seed: int = 0, hidden: int = 32, layers: int = 2) -> Any:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=ByteTokenizer.vocab_size,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    return LlamaForCausalLM(cfg).eval()


def tiny_bert(seed: int = 0) -> Any:
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=259,
        hidden_size=24,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=48,
        max_position_embeddings=512,
    )
    return BertModel(cfg).eval()


class BertByteTokenizer(ByteTokenizer):
    """Pads and returns tensors, as a Hugging Face tokenizer would for an encoder model."""

    def __call__(self, texts: Sequence[str], **kw: Any) -> Any:  # type: ignore[override]
        from transformers import BatchEncoding

        ids = super().__call__(texts)["input_ids"]
        width = max(len(s) for s in ids)
        input_ids = torch.zeros(len(ids), width, dtype=torch.long)
        mask = torch.zeros(len(ids), width, dtype=torch.long)
        for i, s in enumerate(ids):
            input_ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        return BatchEncoding({"input_ids": input_ids, "attention_mask": mask})
