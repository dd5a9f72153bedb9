"""Text encoders: one Protocol, ``encode(notes) -> (B, N, D)``.

- :class:`PromptTunedLM`: a frozen causal LM. N learnable prompts of M vectors are placed
  after BOS (``prefix``, as in the seed) or after the note (``suffix``), a ``[SEG]`` vector
  is appended, and the last hidden state at ``[SEG]`` is that prompt's context vector::

      prefix:  [BOS] P_n(1..M) note(1..T) [SEG]  -> h[SEG] = c_n
      suffix:  [BOS] note(1..T) P_n(1..M) [SEG]  -> h[SEG] = c_n   (note KV computed once, no grad)

  ``[SEG]`` is a vector placed at a known position, not a vocabulary entry, so nothing
  relies on its token id. Modes: ``multi-prompt`` (N prompts), ``one-prompt`` (N = 1),
  ``no-tuning`` (no prompts, fixed [SEG], nothing trains), ``lora`` (peft LoRA on the
  attention projections, fixed [SEG], no prompts). With ``note_states = L > 0`` the
  last hidden states of the note's first L tokens follow the [SEG] vectors (zeros where
  a note is shorter): N = prompts + L. A one-word change ("left" -> "right", "N0" ->
  "N2") moves the state of that word's own token far more than it moves [SEG].
- :class:`oncoseg.text.sentence.SentenceEncoder`: a frozen sentence-embedding model.

Notes are cleaned and de-identified inside ``encode`` before they reach the model. Frozen
results are cached per (model, mode, trainable state, note): see :mod:`oncoseg.text.cache`.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from oncoseg.text import note_memo
from oncoseg.text.cache import EmbeddingCache, cache_key
from oncoseg.text.notes import clean_note

log = logging.getLogger(__name__)

MODES = ("multi-prompt", "one-prompt", "no-tuning", "lora")
POSITIONS = ("prefix", "suffix")


@runtime_checkable
class TextEncoder(Protocol):
    """Maps notes to context vectors of shape (B, num_tokens, out_dim)."""

    out_dim: int
    num_tokens: int

    def encode(self, notes: Sequence[str]) -> Tensor: ...


def prepare_note(note: str, deid: bool = True) -> str:
    """Clean and (by default) de-identify a note: what the model is allowed to see."""
    text = clean_note(note)
    return note_memo.deidentified(text) if deid else text


def trainable_fingerprint(module: nn.Module) -> str:
    """A hash of the trainable parameters: cached outputs are only reused for the same state."""
    import hashlib

    h = hashlib.sha256()
    for name, p in module.named_parameters():
        if p.requires_grad:
            h.update(name.encode())
            h.update(p.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


class CachedEncoder(nn.Module):
    """Shared caching logic: ``_compute(notes) -> (B, N, D)`` is run only for cache misses."""

    model_id: str
    mode: str
    cache: EmbeddingCache | None
    deid: bool

    def _compute(self, notes: list[str]) -> Tensor:
        raise NotImplementedError

    def _has_trainable(self) -> bool:
        return any(p.requires_grad for p in self.parameters())

    def _cacheable(self) -> bool:
        return self.cache is not None and (
            not self._has_trainable() or not self.training or not torch.is_grad_enabled()
        )

    def _cached(self, notes: list[str], compute: Callable[[list[str]], Tensor]) -> Tensor:
        if not self._cacheable():
            return compute(notes)
        assert self.cache is not None
        state = trainable_fingerprint(self) if self._has_trainable() else "frozen"
        keys = [cache_key(self.model_id, self.mode, state, n) for n in notes]
        found = {i: self.cache.get(k) for i, k in enumerate(keys)}
        todo = [i for i, v in found.items() if v is None]
        if todo:
            with torch.no_grad():
                fresh = compute([notes[i] for i in todo])
            for j, i in enumerate(todo):
                self.cache.put(keys[i], fresh[j])
                found[i] = fresh[j].detach().cpu()
        device = self._device()
        return torch.stack([found[i] for i in range(len(notes))]).to(device)  # type: ignore[misc]

    def _device(self) -> torch.device:
        return next(self.parameters(), torch.empty(0)).device


MAX_TOKENS = 128  # note tokens kept (one default for every encoder and TextConfig)
NOTE_STATES = 32  # L: the LM states of the note's first L tokens follow the [SEG] vectors


@dataclass
class PromptConfig:
    """Options of :class:`PromptTunedLM` (seed defaults: N=2 prompts of M=8 vectors)."""

    mode: str = "multi-prompt"  # multi-prompt | one-prompt | no-tuning | lora
    num_prompts: int = 2  # N, used by multi-prompt
    prompt_len: int = 8  # M vectors per prompt
    position: str = "prefix"  # prefix (after BOS) | suffix (after the note, before [SEG])
    max_tokens: int = MAX_TOKENS  # note tokens kept; longer notes are truncated with a warning
    note_states: int = NOTE_STATES  # L: also return the states of the note's first L tokens
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_targets: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    # suffix: the notes' frozen keys/values kept between training steps (MB, 0: off)
    prefix_cache_mb: int = 256

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {self.position!r}")
        if self.mode == "lora" and self.position == "suffix":
            raise ValueError("lora changes the note's keys/values, so position must be 'prefix'")
        if self.num_prompts < 1 or self.prompt_len < 1:
            raise ValueError("num_prompts and prompt_len must be >= 1")
        if self.note_states < 0:
            raise ValueError(f"note_states must be >= 0, got {self.note_states}")

    @property
    def prompts(self) -> int:
        return {"multi-prompt": self.num_prompts, "one-prompt": 1}.get(self.mode, 0)


class PromptTunedLM(CachedEncoder):
    """Frozen causal LM + learnable prompts + [SEG] read-out.

    Args:
        lm: a ``transformers`` causal LM (e.g. ``LlamaForCausalLM``); it is frozen here.
        tokenizer: its tokenizer.
        config: prompt options.
        model_id: identifies the weights in cache keys (e.g. the GGUF file hash).
        cache: where frozen outputs are kept; ``None`` disables caching.
        deid: de-identify notes before encoding (on by default).
    """

    def __init__(
        self,
        lm: Any,
        tokenizer: Any,
        *,
        config: PromptConfig | None = None,
        model_id: str = "custom",
        cache: EmbeddingCache | None = None,
        deid: bool = True,
    ) -> None:
        super().__init__()
        self.config = config or PromptConfig()
        self.mode, self.model_id, self.cache, self.deid = self.config.mode, model_id, cache, deid
        lm.requires_grad_(False)
        if self.config.mode == "lora":
            lm = self._add_lora(lm)
        self.lm = lm
        core = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
        self.decoder = core.base_model  # the transformer without the LM head
        self.embed = core.get_input_embeddings()
        self.tokenizer = tokenizer
        self.out_dim = int(core.config.hidden_size)
        self.num_seg = max(self.config.prompts, 1)
        self.num_tokens = self.num_seg + self.config.note_states
        self.bos_id = tokenizer.bos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        weight = self.embed.weight.detach()
        eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        seg = weight[eos].clone()
        if self.config.prompts:
            gen = torch.Generator().manual_seed(0)  # prompts start as random vocabulary vectors
            idx = torch.randint(
                0, weight.shape[0], (self.config.prompts, self.config.prompt_len), generator=gen
            )
            self.prompts = nn.Parameter(weight[idx].clone())  # N x M x D
            self.seg = nn.Parameter(seg)  # D
        else:
            self.register_buffer("seg", seg)
        self.lm.eval()
        # suffix layout, training: (device, note token ids) -> (per-layer keys/values,
        # note states), see _note_prefix
        self._prefix: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._prefix_bytes = 0

    def _add_lora(self, lm: Any) -> Any:
        from peft import LoraConfig, get_peft_model

        cfg = LoraConfig(
            r=self.config.lora_rank,
            lora_alpha=self.config.lora_alpha,
            target_modules=list(self.config.lora_targets),
            lora_dropout=0.0,
            bias="none",
        )
        return get_peft_model(lm, cfg)

    def train(self, mode: bool = True) -> PromptTunedLM:
        super().train(mode)
        self.lm.eval()  # the LM stays in inference behaviour (no dropout) even when tuning
        return self

    def encode(self, notes: Sequence[str]) -> Tensor:
        """Context vectors of shape (B, N, D) for ``notes``."""
        prepared = [prepare_note(n, self.deid) for n in notes]
        return self._cached(prepared, self._compute)

    def _tokenize(self, notes: list[str]) -> list[list[int]]:
        ids = self.tokenizer(notes, add_special_tokens=False)["input_ids"]
        out = []
        for seq in ids:
            if len(seq) > self.config.max_tokens:
                log.warning("note of %d tokens truncated to %d", len(seq), self.config.max_tokens)
                seq = seq[: self.config.max_tokens]
            out.append(([self.bos_id] if self.bos_id is not None else []) + list(seq))
        return out

    def _compute(self, notes: list[str]) -> Tensor:
        ids = self._tokenize(notes)
        if self.config.position == "suffix":
            return self._forward_suffix(ids)
        return self._forward_prefix(ids)

    def _pad(self, ids: list[list[int]], left: bool) -> tuple[Tensor, Tensor]:
        device = self.embed.weight.device
        width = max(len(s) for s in ids)
        tok = torch.full((len(ids), width), self.pad_id, dtype=torch.long, device=device)
        mask = torch.zeros((len(ids), width), dtype=torch.long, device=device)
        for b, s in enumerate(ids):
            sl = slice(width - len(s), width) if left else slice(0, len(s))
            tok[b, sl] = torch.tensor(s, device=device)
            mask[b, sl] = 1
        return tok, mask

    def _prompt_block(self, batch: int) -> Tensor:
        """(B*K, M, D) prompts, K = num_tokens; empty when the mode has no prompts."""
        if not self.config.prompts:
            return self.seg.new_zeros(batch, 0, self.out_dim)
        k, m, d = self.prompts.shape
        return self.prompts.unsqueeze(0).expand(batch, k, m, d).reshape(batch * k, m, d)

    def _note_states(self, h: Tensor, starts: Tensor, lens: Tensor) -> Tensor:
        """(B, L, D): states of each note's first L tokens (BOS excluded), zero-padded."""
        n = self.config.note_states
        out = h.new_zeros(h.shape[0], n, self.out_dim)
        for b in range(h.shape[0]):
            take = min(n, int(lens[b]))
            out[b, :take] = h[b, int(starts[b]) : int(starts[b]) + take]
        return out

    def _forward_prefix(self, ids: list[list[int]]) -> Tensor:
        b, k = len(ids), self.num_seg
        tok, mask = self._pad(ids, left=False)
        emb = self.embed(tok)  # B x T x D
        lens = mask.sum(dim=1)
        prompts = self._prompt_block(b)  # (B*K) x M x D
        m, nb = prompts.shape[1], 1 if self.bos_id is not None else 0
        note = emb.repeat_interleave(k, dim=0)  # (B*K) x T x D
        pad = emb.new_zeros(b * k, 1, self.out_dim)
        x = torch.cat([note[:, :nb], prompts, note[:, nb:], pad], dim=1)  # (B*K) x L x D
        seg_pos = (lens + m).repeat_interleave(k)  # right after each note's last token
        rows = torch.arange(b * k, device=x.device)
        x = x.index_put((rows, seg_pos), self.seg.expand(b * k, -1))
        full = torch.arange(x.shape[1], device=x.device)[None] <= seg_pos[:, None]
        h = self.decoder(inputs_embeds=x, attention_mask=full.long()).last_hidden_state
        seg = h[rows, seg_pos].reshape(b, k, self.out_dim)  # B x K x D
        if not self.config.note_states:
            return seg
        first = h[::k]  # the note as read after the first prompt
        starts = torch.full_like(lens, nb + m)
        return torch.cat([seg, self._note_states(first, starts, lens - nb)], dim=1)

    def _note_prefix(self, ids: list[list[int]]) -> tuple[Any, Tensor, Tensor, Tensor]:
        """The suffix layout's frozen half: ``(past key/values, note states, padded ids,
        mask)`` of the left-padded notes.

        The note never sees the prompts, so its keys, values and states depend on the note
        alone: while training they are kept per note (up to ``prefix_cache_mb``, the least
        recently used dropped first) and only notes not seen yet run through the LM. The
        padding's keys are zeros, masked out as the LM's own padding is."""
        from transformers.cache_utils import DynamicCache

        tok, mask = self._pad(ids, left=True)
        keys = [(str(tok.device), *s) for s in ids]
        rows = {k: self._prefix[k] for k in keys if k in self._prefix}
        todo = [i for i, k in enumerate(keys) if k not in rows]
        if todo:
            sub_tok, sub_mask = self._pad([ids[i] for i in todo], left=True)
            with torch.no_grad():
                out = self.decoder(
                    input_ids=sub_tok,
                    attention_mask=sub_mask,
                    position_ids=(sub_mask.cumsum(dim=1) - 1).clamp(min=0),
                    use_cache=True,
                )
            for j, i in enumerate(todo):  # each note's own part, without the padding
                n = len(ids[i])
                kv = [
                    (ly.keys[j, :, -n:], ly.values[j, :, -n:]) for ly in out.past_key_values.layers
                ]
                rows[keys[i]] = (kv, out.last_hidden_state[j, -n:])
        if self.training and torch.is_grad_enabled() and self.config.prefix_cache_mb > 0:
            self._keep(keys, rows)
        width = tok.shape[1]
        layers = [
            tuple(
                torch.stack([_left_pad(rows[k][0][layer][part], width, dim=1) for k in keys])
                for part in (0, 1)
            )
            for layer in range(len(rows[keys[0]][0]))
        ]
        states = torch.stack([_left_pad(rows[k][1], width, dim=0) for k in keys])
        return DynamicCache(ddp_cache_data=layers), states, tok, mask

    def _keep(self, keys: list[tuple[Any, ...]], rows: dict[tuple[Any, ...], Any]) -> None:
        """Keep ``rows`` for later steps, most recently used last, within the size limit."""
        for k in keys:
            if k not in self._prefix:
                kv, h = rows[k]
                kv = [(a.clone(), v.clone()) for a, v in kv]  # not views of the batch
                self._prefix[k] = (kv, h.clone())
                self._prefix_bytes += _nbytes(kv, h)
            self._prefix.move_to_end(k)
        limit = self.config.prefix_cache_mb * 2**20
        while self._prefix_bytes > limit and self._prefix:
            _, (kv, h) = self._prefix.popitem(last=False)
            self._prefix_bytes -= _nbytes(kv, h)

    def _forward_suffix(self, ids: list[list[int]]) -> Tensor:
        b, k = len(ids), self.num_seg
        past, note_h, tok, mask = self._note_prefix(ids)
        if k > 1:
            past.batch_repeat_interleave(k)
        tail = torch.cat(
            [self._prompt_block(b), self.seg.expand(b * k, 1, self.out_dim)], dim=1
        )  # (B*K) x (M+1) x D
        lens = mask.sum(dim=1).repeat_interleave(k)
        tail_pos = lens[:, None] + torch.arange(tail.shape[1], device=tail.device)[None]
        full_mask = torch.cat(
            [mask.repeat_interleave(k, dim=0), mask.new_ones(b * k, tail.shape[1])], dim=1
        )
        h = self.decoder(
            inputs_embeds=tail,
            attention_mask=full_mask,
            position_ids=tail_pos,
            **{_cache_argument(self.decoder): past},
            use_cache=True,
        ).last_hidden_state
        seg = h[:, -1].reshape(b, k, self.out_dim)  # B x K x D
        if not self.config.note_states:
            return seg
        nb = 1 if self.bos_id is not None else 0
        lens = mask.sum(dim=1)
        starts = tok.shape[1] - lens + nb  # left padding: the note ends the row
        states = self._note_states(note_h, starts, lens - nb)
        return torch.cat([seg, states], dim=1)


def _cache_argument(decoder: nn.Module) -> str:
    """``cache`` (transformers >= 5.2x; ``past_key_values`` is deprecated there) or before it
    ``past_key_values``: the decoder's name for a key/value cache argument."""
    forward = inspect.signature(decoder.forward).parameters
    return "cache" if "cache" in forward else "past_key_values"


def _nbytes(kv: list[tuple[Tensor, Tensor]], h: Tensor) -> int:
    return (
        sum(t.numel() * t.element_size() for pair in kv for t in pair)
        + h.numel() * h.element_size()
    )


def _left_pad(x: Tensor, width: int, dim: int) -> Tensor:
    """``x`` padded with zeros at the start of ``dim`` to ``width``."""
    missing = width - x.shape[dim]
    if not missing:
        return x
    shape = list(x.shape)
    shape[dim] = missing
    return torch.cat([x.new_zeros(shape), x], dim=dim)
