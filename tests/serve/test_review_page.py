"""The review page in a real headless Chromium: upload, segment with an N2 note, edit the note
to N0, re-contour; the volume shown drops and the contour on the canvases changes. The
"Explain" box is unchecked at first (a plain job), ticked for the second (its job asks for
the attribution).

The model is the stand-in of conftest.py (node-positive notes add a nodal block), because
no tiny model trained in seconds reacts to the N stage reliably; what is under test is the
page and the service, not what a model learnt. Needs Debian's ``chromium`` (``.ci/run``
installs it) and the ``playwright`` package; skips with the reason when either is missing.
The screenshot goes to ``test-artefacts/review-page.png`` (or ``$ONCOSEG_TEST_ARTEFACTS``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.serve.conftest import StandInModel

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTEFACTS = Path(
    os.environ.get("ONCOSEG_TEST_ARTEFACTS", Path(__file__).resolve().parents[2] / "test-artefacts")
)
NOTE_N2 = (
    "Seen by Dr. Alice Moreau on 03/04/2023. Left breast IDC, pT2 N2, breast conserving surgery."
)

COUNT_COLOURS = """(id) => {
  const c = document.getElementById(id);
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let red = 0, yellow = 0;
  for (let o = 0; o < d.length; o += 4) {
    if (d[o] > 200 && d[o + 1] < 110 && d[o + 2] < 110) red++;
    if (d[o] > 200 && d[o + 1] > 170 && d[o + 2] < 90) yellow++;
  }
  return [red, yellow];
}"""


def _colours(page: object, view: str) -> tuple[int, int]:
    red, yellow = page.evaluate(COUNT_COLOURS, view)  # type: ignore[attr-defined]
    return int(red), int(yellow)


def test_edit_the_note_and_recontour_in_chromium(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run does)")
    url = serve(stand_in, model_info={"run": "stand-in (rule: N1-N3 add nodes)", "threshold": 0.4})
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 760})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_function("document.getElementById('model').textContent.includes('P > ')")
        assert (page.text_content("#model") or "").endswith("foreground where P > 0.4")
        page.set_input_files("#image", str(case_image))
        page.fill("#note", NOTE_N2)
        page.wait_for_function("document.getElementById('preview').textContent.includes('[NAME]')")
        assert "Moreau" not in page.text_content("#preview")  # what the model sees

        assert page.is_visible("#want-explain") and not page.is_checked("#want-explain")
        page.click("#segment")
        page.wait_for_function(
            "document.getElementById('volume').dataset.ml !== ''", timeout=60_000
        )
        first_ml = float(page.get_attribute("#volume", "data-ml") or "nan")
        first = {v: _colours(page, v) for v in ("axial", "coronal", "sagittal")}
        assert all(red > 0 and yellow == 0 for red, yellow in first.values()), first
        assert int(page.get_attribute("#slice", "max") or 0) == 31

        page.fill("#note", NOTE_N2.replace("N2", "N0"))
        page.check("#want-explain")
        page.click("#segment")
        page.wait_for_function(
            "document.getElementById('volume').dataset.previousMl !== ''", timeout=60_000
        )
        second_ml = float(page.get_attribute("#volume", "data-ml") or "nan")
        second = {v: _colours(page, v) for v in ("axial", "coronal", "sagittal")}
        volume_text = page.text_content("#volume") or ""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "review-page.png"), full_page=True)
        assert page.is_enabled("#accept")
        case_id = page.evaluate("state.caseId")
        browser.close()
    jobs = requests.get(f"{url}/api/cases/{case_id}", timeout=10).json()["jobs"]
    assert [j["explain"] for j in jobs] == [False, True]  # the box decides, per job
    assert not errors, errors
    assert second_ml < first_ml and first_ml / second_ml == pytest.approx(2.0, rel=1e-3)
    change = re.search(r"change \u2212([0-9.]+) ml", volume_text)
    assert change and float(change[1]) == pytest.approx(first_ml - second_ml, abs=0.051)
    # the old contour (yellow) now shows beside the new (red), and the red one moved
    assert all(yellow > 0 for _, yellow in second.values()), second
    assert second["coronal"][0] != first["coronal"][0], (first, second)
    assert stand_in.notes[-1].endswith("pT2 N0, breast conserving surgery.")
    assert "[NAME]" in stand_in.notes[-1] and "Moreau" not in "".join(stand_in.notes)
