"""Build a text encoder from a config: one registry of encoder kinds.

Example:
    >>> cfg = TextConfig(encoder="none")
    >>> build_text_encoder(cfg) is None
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from oncoseg.text.cache import EmbeddingCache
from oncoseg.text.cached_states import CACHED_MODES, CachedStateConfig, CachedStateEncoder
from oncoseg.text.encoders import (
    MAX_TOKENS,
    NOTE_STATES,
    PromptConfig,
    PromptTunedLM,
    TextEncoder,
)
from oncoseg.text.models import (
    LazyCausalLM,
    default_cache_dir,
    load_causal_lm,
    load_sentence_model,
)
from oncoseg.text.sentence import SentenceEncoder

# prompt-lm modes, two families. cached-* (CACHED_MODES, text/cached_states.py): the frozen
# LM reads each distinct note once (cached in memory and on disk); cached-frozen passes its
# [SEG] and first token states on (the default: nothing in the text path learns),
# cached-queries learns queries outside it (worse on validation at the demo's budget:
# docs/ablations.md). inlm-*: the seed's tuning inside the LM (prompts before or after the
# note, LoRA), so the LM runs at every training step; kept for the text ablation.
INLM_MODES = {
    "inlm-multi-prompt": "multi-prompt",
    "inlm-one-prompt": "one-prompt",
    "inlm-frozen": "no-tuning",
    "inlm-lora": "lora",
}
MODES = (*CACHED_MODES, *INLM_MODES)
# the names runs stored before the two families were named
LEGACY_MODES = {v: k for k, v in INLM_MODES.items()}


@dataclass
class TextConfig:
    """How notes become context vectors."""

    encoder: str = "prompt-lm"  # prompt-lm | sentence | none (vision-only)
    model: str = "smollm2"  # packaged model name or a local path (folder or .gguf)
    mode: str = CACHED_MODES[0]  # prompt-lm: one of MODES; cached-frozen, the default
    num_prompts: int = 2  # N (seed: 2): prompts (inlm-*) or query groups (cached-queries)
    prompt_len: int = 8  # M (seed: 8) vectors per prompt / queries per group
    position: str = "prefix"  # inlm-*: prefix | suffix
    max_tokens: int = MAX_TOKENS  # note tokens kept; longer notes are truncated with a warning
    note_states: int = NOTE_STATES  # prompt-lm: also pass the LM states of this many note tokens
    num_tokens: int = 1  # sentence encoder: N output vectors
    cache_dir: str | None = None  # on-disk cache of frozen note vectors (None: memory only)
    deid: bool = True  # de-identify notes before the model sees them
    # a task's note reader (oncoseg.text.readers, e.g. "breast_ctv"): every note, in training
    # and prediction, reaches the model in the reader's canonical form; "": notes as written
    reader: str = ""


def canonical_mode(mode: str) -> str:
    """``mode`` with a stored run's old name (multi-prompt, no-tuning ...) made current."""
    mode = LEGACY_MODES.get(mode, mode)
    if mode not in MODES:
        raise ValueError(f"text.mode must be one of {list(MODES)}, got {mode!r}")
    return mode


def _build_prompt_lm(cfg: TextConfig, cache: EmbeddingCache) -> TextEncoder:
    mode = canonical_mode(cfg.mode)
    if mode in CACHED_MODES:
        scfg = CachedStateConfig(
            mode=mode,
            num_prompts=cfg.num_prompts,
            prompt_len=cfg.prompt_len,
            max_tokens=cfg.max_tokens,
            note_states=cfg.note_states,
        )
        if cache.directory is None:  # note states are kept on disk unless told where
            cache.directory = default_cache_dir() / "note-states"
        # the LM loads only if a note's states are not in the cache
        return CachedStateEncoder(LazyCausalLM(cfg.model), config=scfg, cache=cache, deid=cfg.deid)
    lm, tok, fingerprint = load_causal_lm(cfg.model)
    pcfg = PromptConfig(
        mode=INLM_MODES[mode],
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
        cfg = replace(cfg, model="minilm")  # the default LM is no sentence model
    cache = EmbeddingCache(directory=Path(cfg.cache_dir) if cfg.cache_dir else None)
    return ENCODERS[cfg.encoder](cfg, cache)
