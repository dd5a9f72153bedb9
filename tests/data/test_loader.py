from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oncoseg.data.loader import Sample, batches, load_samples, train_transform
from oncoseg.text.notes import mirror_note


def test_mirror_note_swaps_side_words_only() -> None:
    note = "Left breast IDC, s/p Lt mastectomy. Previous right-sided wrist fracture; L axilla."
    assert mirror_note(note) == (
        "Right breast IDC, s/p Rt mastectomy. Previous left-sided wrist fracture; R axilla."
    )
    assert mirror_note(mirror_note(note)) == note
    untouched = "Lateral margin clear, bilateral, LVI negative, Leftover text."
    assert mirror_note(untouched) == untouched


def _toy_samples() -> list[Sample]:
    out = []
    for i, side in enumerate(("left", "right", "left", "right")):
        image = np.zeros((1, 8, 4, 4), np.float32)
        label = np.zeros((1, 8, 4, 4), np.int64)
        x = slice(6, 8) if side == "left" else slice(0, 2)  # LPS: axis 0 runs towards left
        image[0, x], label[0, x] = 1.0 + i, 1
        out.append(Sample(f"c{i}", image, label, f"N2, {side} side", (1.0, 1.0, 1.0)))
    return out


@pytest.mark.parametrize("mirror", [0.0, 1.0])
def test_batches_mirror_the_patient_with_the_note(mirror: float) -> None:
    samples = _toy_samples()
    by_note = {s.image.max(): s for s in samples}
    tf = train_transform((8, 4, 4), flips=False, augment=False)
    seen = 0
    for image, label, notes in batches(samples, 2, tf, np.random.default_rng(0), mirror=mirror):
        for img, lab, note in zip(image.numpy(), label.numpy(), notes, strict=True):
            src = by_note[img.max()]
            flipped = mirror == 1.0
            assert np.array_equal(img, src.image[:, ::-1] if flipped else src.image)
            assert np.array_equal(lab, src.label[:, ::-1] if flipped else src.label)
            assert note == (mirror_note(src.note) if flipped else src.note)
            # image, label and note still agree on the side
            side = "left" if lab[0, 6:].any() else "right"
            assert note.endswith(f"{side} side")
            seen += 1
    assert seen == 4


def test_same_rng_same_batches_with_mirroring(breast_dataset: Path) -> None:
    from oncoseg.data.dataset import list_cases

    samples = load_samples(breast_dataset, list_cases(breast_dataset)[:4])
    tf = train_transform((32, 32, 32), flips=False, augment=False)
    runs = [
        [
            n
            for _, _, notes in batches(samples, 2, tf, np.random.default_rng(7), mirror=0.5)
            for n in notes
        ]
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0]) == 4
