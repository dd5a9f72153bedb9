"""The predict-time check that the contour lies on the side the note names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oncoseg.data.dataset import list_cases, read_case, read_clinical_csv
from oncoseg.infer.side_check import check_side, note_side


@pytest.mark.parametrize(
    ("note", "side"),
    [
        ("N2, total mastectomy, left side", "left"),
        ("Right-sided breast cancer, N1mi, breast conserving surgery.", "right"),
        ("Bilateral disease, N0", "both"),
        ("Left breast tumour; right breast normal on imaging.", None),  # names both
        ("N0, breast conserving surgery", None),
        ("Glioblastoma of the LEFT frontal lobe", "left"),
    ],
)
def test_note_side(note: str, side: str | None) -> None:
    assert note_side(note) == side


def _unilateral(ds: Path) -> list[tuple[str, object]]:
    rows = read_clinical_csv(ds)
    return [(c, read_case(ds, c)) for c in list_cases(ds) if rows[c]["laterality"] != "both"]


def test_true_labels_agree_with_their_notes_and_flipped_notes_warn(breast_dataset: Path) -> None:
    rows = read_clinical_csv(breast_dataset)
    cases = _unilateral(breast_dataset)
    assert len(cases) >= 4
    for case_id, case in cases:
        side = rows[case_id]["laterality"]
        other = "right" if side == "left" else "left"
        label, image = case.label, case.images[0]  # type: ignore[attr-defined]
        mask, ct = np.asarray(label.array) > 0, np.asarray(image.array)
        same = check_side(f"N2, {side} side", mask, label.affine, ct)
        assert same.contour_side == side and same.warning is None
        flipped = check_side(f"N2, {other} side", mask, label.affine, ct)
        assert flipped.warning is not None and f"names the {other} side" in flipped.warning
        # another grid orientation of the same patient: the world coordinates decide
        flip = np.diag([-1.0, 1.0, 1.0, 1.0])
        flip[0, 3] = mask.shape[0] - 1
        moved = check_side(f"N2, {side} side", mask[::-1], label.affine @ flip, ct[::-1])
        assert moved.contour_side == side and moved.midline_left_share == pytest.approx(
            same.midline_left_share
        )


def test_empty_and_bilateral_contours_never_warn() -> None:
    empty = check_side("left side", np.zeros((6, 6, 6), bool), np.eye(4))
    assert (
        empty.contour_side is None and empty.warning is None and np.isnan(empty.midline_left_share)
    )
    both = np.zeros((6, 6, 6), bool)
    both[[0, 5]] = True
    assert check_side("left side", both, np.eye(4)).contour_side == "both"
    assert check_side("left side", both, np.eye(4)).warning is None
