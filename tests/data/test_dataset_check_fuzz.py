"""Property tests of the dataset checker on randomly broken tiny datasets: it never raises,
and it names every problem planted, with its file."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.io.bad_inputs import IMAGE_BREAKERS, NOTE_BREAKERS

from oncoseg.data.dataset import (
    DatasetCase,
    DatasetInfo,
    image_path,
    label_path,
    note_path,
    write_case,
    write_info,
)
from oncoseg.data.dataset_check import CheckReport, check_dataset
from oncoseg.io.image import Image, load_image, save_image

CASES = ["c0", "c1", "c2"]
# ``copies`` hands out a fresh dataset per call, so sharing it across examples is safe
FUZZ = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three 16^3 cases, one channel, labels 0/1, a note each, one split."""
    root = tmp_path_factory.mktemp("fuzz") / "ds"
    rng = np.random.default_rng(0)
    affine = np.diag([1.5, 1.5, 2.0, 1.0])
    for case in CASES:
        label = np.zeros((16, 16, 16), np.uint8)
        label[4:10, 5:11, 6:12] = 1
        image = rng.normal(0, 50, label.shape).astype(np.float32)
        note = f"Case {case}: left breast, N1, breast conserving surgery."
        write_case(root, DatasetCase(case, [Image(image, affine)], Image(label, affine), note))
    info = DatasetInfo({"0": "CT"}, {"background": 0, "ctv": 1}, num_training=len(CASES))
    write_info(root, info)
    (root / "splits.json").write_text(json.dumps([{"train": CASES[:2], "val": CASES[2:]}]))
    assert check_dataset(root).ok
    return root


@pytest.fixture
def copies(tiny_dataset: Path) -> Iterator[Callable[[], Path]]:
    """Fresh copies of the tiny dataset, one per hypothesis example."""
    with tempfile.TemporaryDirectory() as tmp:
        count = iter(range(10_000))

        def copy() -> Path:
            dst = Path(tmp) / f"ds{next(count)}"
            shutil.copytree(tiny_dataset, dst)
            return dst

        yield copy


def _relabel(change: Callable[[Image], Image]) -> Callable[[Path], None]:
    def breaker(p: Path) -> None:
        save_image(change(load_image(p)), p)

    return breaker


def _rescaled(img: Image) -> Image:
    return Image(img.array, img.affine @ np.diag([1.0, 1.0, 1.25, 1.0]))


def _cropped(img: Image) -> Image:
    return Image(np.ascontiguousarray(img.array[:, :, :-3]), img.affine)


def _out_of_range(img: Image) -> Image:
    arr = img.array.copy()
    arr[0, 0, 0] = 5
    return Image(arr, img.affine)


Breakers = dict[str, tuple[Callable[[Path], None], str]]  # name -> (breaker, words expected)
LABEL_BREAKERS: Breakers = {
    "missing": (lambda p: p.unlink(), "label missing"),
    "spacing": (_relabel(_rescaled), "does not match the image"),
    "shape": (_relabel(_cropped), "does not match the image"),
    "values": (_relabel(_out_of_range), "[5]"),
    "nan": (IMAGE_BREAKERS["nan"][0], "not finite"),
}
KINDS: dict[
    str, tuple[Callable[[Path, str], Path], dict[str, tuple[Callable[[Path], None], str]]]
] = {
    "image": (lambda root, case: image_path(root, case, 0), IMAGE_BREAKERS),
    "label": (label_path, LABEL_BREAKERS),
    "note": (note_path, NOTE_BREAKERS),
}
BREAKS = st.sampled_from([(kind, name) for kind, (_, table) in KINDS.items() for name in table])


def _no_exception(root: Path) -> CheckReport:
    report = check_dataset(root)  # any exception fails the property
    for p in report.problems:
        assert "\n" not in str(p) and p.path and p.message, str(p)
    return report


@FUZZ
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(CASES), BREAKS), min_size=1, max_size=3, unique_by=lambda t: t[0]
    )
)
def test_every_broken_file_is_named(copies: Callable[[], Path], plan: list[Any]) -> None:
    root = copies()
    expected = []
    for case, (kind, name) in plan:
        where, table = KINDS[kind]
        path = where(root, case)
        breaker, words = table[name]
        breaker(path)
        expected.append((str(path.relative_to(root)), words))
    report = _no_exception(root)
    for rel, words in expected:
        hits = [p for p in report.problems if p.path == rel and words in p.message]
        assert hits, (rel, words, [str(p) for p in report.problems])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6) | st.floats(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
KEYS = ["channel_names", "labels", "numTraining", "file_ending", "task", "notes_dir"]


@FUZZ
@given(key=st.sampled_from(KEYS), value=JSON, delete=st.booleans())
def test_a_broken_dataset_json_key_is_named(
    copies: Callable[[], Path], key: str, value: Any, delete: bool
) -> None:
    root = copies()
    info = json.loads((root / "dataset.json").read_text())
    if delete:
        del info[key]
    else:
        info[key] = value
    (root / "dataset.json").write_text(json.dumps(info))
    report = _no_exception(root)
    required = key in ("channel_names", "labels", "numTraining", "file_ending")
    if delete and required:
        assert [p.path for p in report.problems] == ["dataset.json"]
        assert key in report.problems[0].message


@FUZZ
@given(content=JSON | st.binary(max_size=20).map(lambda b: b.hex()))
def test_any_splits_json_or_dataset_json_content(copies: Callable[[], Path], content: Any) -> None:
    root = copies()
    (root / "splits.json").write_text(json.dumps(content))
    report = _no_exception(root)
    good = isinstance(content, list) and all(
        isinstance(f, dict) and set(f) >= {"train", "val"} for f in content
    )
    if not good:
        assert any(p.path == "splits.json" for p in report.problems)
    (root / "dataset.json").write_text(json.dumps(content))
    report = _no_exception(root)
    assert any(p.path == "dataset.json" for p in report.problems)
