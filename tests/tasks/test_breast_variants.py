"""breast_ctv note variants: the trainer's hook gives each sample its other N stages and
sides, labelled by the rule table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from oncoseg.data.dataset import list_cases, read_clinical_csv, read_info
from oncoseg.data.loader import load_samples
from oncoseg.tasks.breast_ctv.clinical import REGIONS
from oncoseg.tasks.breast_ctv.reader import read_breast_note
from oncoseg.tasks.breast_ctv.variants import add_note_variants, note_variant

_SIDES = {"left": "right", "Left": "Right", "Lt": "Rt", "L": "R"}
_SIDES.update({v: k for k, v in list(_SIDES.items())})


def _swap_sides(text: str) -> str:
    """Every whole side word swapped (left <-> right, Lt <-> Rt, L <-> R)."""
    pattern = r"\b(" + "|".join(sorted(_SIDES, key=len, reverse=True)) + r")\b"
    return re.sub(pattern, lambda m: _SIDES[m.group(1)], text)


def test_breast_samples_get_their_other_n_stages(breast_dataset: Path) -> None:
    ids = list_cases(breast_dataset)
    rows = read_clinical_csv(breast_dataset)
    samples = load_samples(breast_dataset, ids, regions=True)
    add_note_variants(breast_dataset, samples, swap=True)
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
    ids = list_cases(breast_dataset)
    rows = read_clinical_csv(breast_dataset)
    samples = load_samples(breast_dataset, ids, regions=True)
    add_note_variants(breast_dataset, samples, swap=True, side=True)
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
                assert _swap_sides(note) == same != note
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


def test_note_variants_need_a_breast_phantom(brain_dataset: Path) -> None:
    from oncoseg.infer.config import ConfigError

    with pytest.raises(ConfigError, match="breast_ctv"):
        add_note_variants(brain_dataset, [])
    with pytest.raises(ConfigError, match=r"train\.side_swap: .*breast_ctv"):
        add_note_variants(brain_dataset, [], swap=False, side=True)


def test_surgery_variants_join_the_note_swap_pool(breast_dataset: Path) -> None:
    """With ``surgery`` each sample gets the other surgery at its own N stage:
    breast <-> chest wall by the rule table, nodal compartments as the patient's own."""
    rows = read_clinical_csv(breast_dataset)
    samples = load_samples(breast_dataset, list_cases(breast_dataset), regions=True)
    plain = load_samples(breast_dataset, list_cases(breast_dataset), regions=True)
    add_note_variants(breast_dataset, samples, swap=True, surgery=True)
    add_note_variants(breast_dataset, plain, swap=True)
    for s, p in zip(samples, plain, strict=True):
        row = rows[s.case_id]
        assert [n for n, _ in s.variants] == [n for n, _ in p.variants]
        assert p.surgery_variants == [] and len(s.surgery_variants) == 1
        note, label = s.surgery_variants[0]
        sides = ("left", "right") if row["laterality"] == "both" else (row["laterality"],)
        breast = np.isin(s.regions, [REGIONS[f"breast_{x}"] for x in sides])
        wall = np.isin(s.regions, [REGIONS[f"chestwall_{x}"] for x in sides])
        own, other = (breast, wall) if row["surgery"] == "BCS" else (wall, breast)
        assert label[0][other].all() and not label[0][own & ~other].any()
        rest = ~(breast | wall)
        np.testing.assert_array_equal(label[0][rest] > 0, s.label[0][rest] > 0)
        assert note != s.note
        other_surgery = "mastectomy" if row["surgery"] == "BCS" else "BCS"
        assert read_breast_note(note).fields["surgery"] == other_surgery, note
