"""The OpenKBP prescription reader, and the predictor drawing no target it leaves out."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from oncoseg.infer.plan import Plan
from oncoseg.infer.predictor import Predictor, to_labels
from oncoseg.tasks.openkbp.convert import prescription
from oncoseg.tasks.openkbp.reader import read_prescription
from oncoseg.text.readers import get_reader


def test_registered_as_the_tasks_reader() -> None:
    assert get_reader("openkbp") is read_prescription


@pytest.mark.parametrize(
    "targets", [["PTV70"], ["PTV70", "PTV56"], ["PTV70", "PTV63"], ["PTV70", "PTV63", "PTV56"]]
)
def test_the_converted_notes_read_back_unchanged(targets: list[str]) -> None:
    note = prescription(targets)
    reading = read_prescription(note)
    assert list(reading.fields) == targets
    assert reading.absent == tuple(t for t in ("PTV70", "PTV63", "PTV56") if t not in targets)
    assert reading.canonical == note


@pytest.mark.parametrize(
    ("note", "prescribed"),
    [
        ("PTV_High 69.96 Gy in 33 fractions; elective nodes 56 Gy", ("PTV70", "PTV56")),
        ("70/63/56 Gy in 35 fractions", ("PTV70", "PTV63", "PTV56")),
        ("DL1 70 Gy, DL2 63 Gy, 2 Gy per fraction", ("PTV70", "PTV63")),
        ("Target volumes PTV 70 and PTV-63.", ("PTV70", "PTV63")),
        ("Post-op 66 Gy to the tumour bed, 59.4 Gy elective", ("PTV63", "PTV56")),
    ],
)
def test_reads_prescriptions_as_written(note: str, prescribed: tuple[str, ...]) -> None:
    reading = read_prescription(note)
    assert tuple(reading.fields) == prescribed
    assert set(reading.absent) == {"PTV70", "PTV63", "PTV56"} - set(prescribed)
    assert ("not drawn" in reading.describe()) == bool(reading.absent)


@pytest.mark.parametrize(
    ("note", "prescribed", "absent"),
    [
        # organ limits and an earlier course are not prescriptions
        ("70 Gy in 35 fractions. Cord max 45 Gy, brainstem max 54 Gy.", ("PTV70",), ()),
        ("Parotid mean < 26 Gy; 70 Gy to PTV70 only", ("PTV70",), ("PTV63", "PTV56")),
        ("Prior RT 60 Gy in 2015. Rx 70 Gy.", ("PTV70",), ("PTV63", "PTV56")),
        # one dose and no stated prescription: nothing is ruled out
        ("70 Gy/35# to primary and involved nodes", ("PTV70",), ()),
    ],
)
def test_limits_and_partial_notes(
    note: str, prescribed: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    reading = read_prescription(note)
    assert tuple(reading.fields) == prescribed and reading.absent == absent


def test_a_note_without_a_prescription_rules_nothing_out() -> None:
    reading = read_prescription("Oropharynx SCC, p16 positive, for radical chemoradiotherapy.")
    assert reading.fields == {} and reading.absent == ()
    assert reading.canonical.startswith("Oropharynx")


def _predictor() -> Predictor:
    model = SimpleNamespace(uses_text=True, note_reader=read_prescription, eval=lambda: model)
    plan = Plan(
        {"0": "CT"},
        {"background": 0, "PTV70": 1, "PTV63": 2, "PTV56": 3},
        (4.0, 4.0, 2.5),
        (64, 64, 64),
    )
    return Predictor(model, SimpleNamespace(), plan, None)  # type: ignore[arg-type]


def test_an_unprescribed_target_comes_out_empty() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(6, 6, 6)).transpose(3, 0, 1, 2).astype(np.float32)
    probs[2, :3] += 2.0  # the model draws PTV63 in half the volume
    before = to_labels(probs.copy())
    assert np.count_nonzero(before == 2) > 100
    note = prescription(["PTV70", "PTV56"])
    after = to_labels(_predictor().rule_out(probs.copy(), note))
    assert np.count_nonzero(after == 2) == 0
    # PTV63's voxels go to the likeliest other class; the others keep their label
    keep = before != 2
    np.testing.assert_array_equal(after[keep], before[keep])
    others = probs[[0, 1, 3]][:, before == 2]
    np.testing.assert_array_equal(after[before == 2], np.array([0, 1, 3])[others.argmax(0)])
    # with a threshold too: the ruled-out probability is not left in the foreground
    thresholded = to_labels(_predictor().rule_out(probs.copy(), note), 0.3)
    assert np.count_nonzero(thresholded == 2) == 0
    ruled = _predictor().rule_out(probs.copy(), note)
    np.testing.assert_allclose(ruled.sum(axis=0), 1.0, rtol=1e-5)
    # a note that prescribes every target, or none, changes nothing
    for note in (prescription(["PTV70", "PTV63", "PTV56"]), "no prescription here"):
        np.testing.assert_array_equal(to_labels(_predictor().rule_out(probs.copy(), note)), before)


def test_the_prediction_result_says_what_is_not_drawn() -> None:
    from oncoseg.infer.pipeline import _reading

    reading = _reading(_predictor(), prescription(["PTV70", "PTV63"]))
    assert reading is not None
    assert reading["not_drawn"] == ["PTV56"] and list(reading["fields"]) == ["PTV70", "PTV63"]
