"""brain_tumor note variants: a second focus's case also trains with the note naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oncoseg.data.dataset import list_cases, read_clinical_csv
from oncoseg.data.loader import load_samples
from oncoseg.data.phantom_cohort import write_cohort
from oncoseg.infer.config import ConfigError
from oncoseg.tasks import brain_tumor
from oncoseg.tasks.brain_tumor.reader import read_brain_note
from oncoseg.tasks.brain_tumor.variants import add_brain_variants


@pytest.fixture(scope="module")
def focus_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "brain-focus"
    return write_cohort(
        out, brain_tumor.cohort_spec(), cases=10, test_cases=0, size=32, seed=3, style="narrative"
    )


def test_second_focus_cases_get_the_note_naming_the_other_lesion(focus_dataset: Path) -> None:
    rows = read_clinical_csv(focus_dataset)
    ids = list_cases(focus_dataset, "Tr")
    samples = load_samples(focus_dataset, ids, regions=True)
    add_brain_variants(focus_dataset, samples)
    with_focus = [s for s in samples if rows[s.case_id]["nontarget"] == "second_focus"]
    assert with_focus, "the fixture's seed should give a case with a second focus"
    for s in samples:
        row = rows[s.case_id]
        if row["nontarget"] != "second_focus":
            assert s.variants == []
            continue
        [(note, label)] = s.variants
        assert s.regions is not None and s.label is not None
        assert label.shape == s.label.shape and label.sum() > 0
        assert np.array_equal(label[0] > 0, s.regions == 2)
        assert not (label[0].astype(bool) & (s.label[0] > 0)).any()
        read = read_brain_note(note).fields  # the note names the focus, not the target
        assert (read["hemisphere"], read["lobe"]) == (
            row["nontarget_hemisphere"],
            row["nontarget_lobe"],
        )
        assert read["grade"] == row["grade"]


def test_only_note_swap_and_only_brain_datasets(focus_dataset: Path, breast_dataset: Path) -> None:
    samples = load_samples(focus_dataset, list_cases(focus_dataset, "Tr")[:1], regions=True)
    with pytest.raises(ConfigError, match="brain_tumor has no surgery note variants"):
        add_brain_variants(focus_dataset, samples, surgery=True)
    add_brain_variants(focus_dataset, samples, side=True)  # note_voxel_weight asks for it
    assert all(s.side_variants == [] for s in samples)
    with pytest.raises(ConfigError, match="need a brain_tumor phantom"):
        add_brain_variants(breast_dataset, samples)
