from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

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


def test_breast_samples_get_their_other_n_stages(breast_dataset: Path) -> None:
    from oncoseg.data.dataset import list_cases, read_clinical_csv
    from oncoseg.synth.breast_ctv import REGIONS
    from oncoseg.train.loop import add_note_variants

    ids = list_cases(breast_dataset)
    rows = read_clinical_csv(breast_dataset)
    samples = load_samples(breast_dataset, ids, regions=True)
    add_note_variants(breast_dataset, samples)
    checked = 0
    for s in samples:
        assert s.regions is not None and s.regions.shape == s.label.shape[1:]
        if rows[s.case_id]["pathology"] == "DCIS":
            assert s.variants == []
            continue
        assert len(s.variants) == 4  # the four other N stages
        notes = [n for n, _ in s.variants]
        assert s.note not in notes and len(set(notes)) >= 3  # N1mi may read like N0/N1
        side = "left" if rows[s.case_id]["laterality"] in ("left", "both") else "right"
        nodal = np.isin(s.regions, [REGIONS[f"{r}_{side}"] for r in ("axilla", "scf", "imn")])
        for _, label in s.variants:
            assert label.shape == s.label.shape and label.dtype == np.uint8
            inside = label[0][nodal]
            assert inside.all() or not inside.any()  # whole compartments, never part
            # outside the nodal compartments the label is the patient's own
            assert np.array_equal(
                label[0][~nodal & (s.regions > 0)], s.label[0][~nodal & (s.regions > 0)]
            )
        covered = [bool(label[0][nodal].any()) for _, label in s.variants]
        assert any(covered) and not all(covered)  # N0 leaves the nodes out, N2 takes them in
        checked += 1
    assert checked >= 4


def test_breast_samples_get_the_other_side(breast_dataset: Path) -> None:
    from oncoseg.data.dataset import list_cases, read_clinical_csv, read_info
    from oncoseg.synth.breast_ctv import REGIONS, note_variant
    from oncoseg.train.loop import add_note_variants

    ids = list_cases(breast_dataset)
    rows = read_clinical_csv(breast_dataset)
    samples = load_samples(breast_dataset, ids, regions=True)
    add_note_variants(breast_dataset, samples, nodal=True, sides=True)
    info = read_info(breast_dataset)
    checked = 0
    for s in samples:
        row = rows[s.case_id]
        if row["laterality"] == "both":
            assert s.side_variants == []
            continue
        assert len(s.side_variants) == len(s.variants) + 1
        other = "right" if row["laterality"] == "left" else "left"
        own_side = np.isin(
            s.regions, [v for k, v in REGIONS.items() if k.endswith(row["laterality"])]
        )
        part = "breast" if row["surgery"] == "BCS" else "chestwall"
        for i, (note, label) in enumerate(s.side_variants):
            assert label.shape == s.label.shape and label.dtype == np.uint8
            if i == 0:  # the same wording as the own-side variant, side words swapped
                same = note_variant(row, info.extra["note_style"], int(info.extra["seed"]))
                assert mirror_note(note) == same != note
            assert not label[0][own_side].any()  # nothing left on the patient's real side
            assert label[0][s.regions == REGIONS[f"{part}_{other}"]].all()
            # [0] has the patient's own N stage; [k + 1] the N stage of variants[k]: same
            # nodal coverage as that variant, mirrored onto the other side
            ref = s.label if i == 0 else s.variants[i - 1][1]
            nodes = ("axilla", "scf", "imn")
            own_nodes = np.isin(s.regions, [REGIONS[f"{r}_{row['laterality']}"] for r in nodes])
            other_nodes = np.isin(s.regions, [REGIONS[f"{r}_{other}"] for r in nodes])
            assert bool(label[0][other_nodes].any()) == bool(ref[0][own_nodes].any())
        checked += 1
    assert checked >= 4


def test_batches_take_the_other_side_with_the_swapped_n_stage() -> None:
    samples = _toy_samples()
    for i, s in enumerate(samples):
        s.variants = [(f"N-variant {i}", np.full_like(s.label, 10 + i))]
        s.side_variants = [
            (f"other side {i}", np.full_like(s.label, 20 + i)),
            (f"other side, N-variant {i}", np.full_like(s.label, 30 + i)),
        ]
    by_value = {s.image.max(): (i, s) for i, s in enumerate(samples)}
    tf = train_transform((8, 4, 4), flips=False, augment=False)
    expected = {  # (swap, side) -> (note, label value) for sample i
        (0.0, 1.0): ("other side {i}", 20),
        (1.0, 1.0): ("other side, N-variant {i}", 30),
        (1.0, 0.0): ("N-variant {i}", 10),
    }
    for (swap, side), (note_fmt, base) in expected.items():
        got = batches(samples, 2, tf, np.random.default_rng(0), swap=swap, side=side)
        for image, label, notes in got:
            assert label.dtype == torch.int64
            for img, lab, note in zip(image.numpy(), label.numpy(), notes, strict=True):
                i, src = by_value[img.max()]
                assert np.array_equal(img, src.image)
                assert note == note_fmt.format(i=i) and (lab == base + i).all()


def test_batches_swap_in_a_variant_note_with_its_label() -> None:
    samples = _toy_samples()
    for i, s in enumerate(samples):
        other = np.full_like(s.label, 7 + i)
        s.variants = [(f"variant {i}", other)]
    by_value = {s.image.max(): (i, s) for i, s in enumerate(samples)}
    tf = train_transform((8, 4, 4), flips=False, augment=False)
    for swap in (0.0, 1.0):
        for image, label, notes in batches(samples, 2, tf, np.random.default_rng(0), swap=swap):
            for img, lab, note in zip(image.numpy(), label.numpy(), notes, strict=True):
                i, src = by_value[img.max()]
                assert np.array_equal(img, src.image)  # the image never changes
                if swap:
                    assert note == f"variant {i}" and (lab == 7 + i).all()
                else:
                    assert note == src.note and np.array_equal(lab, src.label)


def test_note_swap_needs_a_breast_phantom(
    breast_dataset: Path, brain_dataset: Path, tmp_path: Path
) -> None:
    import shutil

    from oncoseg.data.dataset import list_cases
    from oncoseg.train.config import ConfigError
    from oncoseg.train.loop import add_note_variants

    with pytest.raises(ConfigError, match="breast_ctv"):
        add_note_variants(brain_dataset, [])
    with pytest.raises(ConfigError, match=r"train\.side_swap: .*breast_ctv"):
        add_note_variants(brain_dataset, [], nodal=False, sides=True)
    copy = shutil.copytree(breast_dataset, tmp_path / "no-regions")
    case = list_cases(copy)[0]
    (copy / "regionsTr" / f"{case}.nii.gz").unlink()
    with pytest.raises(FileNotFoundError, match=f"regionsTr/{case}"):
        load_samples(copy, [case], regions=True)


def test_batches_pair_each_patient_with_a_counterfactual_note() -> None:
    samples = _toy_samples()
    labels = {}  # note -> label
    for i, s in enumerate(samples):
        labels[s.note] = s.label
        s.variants = [
            (f"N-variant {i}.{v}", np.full_like(s.label, 10 + 10 * v + i)) for v in (0, 1)
        ]
        s.side_variants = [  # [0]: own N stage, [k + 1]: N stage of variants[k]
            (f"other side {i}", np.full_like(s.label, 50 + i)),
            *((f"other side {i}.{v}", np.full_like(s.label, 60 + 10 * v + i)) for v in (0, 1)),
        ]
        labels.update({n: y for n, y in s.variants + s.side_variants})
    tf = train_transform((8, 4, 4), flips=False, augment=True)
    for swap, side in ((0.0, 0.0), (1.0, 0.0), (0.5, 1.0)):
        kinds: set[str] = set()
        for seed in range(8):
            rng = np.random.default_rng(seed)
            got = list(batches(samples, 2, tf, rng, swap=swap, side=side, pairs=True))
            assert len(got) == 4  # 4 patients, 1 per batch of 2
            for image, label, notes in got:
                assert image.shape[0] == label.shape[0] == len(notes) == 2
                # one patient, one crop and intensity augmentation, two different notes
                assert torch.equal(image[0], image[1]) and notes[0] != notes[1]
                for lab, note in zip(label.numpy(), notes, strict=True):
                    assert np.array_equal(lab, labels[note])  # each copy with its own label
                if swap == 0.0:
                    assert notes[0].startswith("N2,")  # the first copy as drawn
                kinds.add(notes[1].split(" ", 1)[0])
        # the partner: any other N stage (the own one when the first copy was swapped),
        # on the other side when side = 1
        want = {"N-variant"} if swap == 0.0 else {"N-variant", "N2,"}
        assert kinds == ({"other"} if side == 1.0 else want), (swap, side, kinds)
    with pytest.raises(ValueError, match="batch size of at least 2"):
        next(batches(samples, 1, tf, np.random.default_rng(0), pairs=True))
