"""The cached text modes: the LM reads each note once; frozen or learnt read-outs of its states."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from oncoseg.text.cache import EmbeddingCache
from oncoseg.text.cached_states import CachedStateConfig, CachedStateEncoder
from oncoseg.text.encoders import TextEncoder
from tests.text.tiny import ByteTokenizer, tiny_llama

NOTES = [
    "N2, total mastectomy, left side",
    "N0, breast conserving surgery, right side. No nodal involvement.",
    "N1mi, breast conserving surgery, left side",
]


def _encoder(
    cache: EmbeddingCache | None = None, model_id: str = "lm-a", **kw: object
) -> CachedStateEncoder:
    kw.setdefault("mode", "cached-queries")
    cfg = CachedStateConfig(num_prompts=2, prompt_len=3, note_states=4, **kw)  # type: ignore[arg-type]
    return CachedStateEncoder(
        tiny_llama(), ByteTokenizer(), config=cfg, model_id=model_id, cache=cache
    )


def _count_lm_notes(enc: CachedStateEncoder) -> list[int]:
    """Notes (batch rows) that reached the LM, counted by a forward hook on the decoder."""
    seen: list[int] = []
    enc.decoder.register_forward_hook(
        lambda m, a, kw, out: seen.append(len(kw["input_ids"])), with_kwargs=True
    )
    return seen


@pytest.mark.parametrize(("mode", "tokens"), [("cached-queries", 6 + 4), ("cached-frozen", 1 + 4)])
def test_shapes_and_what_trains(mode: str, tokens: int) -> None:
    enc = _encoder(EmbeddingCache(), mode=mode)
    assert isinstance(enc, TextEncoder)
    enc.fit_norm(NOTES)
    enc.train()
    out = enc.encode(NOTES[:2])
    assert out.shape == (2, tokens, 32) and enc.num_tokens == tokens and enc.out_dim == 32
    assert torch.isfinite(out).all()
    trainable = {k: p for k, p in enc.named_parameters() if p.requires_grad}
    if mode == "cached-frozen":
        assert not trainable and not out.requires_grad
        return
    out.pow(2).sum().backward()
    assert "queries" in trainable and enc.queries.shape == (6, 32)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in trainable.values())
    lm = [p for p in enc.decoder.parameters()]
    assert lm and all(not p.requires_grad and p.grad is None for p in lm)  # the LM: none


def test_cached_context_equals_an_uncached_forward() -> None:
    cached = _encoder(EmbeddingCache())
    plain = _encoder(None)
    plain.load_state_dict(cached.state_dict())
    cached.fit_norm(NOTES)
    plain.fit_norm(NOTES)
    first = cached.encode(NOTES)  # the LM runs, states go to the cache
    again = cached.encode(list(reversed(NOTES)))  # every note from the cache
    fresh = plain.encode(NOTES)
    assert torch.allclose(first, fresh, atol=1e-5)
    assert torch.allclose(again, fresh.flip(0), atol=1e-5)
    # one note at a time (no padding) gives the same as the padded batch
    for i, note in enumerate(NOTES):
        assert torch.allclose(plain.encode([note])[0], fresh[i], atol=1e-5)


@pytest.mark.parametrize("cached", [True, False])
def test_the_lm_reads_each_distinct_note_once_per_epoch(cached: bool) -> None:
    enc = _encoder(EmbeddingCache() if cached else None)
    calls = _count_lm_notes(enc)
    enc.train()
    opt = torch.optim.SGD([p for p in enc.parameters() if p.requires_grad], lr=0.1)
    epoch = [NOTES[0], NOTES[1], NOTES[1], NOTES[2], NOTES[0], NOTES[2]]  # 3 distinct notes
    for _ in range(2):  # two epochs of batches of two
        for i in range(0, len(epoch), 2):
            loss = enc.encode(epoch[i : i + 2]).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    if cached:
        assert sum(calls) == 3 and enc.lm_calls == 3
    else:  # without the cache every step runs the LM: the count is what the hook sees
        assert sum(calls) == 2 * len(epoch)


def test_disk_cache_is_keyed_by_lm_file_note_and_settings(tmp_path: Path) -> None:
    first = _encoder(EmbeddingCache(directory=tmp_path))
    first.encode(NOTES[:2])
    assert len(list(tmp_path.glob("*.safetensors"))) == 2
    again = _encoder(EmbeddingCache(directory=tmp_path))  # a new process, same LM file
    calls = _count_lm_notes(again)
    again.encode(NOTES[:2])
    assert calls == []  # read from disk
    again.encode([NOTES[0] + " Recurrence."])  # another note
    assert calls == [1]
    other_lm = _encoder(EmbeddingCache(directory=tmp_path), model_id="lm-b")
    other_lm_calls = _count_lm_notes(other_lm)
    other_lm.encode(NOTES[:2])
    assert other_lm_calls == [2]
    shorter = _encoder(EmbeddingCache(directory=tmp_path), max_tokens=8)
    shorter_calls = _count_lm_notes(shorter)
    out = shorter.encode(NOTES[:1])
    assert shorter_calls == [1] and out.shape[1] == shorter.num_tokens
    assert len(list(tmp_path.glob("*.safetensors"))) == 2 + 1 + 2 + 1


def test_one_clinical_word_changes_the_context() -> None:
    enc = _encoder(EmbeddingCache())
    note = "N0, breast conserving surgery, left side"
    variants = [note, note.replace("N0", "N2"), note.replace("left", "right")]
    enc.fit_norm(variants)
    with torch.no_grad():
        x, y, z = enc.encode(variants)
    assert (x - y).abs().max() > 0.1 and (x - z).abs().max() > 0.1


def test_notes_are_deidentified_before_the_lm() -> None:
    enc = _encoder(EmbeddingCache())
    enc.encode(["Patient: John Smith, MRN 12345678, N2, left side"])
    seen = " ".join(enc.tokenizer.seen)
    assert "John" not in seen and "12345678" not in seen and "N2" in seen


def test_invalid_options_fail_early() -> None:
    with pytest.raises(ValueError, match="mode"):
        CachedStateConfig(mode="multi-prompt")
    with pytest.raises(ValueError, match="note_states"):
        CachedStateConfig(note_states=-1)


def test_the_segmenter_keeps_the_encoders_own_standardisation() -> None:
    """Learnt queries hardly vary over notes before training: standardising the context
    by that spread (as for frozen encoders) would blow them up by orders of magnitude."""
    from oncoseg.models.multimodal import ModelConfig, build_model

    enc = _encoder(EmbeddingCache())
    model = build_model(ModelConfig(preset="tiny", fusion="two_way"), enc)
    notes = [f"N{n}, {s} side" for n in (0, 1, 2, 3) for s in ("left", "right")]
    model.fit_context_norm(notes)
    assert torch.equal(model.context_mean, torch.zeros_like(model.context_mean))
    assert torch.equal(model.context_std, torch.ones_like(model.context_std))
    with torch.no_grad():
        context = model.encode_notes(notes)  # B x (Q + L) x D
    assert context is not None
    assert context.shape == (8, 6 + 4, 32)
    assert context.norm(dim=-1).max() < 10 * 32**0.5  # queries keep their unit scale
    first = context[:, 6:]  # the note's first tokens, standardised per position
    assert torch.allclose(first.mean(dim=0), torch.zeros(4, 32), atol=1e-4)
    assert first.std(dim=0).max() <= 1.0 + 1e-4
