"""Importing a library with optional dependencies hidden: the predict path never loads them,
and they import normally afterwards."""

from __future__ import annotations

import subprocess
import sys

import pytest

from oncoseg.hidden_import import import_hiding


def _fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    return done.stdout.strip()


def test_predict_path_skips_the_hidden_libraries_which_import_afterwards() -> None:
    out = _fresh(
        "import sys, oncoseg.infer.pipeline\n"
        "mods = ('pydicom', 'transformers', 'matplotlib', 'pandas', 'skimage')\n"
        "print(sorted(m for m in mods if m in sys.modules))\n"
        "import pydicom, requests\n"
        "from oncoseg.io.dicom_seg import write_dicom_seg\n"
        "print(pydicom.Dataset.__name__, 'nibabel' in sys.modules, 'monai' in sys.modules)"
    )
    assert out.splitlines() == ["[]", "Dataset True True"]


def test_modules_without_images_do_not_import_nibabel() -> None:
    out = _fresh(
        "import sys, oncoseg.io.atomic, oncoseg.text.note_memo; print('nibabel' in sys.modules)"
    )
    assert out == "False"


def test_a_library_imported_first_is_not_hidden() -> None:
    # pydicom imported before oncoseg: nibabel binds it as usual (its DICOM extension works)
    out = _fresh("import pydicom, oncoseg.io.image, nibabel.nifti1 as n; print(n.have_dicom)")
    assert out == "True"


def test_hidden_names_are_restored_when_the_import_fails() -> None:
    with pytest.raises(ModuleNotFoundError):
        import_hiding("oncoseg_no_such_module", ("oncoseg_also_missing", "json"))
    assert "oncoseg_also_missing" not in sys.modules  # no None left behind
    assert sys.modules["json"] is not None  # already imported: untouched
    import_hiding("json", ("anything",))  # already imported: nothing to do
    assert "anything" not in sys.modules
