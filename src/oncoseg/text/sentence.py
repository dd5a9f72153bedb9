"""Sentence-embedding text encoder (the seed's CLIP-text baseline role): a frozen encoder,
mean pooling and L2 norm, optionally projected to N tokens by a trainable linear layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from oncoseg.text.cache import EmbeddingCache
from oncoseg.text.encoders import MAX_TOKENS, CachedEncoder, prepare_note


class SentenceEncoder(CachedEncoder):
    """Frozen sentence-embedding model (mean pooling + L2 norm), optional N-token projection.

    Args:
        model: a ``transformers`` encoder (e.g. all-MiniLM-L6-v2's ``BertModel``); frozen.
        tokenizer: its tokenizer.
        num_tokens: N; with N > 1 a trainable linear layer maps the embedding to N vectors.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        num_tokens: int = 1,
        model_id: str = "custom",
        cache: EmbeddingCache | None = None,
        deid: bool = True,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        super().__init__()
        if num_tokens < 1:
            raise ValueError(f"num_tokens must be >= 1, got {num_tokens}")
        model.requires_grad_(False)
        self.model, self.tokenizer = model, tokenizer
        self.mode, self.model_id, self.cache, self.deid = "sentence", model_id, cache, deid
        self.max_tokens = max_tokens
        self.out_dim = int(model.config.hidden_size)
        self.num_tokens = num_tokens
        self.proj = nn.Linear(self.out_dim, num_tokens * self.out_dim) if num_tokens > 1 else None
        self.model.eval()

    def train(self, mode: bool = True) -> SentenceEncoder:
        super().train(mode)
        self.model.eval()
        return self

    def _cacheable(self) -> bool:
        return self.cache is not None  # the cached part (the embedding) is always frozen

    def _compute(self, notes: list[str]) -> Tensor:
        device = next(self.model.parameters()).device
        batch = self.tokenizer(
            notes, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
        ).to(device)
        with torch.no_grad():
            h = self.model(**batch).last_hidden_state  # B x T x D
        m = batch["attention_mask"].unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        return nn.functional.normalize(pooled, dim=-1).unsqueeze(1)  # B x 1 x D

    def encode(self, notes: Sequence[str]) -> Tensor:
        prepared = [prepare_note(n, self.deid) for n in notes]
        base = self._cached(prepared, self._compute)  # B x 1 x D
        if self.proj is None:
            return base
        return self.proj(base[:, 0]).reshape(len(notes), self.num_tokens, self.out_dim)
