"""Notes from DICOM SR: test SRs written by highdicom (a writer we did not write) on a CT
series, read back, de-identified and stored so the study's accession number finds them."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from oncoseg.pacs.notes_store import NoteStore
from oncoseg.pacs.sr_note import read_sr_note, store_sr_note
from tests.io.conftest import SeriesSpec, write_series

hd = pytest.importorskip("highdicom")

SPEC = SeriesSpec(patient_name="HOLLOWAY^Margaret", patient_id="7731946", accession="ACC9")
LINES = ("Margaret Holloway, MRN 7731946: left breast IDC.", "Mastectomy; N2 on axillary US.")


def _sr(tmp_path: Path, lines: tuple[str, ...] = LINES) -> Path:
    ct_dir = write_series(tmp_path / "ct", SPEC)
    ct = pydicom.dcmread(next(ct_dir.iterdir()))
    code = hd.sr.CodedConcept
    root = hd.sr.ContainerContentItem(name=code("18748-4", "LN", "Diagnostic imaging report"))
    findings = hd.sr.ContainerContentItem(
        name=code("121070", "DCM", "Findings"), relationship_type="CONTAINS"
    )
    findings.ContentSequence = [  # nested one level below the root, as reports do
        hd.sr.TextContentItem(
            name=code("121071", "DCM", "Finding"), value=line, relationship_type="CONTAINS"
        )
        for line in lines
    ]
    root.ContentSequence = [findings]
    sr = hd.sr.ComprehensiveSR(
        evidence=[ct],
        content=root,
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="test",
    )
    path = tmp_path / "sr.dcm"
    sr.save_as(path)
    return path


def test_comprehensive_sr_note_is_read_deidentified_and_stored(tmp_path: Path) -> None:
    path = _sr(tmp_path)
    note = read_sr_note(pydicom.dcmread(path))
    assert note.text.splitlines() == list(LINES)
    assert (note.mrn, note.accession, note.date) == ("7731946", "ACC9", "20240101")
    store = NoteStore(tmp_path / "store")
    record = store_sr_note(store, path)
    found = store.find(accession="ACC9")
    assert found == record and found.source == "sr"
    assert found.text == "[NAME] [NAME], MRN [ID]: left breast IDC.\nMastectomy; N2 on axillary US."
    for f in (tmp_path / "store").rglob("*"):
        if f.is_file():
            data = f.read_text().lower()
            assert "holloway" not in data and "margaret" not in data and "7731946" not in data
            assert "acc9" not in data


def test_basic_text_sr_and_refusals(tmp_path: Path) -> None:
    ds = pydicom.dcmread(_sr(tmp_path))
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # the same text tree as Basic Text SR
    assert read_sr_note(ds).text.splitlines() == list(LINES)
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    with pytest.raises(ValueError, match=r"report\.dcm: SOP class 1\.2\.840.*is not a text SR"):
        read_sr_note(ds, "report.dcm")
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.33"
    ds.ContentSequence[0].ContentSequence = []
    with pytest.raises(ValueError, match="no TEXT content item"):
        read_sr_note(ds)
