"""``oncoseg deid FILE...``: the model's view of each note; bad files refused by name."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from oncoseg.cli import app


def test_prints_the_model_view_and_counts(tmp_path: Path) -> None:
    note = tmp_path / "case_001.txt"
    note.write_text(
        "Re: HOLLOWAY, Margaret  DOB 12/09/1951  MRN 4451290\n\n\n"
        "I saw Margaret today. Left breast IDC, T2N1mi, ER 8/8.\x07",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["deid", str(note)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "== case_001.txt",
        "Re: [NAME] DOB [DATE] MRN [ID]",
        "",
        "I saw [NAME] today. Left breast IDC, T2N1mi, ER 8/8.",
        "-- replaced: DATE 1, ID 1, NAME 2",
        "",
    ]


def test_refuses_bad_files_by_name(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Seen by Dr Alice Moreau.", encoding="utf-8")
    bad = {
        "latin1.txt": "Patient Jos\xe9".encode("latin-1"),
        "binary.bin": b"\x89PNG\r\n\x1a\n\x00\x00",
        "empty.txt": b"  \n",
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    paths = [str(tmp_path / n) for n in [*bad, "missing.txt"]] + [str(good)]
    result = CliRunner().invoke(app, ["deid", *paths])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 4
    for name, line in zip([*bad, "missing.txt"], errors, strict=True):
        assert name in line
    assert "Seen by [NAME]." in result.output  # the good file is still shown (title and all)
