"""OpenKBP per-target results: where prescribed, where not, and the paired mean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oncoseg.tasks import task_report
from oncoseg.tasks.openkbp.breakdown import prescription_breakdown


def _row(case: str, cls: str, dice: float, vol: float, true: float) -> dict[str, Any]:
    return {
        "case": case,
        "class": cls,
        "dice": dice,
        "hd95": 5.0,
        "volume_ml": vol,
        "volume_true_ml": true,
        "volume_error_ml": vol - true,
    }


def test_targets_by_prescription_and_the_paired_mean(tmp_path: Path) -> None:
    (tmp_path / "clinical.csv").write_text(
        "case,PTV70,PTV63,PTV56\n"
        + "".join(f"p{i},yes,{'yes' if i < 2 else 'no'},yes\n" for i in range(6)),
        encoding="utf-8",
    )
    rows: dict[str, Any] = {"vision": {"internal": []}, "multimodal": {"internal": []}}
    for i in range(6):
        c = f"p{i}"
        has63 = i < 2
        # vision: draws a PTV63 everywhere (0.5 ml where not prescribed: under 1 cm^3 only in p2)
        rows["vision"]["internal"] += [
            _row(c, "PTV70", 0.6, 100, 100),
            _row(c, "PTV63", 0.4 if has63 else 0.0, 10 if has63 or i != 2 else 0.5, 10 * has63),
            _row(c, "PTV56", 0.5, 90, 100),
        ]
        rows["multimodal"]["internal"] += [
            _row(c, "PTV70", 0.7 + 0.01 * i, 100, 100),
            _row(c, "PTV63", 0.5 if has63 else 1.0, 10 if has63 else 0.0, 10 * has63),
            _row(c, "PTV56", 0.6, 110, 100),
        ]
    doc = prescription_breakdown(rows, tmp_path)
    v, m = doc["models"]["vision"]["targets"], doc["models"]["multimodal"]["targets"]
    assert v["PTV63"]["prescribed"]["n"] == 2 and v["PTV63"]["not_prescribed"]["n"] == 4
    assert v["PTV63"]["not_prescribed"]["drawn_under_1cc"] == pytest.approx(0.25)
    assert m["PTV63"]["not_prescribed"]["drawn_under_1cc"] == 1.0
    assert v["PTV70"]["not_prescribed"] == {"n": 0, "drawn_under_1cc": None}
    assert m["PTV56"]["prescribed"]["volume_error_ml"]["mean"] == pytest.approx(10.0)
    assert m["PTV63"]["prescribed"]["dice"]["mean"] == pytest.approx(0.5)  # prescribed only
    # each patient's mean over their own prescribed targets: p0 (3 targets), p2 (2)
    mean_m = doc["models"]["multimodal"]["mean_prescribed_dice"]
    expected = [(0.7 + 0.5 + 0.6) / 3, (0.71 + 0.5 + 0.6) / 3] + [
        (0.7 + 0.01 * i + 0.6) / 2 for i in range(2, 6)
    ]
    assert mean_m["n"] == 6 and mean_m["mean"] == pytest.approx(sum(expected) / 6)
    paired = doc["paired_vs_vision"]["multimodal"]
    assert paired["mean_prescribed_dice"]["n"] == 6
    assert paired["mean_prescribed_dice"]["mean_diff"] > 0.09
    assert paired["PTV63"]["n"] == 2  # paired only where prescribed
    sections = task_report({"dataset": "openkbp", "by_prescription": doc}, Path("f")).sections
    titles = [s.title for s in sections]
    assert titles[0] == "Targets where prescribed (internal test patients)"
    absent_rows = {(r[0], r[1]): r[3] for r in sections[1].rows}
    assert absent_rows[("vision", "PTV63")] == "25%" and ("vision", "PTV70") not in absent_rows
    # where prescribed, each target's paired difference with its CI: PTV56 is +0.1 in every
    # patient (a CI of one point), vision-only has no difference column
    prescribed_rows = {(r[0], r[1]): r for r in sections[0].rows}
    assert prescribed_rows[("multimodal", "PTV56")][6] == "+0.100 [+0.100, +0.100]"
    assert prescribed_rows[("vision", "PTV56")][6] == ""
    mean_row = {r[0]: r for r in sections[2].rows}["multimodal"]
    assert mean_row[2].startswith("+0.1") and mean_row[2].count("[") == 1
