"""The clause attribution is opt-in per job: ``{"explain": true}`` on a segment request.

It costs about 2.8 predictions, so a plain job only contours. The fast tests use the
stand-in model and record what the runner asks the pipeline for; the slow one runs a tiny
note-guided model end to end (result, files, the page's clause bitmask).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.serve.conftest import StandInModel
from tests.serve.test_api import upload, wait_job

NOTE = "N2, breast conserving surgery, left side"


def _segment(url: str, case_id: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{url}/api/cases/{case_id}/segment", json=body, timeout=10)


def test_explain_is_off_unless_the_request_asks(
    serve: Callable[..., str],
    stand_in: StandInModel,
    case_image: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import oncoseg.serve.runner as runner

    asked: list[str | None] = []
    real = runner.run_prediction

    def spy(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs.get("explain"))
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "run_prediction", spy)
    url = serve(stand_in)
    case_id = upload(url, case_image, note=NOTE).json()["case_id"]
    jobs = []
    for body in ({}, {"explain": False}, {"explain": None}, {"explain": True, "note": "N0"}):
        res = _segment(url, case_id, body)
        assert res.status_code == 202, res.text
        jobs.append(wait_job(url, res.json()["job_id"]))
    assert [j["status"] for j in jobs] == ["done"] * 4
    assert [j["explain"] for j in jobs] == [False, False, False, True]
    assert asked == [None, None, None, "auto"]
    # the stand-in is no Predictor: nothing is attributed, and no explain file is listed
    assert all(j["result"]["explain"] is None for j in jobs)
    assert all(set(j["result"]["files"]) == {"mask.nii.gz"} for j in jobs)
    listed = requests.get(f"{url}/api/cases/{case_id}", timeout=10).json()["jobs"]
    assert [j["explain"] for j in listed] == [False, False, False, True]  # kept on disk


def test_a_bad_explain_flag_is_a_422_naming_the_field(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path
) -> None:
    url = serve(stand_in)
    case_id = upload(url, case_image, note=NOTE).json()["case_id"]
    for value in ("yes", 1, [True]):
        res = _segment(url, case_id, {"explain": value})
        assert res.status_code == 422, res.text
        assert res.json()["field"] == "explain" and "true or false" in res.json()["detail"]
    assert stand_in.notes == []  # no job ran


class _ImageOnly(StandInModel):
    uses_text = False


def test_explain_refused_for_a_model_that_does_not_read_the_note(
    serve: Callable[..., str], case_image: Path
) -> None:
    model = _ImageOnly()
    url = serve(model)
    case_id = upload(url, case_image, note="").json()["case_id"]
    res = _segment(url, case_id, {"explain": True})
    assert res.status_code == 422 and res.json()["field"] == "explain", res.text
    assert "does not read the note" in res.json()["detail"]
    assert _segment(url, case_id, {"explain": False}).status_code == 202


def test_job_records_written_before_the_flag_load_as_not_explained(tmp_path: Path) -> None:
    import json

    from oncoseg.serve.store import Store, new_id

    store = Store(tmp_path)
    job_id = new_id()
    old = {"job_id": job_id, "case_id": new_id(), "note": "N0", "status": "done"}
    (store.jobs_dir / f"{job_id}.json").write_text(json.dumps(old))
    job = store.job(job_id)
    assert job is not None and job.explain is False and job.status == "done"


@pytest.mark.slow
def test_a_trained_model_explains_only_when_asked(
    guided_run: Path, case_image: Path, tmp_path: Path
) -> None:
    from oncoseg.serve.server import BackgroundServer, app_for_run

    with BackgroundServer(app_for_run(guided_run, tmp_path / "data")) as server:
        url = server.url
        case_id = upload(url, case_image, note=NOTE).json()["case_id"]
        plain = wait_job(url, _segment(url, case_id, {}).json()["job_id"], timeout=300)
        asked = wait_job(url, _segment(url, case_id, {"explain": True}).json()["job_id"], 300)
        base = f"{url}/api/cases/{case_id}/results"
        missing = requests.get(f"{base}/{plain['job_id']}/explain_view.json", timeout=10)
        view = requests.get(f"{base}/{asked['job_id']}/explain_view.json", timeout=10)
    assert plain["status"] == asked["status"] == "done", (plain, asked)
    assert plain["result"]["explain"] is None and set(plain["result"]["files"]) == {"mask.nii.gz"}
    assert missing.status_code == 404
    ex = asked["result"]["explain"]
    assert [c["text"] for c in ex["clauses"]] == NOTE.split(", ")
    assert set(asked["result"]["files"]) == {"mask.nii.gz", "explain.json", "explain.nii.gz"}
    assert view.status_code == 200 and set(view.json()) >= {"shape", "spacing", "data"}
    # the same contour either way: the attribution does not change the prediction
    assert asked["result"]["volume_ml"] == plain["result"]["volume_ml"]
