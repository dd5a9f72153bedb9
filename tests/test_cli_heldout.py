"""``oncoseg heldout-notes`` refuses what it cannot measure, with the reason and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from oncoseg.cli.app import app


def _notes(tmp_path: Path) -> Path:
    fam = {
        "id": "a",
        "style": "free",
        "notes": {f"{s}_{n}": f"{s} breast, {n}" for s in ("left", "right") for n in ("N0", "N2")},
    }
    path = tmp_path / "notes.json"
    path.write_text(json.dumps({"families": [fam]}), encoding="utf-8")
    return path


def test_vision_only_model_is_refused(tiny_run: Path, breast_dataset: Path, tmp_path: Path) -> None:
    args = ["heldout-notes", "-m", str(tiny_run), "-d", str(breast_dataset)]
    res = CliRunner().invoke(app, [*args, "-n", str(_notes(tmp_path)), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "a vision-only model does not read notes" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o" / "heldout_notes.json").exists()


def test_bad_split_is_refused(tiny_run: Path, breast_dataset: Path, tmp_path: Path) -> None:
    args = ["heldout-notes", "-m", str(tiny_run), "-d", str(breast_dataset), "--split", "Va"]
    res = CliRunner().invoke(app, [*args, "-n", str(_notes(tmp_path)), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "--split: expected Tr or Ts, got 'Va'" in res.output
