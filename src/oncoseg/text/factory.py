"""Build a text encoder from a config: one registry of encoder kinds.

Example:
    >>> cfg = TextConfig(encoder="none")
    >>> build_text_encoder(cfg) is None
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oncoseg.text.cache import EmbeddingCache
from oncoseg.text.encoders import PromptConfig, PromptTunedLM, SentenceEncoder, TextEncoder
from oncoseg.text.models import load_causal_lm, load_sentence_model


@dataclass
class TextConfig:
    """How notes become context vectors."""

    encoder: str = "prompt-lm"  # prompt-lm | sentence | none (vision-only)
    model: str = "smollm2"  # packaged model name or a local path (folder or .gguf)
    mode: str = "multi-prompt"  # prompt-lm: multi-prompt | one-prompt | no-tuning | lora
    num_prompts: int = 2  # N (seed: 2)
    prompt_len: int = 8  # M (seed: 8)
    position: str = "prefix"  # prefix | suffix
    max_tokens: int = 128
    note_states: int = 32  # prompt-lm: also pass the LM states of up to this many note tokens
    num_tokens: int = 1  # sentence encoder: N output vectors
    cache_dir: str | None = None  # on-disk cache of frozen note vectors (None: memory only)
    deid: bool = True  # de-identify notes before the model sees them


def _build_prompt_lm(cfg: TextConfig, cache: EmbeddingCache) -> TextEncoder:
    lm, tok, fingerprint = load_causal_lm(cfg.model)
    pcfg = PromptConfig(
        mode=cfg.mode,
        num_prompts=cfg.num_prompts,
        prompt_len=cfg.prompt_len,
        position=cfg.position,
        max_tokens=cfg.max_tokens,
        note_states=cfg.note_states,
    )
    return PromptTunedLM(lm, tok, config=pcfg, model_id=fingerprint, cache=cache, deid=cfg.deid)


def _build_sentence(cfg: TextConfig, cache: EmbeddingCache) -> TextEncoder:
    model, tok, fingerprint = load_sentence_model(cfg.model)
    return SentenceEncoder(
        model,
        tok,
        num_tokens=cfg.num_tokens,
        model_id=fingerprint,
        cache=cache,
        deid=cfg.deid,
        max_tokens=cfg.max_tokens,
    )


ENCODERS: dict[str, Callable[[TextConfig, EmbeddingCache], TextEncoder]] = {
    "prompt-lm": _build_prompt_lm,
    "sentence": _build_sentence,
}


def build_text_encoder(cfg: TextConfig) -> TextEncoder | None:
    """The configured encoder, or ``None`` for ``encoder="none"`` (vision-only)."""
    if cfg.encoder == "none":
        return None
    if cfg.encoder not in ENCODERS:
        raise ValueError(f"text encoder must be one of {[*ENCODERS, 'none']}, got {cfg.encoder!r}")
    if cfg.encoder == "sentence" and cfg.model == "smollm2":
        cfg.model = "minilm"
    cache = EmbeddingCache(directory=Path(cfg.cache_dir) if cfg.cache_dir else None)
    return ENCODERS[cfg.encoder](cfg, cache)
