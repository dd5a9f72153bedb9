from __future__ import annotations

import pytest
import torch

from oncoseg.text.cache import EmbeddingCache
from oncoseg.text.encoders import PromptConfig, PromptTunedLM, TextEncoder
from oncoseg.text.sentence import SentenceEncoder
from tests.text.tiny import BertByteTokenizer, ByteTokenizer, tiny_bert, tiny_llama

NOTES = [
    "N2, total mastectomy, left side",
    "N0, breast conserving surgery, right side. No nodal involvement.",
]
CONFIGS = [
    ("multi-prompt", "prefix", 2),
    ("multi-prompt", "suffix", 2),
    ("one-prompt", "prefix", 1),
    ("one-prompt", "suffix", 1),
    ("no-tuning", "prefix", 1),
    ("no-tuning", "suffix", 1),
    ("lora", "prefix", 1),
]


def _encoder(mode: str, position: str, **kw: object) -> PromptTunedLM:
    kw.setdefault("note_states", 0)  # the [SEG] vectors alone unless a test asks for states
    cfg = PromptConfig(mode=mode, position=position, **kw)  # type: ignore[arg-type]
    return PromptTunedLM(tiny_llama(), ByteTokenizer(), config=cfg)


@pytest.mark.parametrize(("mode", "position", "n"), CONFIGS)
def test_shapes_and_gradients(mode: str, position: str, n: int) -> None:
    enc = _encoder(mode, position)
    assert isinstance(enc, TextEncoder)
    out = enc.encode(NOTES)
    assert out.shape == (2, n, 32) and enc.num_tokens == n and enc.out_dim == 32
    assert torch.isfinite(out).all()
    trainable = {k: p for k, p in enc.named_parameters() if p.requires_grad}
    if mode == "no-tuning":
        assert not trainable and not out.requires_grad
        return
    out.pow(2).sum().backward()
    assert trainable and all(p.grad is not None for p in trainable.values())
    # LoRA's A matrices get zero gradient at step 0 by design (B starts at zero)
    moving = {k: p for k, p in trainable.items() if "lora_A" not in k}
    assert moving and all(p.grad is not None and p.grad.abs().sum() > 0 for p in moving.values())
    frozen = [p for k, p in enc.named_parameters() if not p.requires_grad]
    assert frozen and all(p.grad is None for p in frozen)  # the LM itself gets no gradient
    if mode == "lora":
        assert all("lora_" in k for k in trainable)
    else:
        assert set(trainable) == {"prompts", "seg"}
        assert enc.prompts.shape == (n, 8, 32)


@pytest.mark.parametrize(("mode", "position", "n"), CONFIGS)
@pytest.mark.parametrize(("a", "b"), [("left side", "right side"), ("N0,", "N2,")])
def test_one_clinical_word_changes_the_context(
    mode: str, position: str, n: int, a: str, b: str
) -> None:
    enc = _encoder(mode, position)
    note = "N0, breast conserving surgery, left side"
    with torch.no_grad():
        x, y = enc.encode([note, note.replace(a, b)])
    assert (x - y).abs().max() > 1e-3


def test_suffix_cache_path_equals_a_plain_forward_with_padding() -> None:
    """The KV-cached suffix path must equal running [BOS note P SEG] in one go, per note."""
    enc = _encoder("multi-prompt", "suffix")
    notes = ["short", "a much longer note about the left breast, N1mi"]
    with torch.no_grad():
        batched = enc.encode(notes)
        for i, note in enumerate(notes):
            ids = torch.tensor([[1] + [c + 3 for c in note.encode()]])
            emb = enc.embed(ids)
            for k in range(2):
                x = torch.cat([emb, enc.prompts[k][None], enc.seg[None, None]], dim=1)
                h = enc.decoder(inputs_embeds=x).last_hidden_state[0, -1]
                assert torch.allclose(batched[i, k], h, atol=1e-5)


def test_suffix_keeps_the_notes_frozen_half_between_training_steps() -> None:
    """Training steps reuse a note's keys/values and states; the result and the prompts'
    gradients equal a fresh computation, and only notes not seen yet reach the LM."""
    enc = _encoder("multi-prompt", "suffix", note_states=4)
    fresh = _encoder("multi-prompt", "suffix", note_states=4, prefix_cache_mb=0)
    fresh.load_state_dict(enc.state_dict())
    seen: list[int] = []  # note tokens the LM ran over, per call
    enc.decoder.register_forward_pre_hook(
        lambda _m, _a, kw: (
            seen.append(int(kw["input_ids"].numel())) if kw.get("input_ids") is not None else None
        ),
        with_kwargs=True,
    )
    enc.train(), fresh.train()
    new = "N1, left chest wall"
    runs = [2 * (1 + len(NOTES[1])), 1 + len(new)]  # padded ids; then the new note alone
    for notes, lm_ids in (
        (NOTES, [runs[0]]),
        ([NOTES[1], new, NOTES[0]], [runs[1]]),
        (NOTES[::-1], []),
    ):
        seen.clear()
        out, ref = enc.encode(notes), fresh.encode(notes)
        assert torch.allclose(out, ref, atol=1e-5)
        out.pow(2).sum().backward(), ref.pow(2).sum().backward()
        assert torch.allclose(enc.prompts.grad, fresh.prompts.grad, atol=1e-5)
        enc.zero_grad(), fresh.zero_grad()
        assert seen == lm_ids
    assert len(enc._prefix) == 3 and not fresh._prefix
    with torch.no_grad():  # validation or inference keeps nothing
        enc.eval().encode(["N3 right"])
    assert len(enc._prefix) == 3
    small = _encoder("multi-prompt", "suffix", prefix_cache_mb=1)  # ~23 kB a note here
    small.train()
    for i in range(200):
        small.encode([f"note {i} " * 10])
    assert 0 < small._prefix_bytes <= 2**20 and len(small._prefix) < 200


def test_prefix_and_suffix_agree_without_prompts() -> None:
    lm, tok = tiny_llama(), ByteTokenizer()
    a = PromptTunedLM(lm, tok, config=PromptConfig(mode="no-tuning", position="prefix"))
    b = PromptTunedLM(lm, tok, config=PromptConfig(mode="no-tuning", position="suffix"))
    notes = ["x", "N3 right chest wall", "a"]
    assert torch.allclose(a.encode(notes), b.encode(notes), atol=1e-5)


@pytest.mark.parametrize("position", ["prefix", "suffix"])
def test_prompts_train_loss_falls(position: str) -> None:
    torch.manual_seed(0)
    enc = _encoder("multi-prompt", position)
    notes = [
        "N0, breast conserving surgery, left side",
        "N2, total mastectomy, right side",
        "N1, breast conserving surgery, right side",
        "N0, total mastectomy, left side",
    ]
    # only the prompts and [SEG] can move the context along a fixed direction u
    u = torch.nn.functional.normalize(torch.randn(32), dim=0)
    target = torch.tensor([1.0, -1.0]).expand(4, 2)
    opt = torch.optim.Adam([p for p in enc.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    enc.train()
    for _ in range(20):
        pred = enc.encode(notes) @ u  # B x N
        loss = torch.nn.functional.mse_loss(pred, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0], losses


def test_cache_reuses_frozen_work_and_tracks_trainable_state(tmp_path: object) -> None:
    cache = EmbeddingCache()
    frozen = PromptTunedLM(
        tiny_llama(), ByteTokenizer(), config=PromptConfig(mode="no-tuning"), cache=cache
    )
    first = frozen.encode(NOTES)
    seen = len(frozen.tokenizer.seen)
    again = frozen.encode(NOTES)
    assert torch.equal(first, again) and cache.hits == 2 and len(frozen.tokenizer.seen) == seen

    tuned = PromptTunedLM(tiny_llama(), ByteTokenizer(), config=PromptConfig(), cache=cache)
    tuned.train()
    with torch.enable_grad():
        assert tuned.encode(NOTES).requires_grad  # training: never from the cache
    tuned.eval()
    with torch.no_grad():
        a = tuned.encode(NOTES)
        hits = cache.hits
        assert torch.equal(a, tuned.encode(NOTES)) and cache.hits == hits + 2
        tuned.prompts.add_(0.5)  # new trainable state -> new key, recomputed
        b = tuned.encode(NOTES)
    assert not torch.allclose(a, b)


def test_disk_cache_survives_a_new_process(tmp_path: object) -> None:
    from pathlib import Path

    d = Path(str(tmp_path)) / "emb"
    lm = tiny_llama()
    enc1 = PromptTunedLM(
        lm,
        ByteTokenizer(),
        config=PromptConfig(mode="no-tuning"),
        cache=EmbeddingCache(directory=d),
        model_id="tiny",
    )
    x = enc1.encode(NOTES)
    assert len(list(d.glob("*.safetensors"))) == 2
    tok = ByteTokenizer()
    enc2 = PromptTunedLM(
        lm,
        tok,
        config=PromptConfig(mode="no-tuning"),
        cache=EmbeddingCache(directory=d),
        model_id="tiny",
    )
    assert torch.equal(enc2.encode(NOTES), x) and tok.seen == []


def test_notes_are_deidentified_before_the_model() -> None:
    enc = _encoder("no-tuning", "prefix")
    enc.encode(["Pt: Jane Doe, MRN 88123456, seen by Dr. Okafor on 12/03/2024. N2, left side."])
    seen = enc.tokenizer.seen[-1]
    for secret in ("Jane", "Doe", "88123456", "Okafor", "12/03/2024"):
        assert secret not in seen
    assert "N2, left side" in seen


def test_long_notes_are_truncated_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    enc = _encoder("multi-prompt", "prefix", max_tokens=16)
    out = enc.encode(["left " * 40])
    assert out.shape == (1, 2, 32)
    assert "truncated to 16" in caplog.text and "left" not in caplog.text


def test_invalid_configs() -> None:
    with pytest.raises(ValueError, match="mode"):
        PromptConfig(mode="few-shot")
    with pytest.raises(ValueError, match="position"):
        PromptConfig(position="middle")
    with pytest.raises(ValueError, match="lora"):
        PromptConfig(mode="lora", position="suffix")


def test_sentence_encoder_shapes_cache_and_projection() -> None:
    cache = EmbeddingCache()
    enc = SentenceEncoder(tiny_bert(), BertByteTokenizer(), cache=cache)
    out = enc.encode(NOTES)
    assert out.shape == (2, 1, 24)
    assert torch.allclose(out.norm(dim=-1), torch.ones(2, 1), atol=1e-5)
    enc.encode(NOTES)
    assert cache.hits == 2
    proj = SentenceEncoder(tiny_bert(), BertByteTokenizer(), num_tokens=3, cache=cache)
    proj.train()
    y = proj.encode(NOTES)
    assert y.shape == (2, 3, 24) and y.requires_grad
    y.sum().backward()
    assert proj.proj is not None and proj.proj.weight.grad is not None
    assert all(p.grad is None for p in proj.model.parameters())


@pytest.mark.parametrize(
    ("mode", "position"),
    [("multi-prompt", "suffix"), ("multi-prompt", "prefix"), ("no-tuning", "suffix")],
)
def test_note_states_follow_the_seg_vectors(mode: str, position: str) -> None:
    enc = _encoder(mode, position, note_states=6)
    k = 2 if mode == "multi-prompt" else 1
    short, long = "N2 L", "N0, breast conserving surgery, right side"
    out = enc.encode([short, long])
    assert out.shape == (2, k + 6, 32) and enc.num_tokens == k + 6
    n_short = len(ByteTokenizer()([short], add_special_tokens=False)["input_ids"][0])
    assert n_short < 6
    assert out[0, k + n_short :].abs().max() == 0  # zero padding after a short note
    assert out[0, k : k + n_short].abs().sum(dim=-1).min() > 0
    assert out[1, k:].abs().sum(dim=-1).min() > 0  # a long note fills all L states


def test_note_states_agree_between_prefix_and_suffix_without_prompts() -> None:
    """No prompts: both layouts are [BOS] note [SEG], so every output must agree."""
    lm = tiny_llama()
    outs = []
    for position in ("prefix", "suffix"):
        cfg = PromptConfig(mode="no-tuning", position=position, note_states=8)
        outs.append(PromptTunedLM(lm, ByteTokenizer(), config=cfg).encode(NOTES))
    assert torch.allclose(outs[0], outs[1], atol=1e-5)
