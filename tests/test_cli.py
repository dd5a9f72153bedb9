from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncoseg.cli import app

runner = CliRunner()


def test_synth_check_show(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    res = runner.invoke(
        app,
        [
            "synth",
            "breast-ctv",
            str(out),
            "--cases",
            "4",
            "--test-cases",
            "1",
            "--site",
            "external",
            "--note-style",
            "narrative",
            "--size",
            "32",
            "--seed",
            "2",
        ],
    )
    assert res.exit_code == 0, res.output
    info = json.loads((out / "dataset.json").read_text())
    assert info["site"] == "external" and info["numTraining"] == 4 and info["numTest"] == 1
    res = runner.invoke(app, ["dataset", "check", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["summary"]["training_cases"] == 4
    png = tmp_path / "case.png"
    res = runner.invoke(app, ["show", str(out), "bctv_ext_0000", "-o", str(png)])
    assert res.exit_code == 0 and png.stat().st_size > 10_000


def test_check_exit_code_and_messages(tmp_path: Path, breast_dataset: Path) -> None:
    res = runner.invoke(app, ["dataset", "check", str(tmp_path)])
    assert res.exit_code == 2 and "dataset.json" in res.output
    res = runner.invoke(app, ["synth", "brain-tumor", str(breast_dataset), "--cases", "1"])
    assert res.exit_code == 2 and "not empty" in res.output
    res = runner.invoke(app, ["show", str(breast_dataset), "no_such_case"])
    assert res.exit_code == 2 and "no_such_case" in res.output


def test_brain_cli(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "synth",
            "brain-tumor",
            str(tmp_path / "b"),
            "--cases",
            "2",
            "--size",
            "32",
            "--note-style",
            "prompt",
        ],
    )
    assert res.exit_code == 0, res.output
    note = (tmp_path / "b" / "notesTr" / "brain_int_0000.txt").read_text()
    assert "glioma" in note and ("left" in note or "right" in note)


def test_200_breast_cases_at_64_under_two_minutes(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    res = runner.invoke(app, ["synth", "breast-ctv", str(tmp_path / "big"), "--cases", "200"])
    elapsed = time.perf_counter() - t0
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "big" / "labelsTr").iterdir())) == 200
    assert elapsed < 120, f"{elapsed:.1f} s"


@pytest.mark.parametrize("size", [128])
def test_larger_sizes_work(tmp_path: Path, size: int) -> None:
    res = runner.invoke(
        app, ["synth", "breast-ctv", str(tmp_path / "l"), "--cases", "1", "--size", str(size)]
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["dataset", "check", str(tmp_path / "l"), "--json"])
    assert res.exit_code == 0


def test_demo_epochs_default_to_the_demo_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oncoseg.experiments import demo

    seen: list[dict[str, object]] = []
    monkeypatch.setattr(demo, "run_demo", lambda out, **kw: seen.append(kw) or out / "r.md")
    assert runner.invoke(app, ["demo", "-o", str(tmp_path)]).exit_code == 0
    assert runner.invoke(app, ["demo", "-o", str(tmp_path), "--note-epochs", "5"]).exit_code == 0
    assert seen[0]["epochs"] == demo.DEMO_EPOCHS == 16
    assert seen[0]["note_epochs"] == demo.DEMO_NOTE_EPOCHS == 28
    assert seen[1]["epochs"] == 16 and seen[1]["note_epochs"] == 5


class _LeftSidedPredictor:
    """Stands in for a trained run: contours the patient's left half (low RAS x)."""

    uses_text = True

    class plan:  # noqa: N801 - the attribute the CLI reads, as Predictor.plan
        labels = {"background": 0, "ctv": 1}

    def predict(self, images: list, note: str = "", note_source: str = "") -> object:  # type: ignore[type-arg]
        import numpy as np

        from oncoseg.io.image import Image

        mask = np.zeros(images[0].array.shape, np.uint8)
        mask[:3, 2:6, 2:6] = 1
        return Image(mask, images[0].affine)


@pytest.mark.parametrize(("note", "warns"), [("N2, left side", False), ("N2, right side", True)])
def test_predict_warns_when_the_contour_is_on_the_other_side(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, note: str, warns: bool
) -> None:
    import numpy as np

    from oncoseg.infer import predictor as inference
    from oncoseg.io.image import Image, save_image

    monkeypatch.setattr(
        inference.Predictor, "from_run", classmethod(lambda cls, *a, **k: _LeftSidedPredictor())
    )
    body = np.full((12, 8, 8), 100.0, np.float32)
    save_image(Image(body, np.eye(4)), tmp_path / "ct_0000.nii.gz")
    (tmp_path / "note.txt").write_text(note, encoding="utf-8")
    res = runner.invoke(
        app,
        ["predict", "-m", str(tmp_path), "-i", str(tmp_path / "ct_0000.nii.gz")]
        + ["-n", str(tmp_path / "note.txt"), "-o", str(tmp_path / "out")],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "ct.nii.gz").exists()
    assert ("names the right side" in res.output) is warns
    assert ("warning" in res.output) is warns
