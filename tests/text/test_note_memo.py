"""The de-identification memo: a note seen before is not de-identified (or even imported) again,
and nothing in the memo folder holds the note."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oncoseg.text import note_memo
from oncoseg.text.deid import deidentify
from oncoseg.text.encoders import prepare_note

NOTE = "Seen by Dr Albertine Quennell on 03/04/2026, MRN 84412379. N2, mastectomy, left side."


@pytest.fixture
def memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "memo"
    monkeypatch.setenv(note_memo.ENV, str(folder))
    note_memo._mem.clear()
    return folder


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def test_prepare_note_is_remembered_without_the_note(memo: Path) -> None:
    first = prepare_note(NOTE)
    assert first == deidentify(NOTE).text
    assert "Quennell" not in first and "84412379" not in first
    entries = list(memo.glob("*.txt"))
    assert len(entries) == 1 and entries[0].read_text() == first
    stored = _all_bytes(memo)
    for secret in (b"Albertine", b"Quennell", b"84412379", b"03/04/2026"):
        assert secret not in stored
    assert stat.S_IMODE((memo / "secret").stat().st_mode) == 0o600
    assert stat.S_IMODE(memo.stat().st_mode) == 0o700  # a private folder
    assert stat.S_IMODE(entries[0].stat().st_mode) == 0o600
    note_memo._mem.clear()  # a new process: read from disk
    assert note_memo.lookup(NOTE) == first
    assert prepare_note(NOTE) == first
    assert len(list(memo.glob("*.txt"))) == 1


def test_other_note_other_secret_or_other_deidentifier_miss(
    memo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note_memo.remember("note A", "A")
    assert note_memo.lookup("note A") == "A"
    assert note_memo.lookup("note B") is None
    name = next(memo.glob("*.txt")).name
    # a changed de-identifier (its files' hash) reads no old entry
    note_memo._mem.clear()
    monkeypatch.setattr(note_memo, "deid_fingerprint", lambda: "another de-identifier")
    assert note_memo.lookup("note A") is None
    # another folder has another secret: the same note has another entry name
    other = tmp_path / "other"
    monkeypatch.setenv(note_memo.ENV, str(other))
    note_memo.remember("note A", "A")
    assert next(other.glob("*.txt")).name != name
    assert (other / "secret").read_bytes() != (memo / "secret").read_bytes()


def test_off_and_read_only_are_not_errors(memo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(note_memo.ENV, "off")
    note_memo.remember("x", "y")
    assert note_memo.lookup("x") is None
    assert prepare_note(NOTE) == deidentify(NOTE).text
    blocked = memo.parent / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(note_memo.ENV, str(blocked / "memo"))
    note_memo._mem.clear()
    assert prepare_note(NOTE) == deidentify(NOTE).text  # cannot write: de-identified anyway


def test_sweep_removes_entries_unused_for_the_set_days(memo: Path) -> None:
    note_memo.remember("old", "O")
    note_memo.remember("new", "N")
    old = [p for p in memo.glob("*.txt") if p.read_text() == "O"][0]
    week = time.time() - 7 * 86400
    os.utime(old, (week, week))
    other = memo / "notes.txt"  # not an entry: never removed, however old
    other.write_text("a user's file")
    os.utime(other, (week, week))
    assert note_memo.sweep(memo, max_days=30) == 0
    assert note_memo.sweep(memo, max_days=5) == 1
    assert not old.exists() and other.exists() and len(list(memo.glob("*.txt"))) == 2


def test_a_new_process_skips_the_deidentifier_for_a_known_note(memo: Path) -> None:
    code = (
        "import sys; from oncoseg.text.encoders import prepare_note; "
        f"print(prepare_note({NOTE!r})); print('oncoseg.text.deid' in sys.modules)"
    )
    env = {**os.environ, note_memo.ENV: str(memo)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        for _ in range(2)
    ]
    assert runs[0][0] == runs[1][0] == deidentify(NOTE).text
    assert runs[0][1] == "True"  # new note: de-identified
    assert runs[1][1] == "False"  # known note: the de-identifier is never imported
