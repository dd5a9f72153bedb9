"""The experiment report renders the task's sections as given, between the paired tests and
the data-efficiency table, in Markdown and HTML."""

from __future__ import annotations

from typing import Any

from oncoseg.eval.report import html_report, markdown, tables
from oncoseg.eval.sections import Section, fmt, shares_section, table

STAT = {"mean": 0.8, "ci_low": 0.7, "ci_high": 0.9, "n_undefined": 0}


def _doc(**extra: Any) -> dict[str, Any]:
    site = {"n": 2, "dice": STAT, "iou": STAT, "hd95": {**STAT, "mean": 5.0}}
    return {
        "experiment": "compare",
        "dataset": "some_task",
        "command": "oncoseg experiment compare",
        "commit": "abc",
        "created_utc": "2026-01-01T00:00:00Z",
        "data_hash": {"internal": "h1"},
        "models": {"vision": {"internal": site}, "multimodal": {"internal": site}},
        "comparisons": [],
        **extra,
    }


def test_task_sections_come_after_the_paired_tests_unchanged() -> None:
    mine = Section("Task table", ("model", "x"), (("vision", "1"), ("multimodal", "<2>")), "Why.")
    titles = [s.title for s in tables(_doc(), [mine])]
    assert titles == [
        "Test cases: mean [bootstrap 95% CI]",
        "Paired tests (a vs b, same cases)",
    ] + ["Task table"]
    md = markdown(_doc(), [mine])
    assert md.endswith(
        "## Task table\n\nWhy.\n\n| model | x |\n|---|---|\n| vision | 1 |\n| multimodal | <2> |\n"
    )
    assert "| vision | internal | 2 | 0.800 [0.700, 0.900] |" in md
    page = html_report(_doc(), [], [mine])
    assert "<h2>Task table</h2><p>Why.</p><table><tr>" in page
    assert "<td>&lt;2&gt;</td>" in page  # escaped
    # without the task's sections its keys are not read, whatever the results hold
    plain = markdown(_doc(counterfactual={"m": {"nodal_follows_note": 1.0}}))
    assert "Task table" not in plain and "ounterfactual" not in plain


def test_data_efficiency_table_stays_last() -> None:
    site = {"n": 2, "dice": STAT, "iou": STAT, "hd95": STAT}
    models = {f"{m}@{p}": {"internal": site} for m in ("vision", "multimodal") for p in ("50%",)}
    doc = _doc(fractions=[0.5])
    doc["models"] = models
    out = tables(doc, [table("Task", ["a"], [["b"]])])
    assert [s.title for s in out][-2:] == ["Task", "Dice by share of training cases"]
    assert out[-1].rows == (("50%", "internal", fmt(STAT), fmt(STAT)),)


def test_shares_section_and_fmt() -> None:
    s = shares_section(
        {"a": {"shares": {"x (n=4)": 0.25, "y": 1.0}}, "b": {"shares": {"x (n=4)": 0.5, "y": 0.0}}},
        "T",
    )
    assert s.header == ("model", "x (n=4)", "y")
    assert s.rows == (("a", "25%", "100%"), ("b", "50%", "0%"))
    assert fmt({"mean": 1.23456, "ci_low": 1.0, "ci_high": 2.0, "n_undefined": 3}, 2) == (
        "1.23 [1.00, 2.00] (3 undef.)"
    )
    assert fmt(None) == "n/a" and fmt({"mean": float("nan")}) == "n/a"
    assert "<table>" not in Section("only text", text="t").html()
