"""The cached text modes: the frozen LM reads each distinct note once; its states are cached.

:class:`CachedStateEncoder` (``text.mode`` ``cached-frozen``, the default, and
``cached-queries``) runs a frozen causal LM over ``[BOS] note [SEG]`` once per distinct
de-identified note and keeps the last hidden states (the note's tokens and ``[SEG]``) in
an :class:`~oncoseg.text.cache.EmbeddingCache`, in memory and on disk, keyed by the LM
file's hash, the settings and the note. The LM itself loads only when a note's states are
not cached (:class:`~oncoseg.text.models.LazyCausalLM`). ``cached-frozen`` passes the
standardised states on; ``cached-queries`` learns queries outside the LM (Q-Former /
Perceiver style)::

    note states S (T x D), [SEG] state s   <- frozen LM, once per note, cached
    memory  = standardise([s; S])           # (1 + T) x D, per-dim statistics of training notes
    queries = Q (N*M x D), learnable        # the seed's N prompts of M vectors, recast
    for each adapter layer:
        queries += CrossAttn(queries -> memory); queries += SelfAttn; queries += MLP
    context = [queries; S[:L] standardised per position]   # (N*M + L) x D
    frozen:   [s standardised; S[:L] standardised per position]   # (1 + L) x D

The encoder standardises its own output (``standardises_output``): the segmenter's
per-token output statistics, fitted once before training, would freeze the scale of
queries that have not learnt anything yet (their spread over notes is ~0 at the start,
so dividing by it blows them up by orders of magnitude).

After the notes of a training set have been read once (``fit_norm`` does that before the
first step) the LM is not called again in training: a training step costs the adapter's
few small attentions, not a pass through the LM. ``cached-frozen`` has no adapter and
nothing trains (the seed's "no tuning", cached).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from oncoseg.text.cache import EmbeddingCache, cache_key
from oncoseg.text.encoders import MAX_TOKENS, NOTE_STATES, prepare_note
from oncoseg.text.models import LazyCausalLM

log = logging.getLogger(__name__)

# text.mode values of this encoder; the first is the default (queries lost on validation at
# the demo's budget: docs/ablations.md)
CACHED_MODES = ("cached-frozen", "cached-queries")
STATES_VERSION = "states-v1"  # bump when the cached tensor's meaning changes


@dataclass
class CachedStateConfig:
    """Options of :class:`CachedStateEncoder`."""

    mode: str = CACHED_MODES[0]  # cached-frozen | cached-queries (learnt queries outside the LM)
    num_prompts: int = 2  # N (cached-queries)
    prompt_len: int = 8  # M: N*M queries (cached-queries)
    layers: int = 2  # adapter layers: cross-attention, self-attention, MLP (cached-queries)
    max_tokens: int = MAX_TOKENS  # note tokens kept; longer notes are truncated with a warning
    note_states: int = NOTE_STATES  # L: standardised states of the note's first L tokens follow

    def __post_init__(self) -> None:
        if self.mode not in CACHED_MODES:
            raise ValueError(f"mode must be one of {CACHED_MODES}, got {self.mode!r}")
        if min(self.num_prompts, self.prompt_len, self.layers, self.max_tokens) < 1:
            raise ValueError("num_prompts, prompt_len, layers and max_tokens must be >= 1")
        if self.note_states < 0:
            raise ValueError(f"note_states must be >= 0, got {self.note_states}")

    @property
    def settings(self) -> str:
        """What the cached states depend on besides the LM and the note."""
        return f"{STATES_VERSION}|max_tokens={self.max_tokens}|seg=eos"


class QueryLayer(nn.Module):
    """One adapter layer: queries read the note, then each other, then an MLP (pre-norm)."""

    def __init__(self, *, dim: int, num_heads: int, mlp_ratio: int = 2) -> None:
        super().__init__()
        self.cross = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.self_attn = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(3))

    def forward(self, q: Tensor, memory: Tensor, pad: Tensor) -> Tensor:
        """``q`` (B, Q, D), ``memory`` (B, T, D), ``pad`` (B, T) True where padding."""
        # 1. each query reads the note's states
        x = self.norms[0](q)
        q = q + self.cross(x, memory, memory, key_padding_mask=pad, need_weights=False)[0]
        # 2. the queries exchange what they read
        x = self.norms[1](q)
        q = q + self.self_attn(x, x, x, need_weights=False)[0]
        # 3. an MLP on each query
        return q + self.mlp(self.norms[2](q))  # B x Q x D


class CachedStateEncoder(nn.Module):
    """Frozen causal LM read once per note (states cached), then a read-out that is fixed
    (``cached-frozen``) or learnt outside the LM (``cached-queries``).

    Args:
        lm: a ``transformers`` causal LM, or a :class:`~oncoseg.text.models.LazyCausalLM`
            that loads only when a note's states are not cached. Either way it is frozen,
            run without gradients, and not a submodule: its weights are never in a state
            dict or a checkpoint (they are rebuilt from the installed model).
        tokenizer: the LM's tokenizer (``None`` with a lazy LM: it comes with the LM).
        config: read-out and cache options.
        model_id: identifies the LM weights in cache keys (the GGUF file's hash); a lazy
            LM's own fingerprint when not given.
        cache: where note states are kept (memory, optionally disk); ``None`` recomputes.
        deid: de-identify notes before the LM sees them (on by default).
    """

    state_mean: Tensor
    state_std: Tensor
    first_mean: Tensor
    first_std: Tensor
    standardises_output = True  # NoteGuidedSegmenter leaves the context as it is

    def __init__(
        self,
        lm: Any,
        tokenizer: Any = None,
        *,
        config: CachedStateConfig | None = None,
        model_id: str | None = None,
        cache: EmbeddingCache | None = None,
        deid: bool = True,
    ) -> None:
        super().__init__()
        self.config = config or CachedStateConfig()
        self.mode, self.cache, self.deid = self.config.mode, cache, deid
        if isinstance(lm, LazyCausalLM):
            self._lazy: LazyCausalLM | None = lm
            self.model_id = model_id or lm.fingerprint
            self.out_dim = dim = lm.hidden_size
            self._frozen: dict[str, Any] = {}  # decoder, tokenizer: loaded on first need
        else:
            self._lazy, self.model_id = None, model_id or "custom"
            self._frozen = self._freeze(lm, tokenizer)
            self.out_dim = dim = int(self._frozen["hidden_size"])
        cfg = self.config
        q = cfg.num_prompts * cfg.prompt_len if cfg.mode == "cached-queries" else 1
        self.num_tokens = q + cfg.note_states
        # per-dimension standardisation of the LM states (fit_norm): states of notes that
        # differ in one clinical word are nearly parallel (cosine ~0.999) before it
        self.register_buffer("state_mean", torch.zeros(2, dim))  # row 0: tokens, 1: [SEG]
        self.register_buffer("state_std", torch.ones(2, dim))
        # per-position statistics of the first L token states (a one-word change of a
        # templated note then stands out at that word's position)
        self.register_buffer("first_mean", torch.zeros(cfg.note_states, dim))
        self.register_buffer("first_std", torch.ones(cfg.note_states, dim))
        if cfg.mode == "cached-queries":
            self.queries = nn.Parameter(torch.randn(q, dim))  # (N*M) x D
            heads = math.gcd(dim, 8)
            self.layers = nn.ModuleList(
                QueryLayer(dim=dim, num_heads=heads) for _ in range(cfg.layers)
            )
        self.lm_calls = 0  # notes run through the LM by this encoder (a diagnostic)

    @staticmethod
    def _freeze(lm: Any, tokenizer: Any) -> dict[str, Any]:
        """The decoder (the transformer without the LM head, frozen, eval) and the ids."""
        lm.requires_grad_(False)
        core = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
        eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
        return {
            "decoder": core.base_model.eval(),
            "tokenizer": tokenizer,
            "hidden_size": int(core.config.hidden_size),
            "bos_id": tokenizer.bos_token_id,
            "seg_id": eos if eos is not None else 0,
            "pad_id": pad if pad is not None else 0,
        }

    def _lm(self) -> dict[str, Any]:
        """The frozen LM's parts, loading a lazy LM now (once)."""
        if "decoder" not in self._frozen:
            assert self._lazy is not None
            self._frozen = self._freeze(*self._lazy.load())
        return self._frozen

    @property
    def decoder(self) -> nn.Module:
        """The frozen transformer (loaded on first use)."""
        decoder: nn.Module = self._lm()["decoder"]
        return decoder

    @property
    def tokenizer(self) -> Any:
        """The LM's tokenizer; with a lazy LM it loads alone, the weights stay unread."""
        if "tokenizer" in self._frozen:
            return self._frozen["tokenizer"]
        assert self._lazy is not None
        return self._lazy.tokenizer()

    def token_count(self, prepared: str) -> int | None:
        """Tokens of a prepared note, when its cached states tell (fewer than ``max_tokens``:
        they were not truncated); ``None`` when only the tokenizer can tell."""
        if self.cache is None:
            return None
        hit = self.cache.get(cache_key(self.model_id, self.config.settings, prepared))
        if hit is None or len(hit) - 1 >= self.config.max_tokens:
            return None
        return len(hit) - 1

    def train(self, mode: bool = True) -> CachedStateEncoder:
        super().train(mode)  # the LM is no submodule: it keeps its inference behaviour
        return self

    def encode(self, notes: Sequence[str]) -> Tensor:
        """Context vectors (B, N*M + L, D) (``frozen``: (B, 1 + L, D)) for ``notes``."""
        seg, states, pad = self.note_states([prepare_note(n, self.deid) for n in notes])
        first = (self._first_tokens(states) - self.first_mean) / self.first_std  # B x L x D
        seg = (seg - self.state_mean[1]) / self.state_std[1]  # B x D
        states = ((states - self.state_mean[0]) / self.state_std[0]).masked_fill(
            pad[..., None], 0.0
        )  # B x T x D
        if self.config.mode == "cached-frozen":
            return torch.cat([seg[:, None], first], dim=1)
        memory = torch.cat([seg[:, None], states], dim=1)  # B x (1 + T) x D
        pad = torch.cat([pad.new_zeros(pad.shape[0], 1), pad], dim=1)
        q = self.queries[None].expand(len(notes), -1, -1)  # B x Q x D
        for layer in self.layers:
            q = layer(q, memory, pad)
        return torch.cat([q, first], dim=1)

    def _first_tokens(self, states: Tensor) -> Tensor:
        """The first L token states, zero-padded (``states`` is zero at padding): (B, L, D)."""
        n = self.config.note_states
        out = states.new_zeros(states.shape[0], n, states.shape[2])
        take = min(n, states.shape[1])
        out[:, :take] = states[:, :take]
        return out

    @torch.no_grad()
    def fit_norm(self, notes: Sequence[str], batch: int = 32) -> None:
        """Standardisation statistics from ``notes`` (the training notes): per dimension
        for the adapter's memory (token and [SEG] states), per position and dimension for
        the first L token states. The LM reads every note here, so training never calls it."""
        segs, toks, firsts = [], [], []
        for i in range(0, len(notes), batch):
            prepared = [prepare_note(n, self.deid) for n in notes[i : i + batch]]
            seg, states, pad = self.note_states(prepared)
            segs.append(seg)
            toks.append(states[~pad])
            firsts.append(self._first_tokens(states))
        if len(notes) < 2:
            return
        for row, x in enumerate((torch.cat(toks), torch.cat(segs))):
            self.state_mean[row], self.state_std[row] = mean_sd(x)
        if self.config.note_states:
            self.first_mean.copy_(torch.cat(firsts).mean(dim=0))
            self.first_std.copy_(mean_sd(torch.cat(firsts))[1])

    def note_states(self, notes: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        """Frozen LM states of prepared notes: ``[SEG]`` (B, D), tokens (B, T, D) and the
        padding mask (B, T), True where padding. Only notes not cached run the LM."""
        keys = [cache_key(self.model_id, self.config.settings, n) for n in notes]
        rows: dict[int, Tensor] = {}
        if self.cache is not None:
            for i, k in enumerate(keys):
                if (hit := self.cache.get(k)) is not None:
                    rows[i] = hit
        todo = [i for i in range(len(notes)) if i not in rows]
        if todo:
            fresh = self._run_lm([notes[i] for i in todo])
            for i, row in zip(todo, fresh, strict=True):
                rows[i] = row
                if self.cache is not None:
                    self.cache.put(keys[i], row)
        device = self.state_mean.device
        seg = torch.stack([rows[i][-1] for i in range(len(notes))]).to(device)
        width = max(len(rows[i]) - 1 for i in range(len(notes)))
        states = seg.new_zeros(len(notes), max(width, 1), self.out_dim)
        pad = torch.ones(len(notes), states.shape[1], dtype=torch.bool, device=device)
        for i in range(len(notes)):
            n = len(rows[i]) - 1
            states[i, :n] = rows[i][:-1].to(device)
            pad[i, :n] = False
        return seg, states, pad

    @torch.no_grad()
    def _run_lm(self, notes: list[str]) -> list[Tensor]:
        """Per note, (T + 1, D) float32 states of its tokens and of [SEG] (the last row)."""
        lm = self._lm()
        ids = lm["tokenizer"](notes, add_special_tokens=False)["input_ids"]
        seqs = []
        for seq in ids:
            if len(seq) > self.config.max_tokens:
                log.warning("note of %d tokens truncated to %d", len(seq), self.config.max_tokens)
                seq = seq[: self.config.max_tokens]
            bos = [lm["bos_id"]] if lm["bos_id"] is not None else []
            seqs.append((len(bos), [*bos, *seq, lm["seg_id"]]))
        device = self.state_mean.device
        decoder = lm["decoder"].to(device)  # the LM follows the encoder's device
        width = max(len(s) for _, s in seqs)
        tok = torch.full((len(seqs), width), lm["pad_id"], dtype=torch.long, device=device)
        mask = torch.zeros_like(tok)
        for b, (_, s) in enumerate(seqs):  # right padding: a causal LM's states are exact
            tok[b, : len(s)] = torch.tensor(s, device=device)
            mask[b, : len(s)] = 1
        h = decoder(input_ids=tok, attention_mask=mask).last_hidden_state.float()
        self.lm_calls += len(notes)
        return [h[b, nb : len(s)].cpu() for b, (nb, s) in enumerate(seqs)]


def mean_sd(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and SD over the first axis; SDs below the median SD are raised to it, so
    dimensions that hardly vary (or padding) are never amplified. One row: SD 1."""
    std = x.std(dim=0) if x.shape[0] > 1 else torch.ones_like(x[0])
    floor = std.flatten().median().clamp(min=1e-6)
    return x.mean(dim=0), torch.maximum(std, floor)
