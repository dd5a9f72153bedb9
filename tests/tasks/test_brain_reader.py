"""The brain note reader: target location and grade, never a non-target lesion's."""

from __future__ import annotations

import numpy as np
import pytest

from oncoseg.tasks.brain_tumor.phantom import brain_prompt, make_note, sample_clinical
from oncoseg.tasks.brain_tumor.reader import read_brain_note
from oncoseg.text.readers import get_reader


def test_registered_as_the_tasks_reader() -> None:
    assert get_reader("brain_tumor") is read_brain_note


@pytest.mark.parametrize("style", ["prompt", "narrative"])
def test_reads_every_generated_note(style: str) -> None:
    rng = np.random.default_rng(7)
    for site in ("internal", "external"):
        for _ in range(150):
            c = sample_clinical(rng, site)
            reading = read_brain_note(make_note(c, style, rng))
            assert reading.fields == {"hemisphere": c.hemisphere, "lobe": c.lobe, "grade": c.grade}
            assert reading.canonical == brain_prompt(c.row())


def test_prompt_is_its_own_canonical_form() -> None:
    note = "right occipital, low-grade glioma"
    assert read_brain_note(note).canonical == note


@pytest.mark.parametrize(
    ("note", "fields"),
    [
        ("58M, Lt frontal GBM, biopsy-proven. For radical RT.", ("left", "frontal", "high")),
        ("Right-sided temporal lobe lesion, HGG", ("right", "temporal", "high")),
        ("WHO grade 2 astrocytoma, parietal lobe (right).", ("right", "parietal", "low")),
        ("L) occipital LGG", ("left", "occipital", "low")),
        # the other lesion's sentence, or a clause marked "not a target", is not the target
        (
            "Known stable meningioma, right parietal. Left temporal WHO grade IV glioma.",
            ("left", "temporal", "high"),
        ),
        (
            "A lesion in the right parietal region; not a target. Target: left frontal LGG.",
            ("left", "frontal", "low"),
        ),
        # a denied lesion is not another lesion
        ("Left frontal GBM, no metastatic disease.", ("left", "frontal", "high")),
        ("R temporal LGG without evidence of metastasis", ("right", "temporal", "low")),
    ],
)
def test_reads_clinician_phrasings(note: str, fields: tuple[str, str, str]) -> None:
    got = read_brain_note(note).fields
    assert (got.get("hemisphere"), got.get("lobe"), got.get("grade")) == fields


def test_missing_field_is_reported_and_the_note_kept() -> None:
    reading = read_brain_note("Left frontal glioma, for RT")
    assert reading.fields == {"hemisphere": "left", "lobe": "frontal"}
    assert reading.missing() == ["grade"]
    assert reading.canonical == "Left frontal glioma, for RT"
