"""The review service's HTTP contract, status code by status code, on a real loopback server.

Most tests use the stand-in model of conftest.py (the service is under test, not the
network); ``test_results_equal_a_direct_predictor_call`` runs a real tiny trained run.
"""

from __future__ import annotations

import io
import select
import socket
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import requests

from oncoseg.io.image import Image, load_image
from tests.serve.conftest import StandInModel

NOTE = "Seen by Dr. Alice Moreau on 03/04/2023, MRN 4451290. Left breast IDC, pT2 N2, BCS."
HEX32 = "0123456789abcdef" * 2


def upload(url: str, image: Path | bytes, note: str = NOTE, **kw: object) -> requests.Response:
    data = image.read_bytes() if isinstance(image, Path) else image
    files = [("image", ("ct.nii.gz", data, "application/gzip"))]
    return requests.post(f"{url}/api/cases", files=files, data={"note": note}, timeout=30, **kw)  # type: ignore[arg-type]


def wait_job(url: str, job_id: str, timeout: float = 60, **kw: object) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{url}/api/jobs/{job_id}", timeout=10, **kw).json()  # type: ignore[arg-type]
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise TimeoutError(job_id)


def segment(url: str, case_id: str, note: str | None = None) -> dict:  # type: ignore[type-arg]
    body = {} if note is None else {"note": note}
    res = requests.post(f"{url}/api/cases/{case_id}/segment", json=body, timeout=10)
    assert res.status_code == 202, res.text
    return wait_job(url, res.json()["job_id"])


def stored_files(data: Path) -> list[Path]:
    return [p for p in data.rglob("*") if p.is_file()]


def test_health_page_and_a_case_end_to_end(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path, tmp_path: Path
) -> None:
    url = serve(stand_in, model_info={"run": "stand-in"})
    health = requests.get(f"{url}/healthz", timeout=10).json()
    assert health == {
        "status": "ok",
        "model": {"run": "stand-in", "uses_text": True},
        "queue": {"waiting": 0, "max": 16},
        "max_upload_bytes": 512 * 2**20,
    }
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for element in ("image", "note", "segment", "volume", "slice", "accept"):
        assert f'id="{element}"' in page.text
    assert requests.get(f"{url}/static/review.js", timeout=10).status_code == 200

    res = upload(url, case_image)
    assert res.status_code == 201, res.text
    case = res.json()
    assert len(case["case_id"]) == 32 and case["kind"] == "nifti" and case["channels"] == 1
    assert case["note"] == "Seen by [NAME] on [DATE], MRN [ID]. Left breast IDC, pT2 N2, BCS."
    job = segment(url, case["case_id"])  # no note in the body: the case's (de-identified) one
    assert job["status"] == "done", job
    assert stand_in.notes == [case["note"]]  # the model got the de-identified note

    img = load_image(case_image)
    expected = stand_in.predict([img], "N2").array
    voxel_ml = abs(np.linalg.det(img.affine[:3, :3])) / 1000
    assert job["result"]["volume_ml"] == pytest.approx(expected.sum() * voxel_ml, abs=1e-3)
    assert job["result"]["voxels"] == int(expected.sum()) > 0
    assert set(job["result"]["files"]) == {"mask.nii.gz"}
    got = requests.get(url + job["result"]["files"]["mask.nii.gz"], timeout=10)
    assert got.status_code == 200
    (tmp_path / "mask.nii.gz").write_bytes(got.content)
    mask = load_image(tmp_path / "mask.nii.gz")
    assert np.array_equal(mask.array, expected) and np.allclose(mask.affine, img.affine)

    view = requests.get(f"{url}/api/cases/{case['case_id']}/view", timeout=10).json()
    mview = requests.get(f"{url}/api/jobs/{job['job_id']}/view", timeout=10).json()
    assert view["shape"] == mview["shape"] == [32, 32, 32]
    assert len(view["data"]) == len(mview["data"]) == 4 * -(-(32**3) // 3)  # base64 of 32³ B
    listed = requests.get(f"{url}/api/cases", timeout=10).json()
    assert [c["case_id"] for c in listed] == [case["case_id"]]
    detail = requests.get(f"{url}/api/cases/{case['case_id']}", timeout=10).json()
    assert [j["job_id"] for j in detail["jobs"]] == [job["job_id"]]
    preview = requests.post(f"{url}/api/deid", json={"note": NOTE}, timeout=10).json()
    assert preview == {"text": case["note"]}

    data = tmp_path / "data"  # neither the name, the date nor the record number is stored
    for path in stored_files(data):
        content = path.read_bytes()
        assert b"Moreau" not in content and b"4451290" not in content, path


def test_422_names_the_field_and_stores_nothing(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path, tmp_path: Path
) -> None:
    url = serve(stand_in)
    cases = [
        (upload(url, b"not an image at all"), "image[0]", "not a readable NIfTI"),
        (upload(url, case_image, note="   "), "note", "empty"),
        (upload(url, b"PK\x03\x04garbage"), "image", "not a readable zip"),
    ]
    two = [("image", ("a.nii.gz", case_image.read_bytes())), ("image", ("b.nii.gz", b"x"))]
    res = requests.post(f"{url}/api/cases", files=two, data={"note": "N0"}, timeout=30)
    cases.append((res, "image[1]", "not a readable NIfTI"))
    res = requests.post(f"{url}/api/cases", files={"note": (None, "N0")}, timeout=30)
    cases.append((res, "image", "missing"))
    res = requests.post(
        f"{url}/api/cases",
        files={"image": ("ct.nii.gz", case_image.read_bytes()), "note": ("n.txt", b"\xff\xfe")},
        timeout=30,
    )
    cases.append((res, "note", "not UTF-8"))
    for res, field, words in cases:
        assert res.status_code == 422, res.text
        assert res.json()["field"] == field and words in res.json()["detail"], res.json()
    assert not [p for p in (tmp_path / "data" / "cases").iterdir()]  # nothing half-stored

    case_id = upload(url, case_image).json()["case_id"]
    seg = f"{url}/api/cases/{case_id}/segment"
    bad = [
        (requests.post(seg, json={"note": 7}, timeout=10), "note"),
        (requests.post(seg, json={"note": " "}, timeout=10), "note"),
        (requests.post(seg, json=[1], timeout=10), "body"),
        (requests.post(seg, data=b"{oops", timeout=10), "body"),
    ]
    for res, field in bad:
        assert res.status_code == 422 and res.json()["field"] == field, res.text
    assert stand_in.notes == []  # no job ran


def test_404_unknown_ids_and_files(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path
) -> None:
    url = serve(stand_in)
    case_id = upload(url, case_image).json()["case_id"]
    job = segment(url, case_id)
    other = upload(url, case_image).json()["case_id"]
    for path in [
        f"/api/cases/{HEX32}",
        "/api/cases/..%2F..%2Fetc",
        f"/api/cases/{HEX32}/view",
        f"/api/jobs/{HEX32}",
        f"/api/jobs/{HEX32}/view",
        f"/api/cases/{case_id}/results/{HEX32}/mask.nii.gz",
        f"/api/cases/{other}/results/{job['job_id']}/mask.nii.gz",  # the job of another case
        f"/api/cases/{case_id}/results/{job['job_id']}/seg.dcm",  # NIfTI case: no DICOM
        f"/api/cases/{case_id}/results/{job['job_id']}/case.json",
    ]:
        res = requests.get(url + path, timeout=10)
        assert res.status_code == 404, (path, res.status_code, res.text)
    res = requests.post(f"{url}/api/cases/{HEX32}/segment", json={}, timeout=10)
    assert res.status_code == 404


def _raw_post(url: str, headers: str, chunks: list[bytes]) -> str:
    """POST over a plain socket, sending ``chunks`` one by one and stopping as soon as the
    server answers (a server that rejects early must not wait for the rest); returns the
    status line."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST /api/cases HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n".encode())
        for chunk in chunks:
            if select.select([sock], [], [], 0.02)[0]:
                break  # answered before the whole body was sent
            sock.sendall(chunk)
        return sock.makefile("rb").readline().decode().strip()


def test_413_over_the_upload_cap_stores_nothing(
    serve: Callable[..., str], stand_in: StandInModel, tmp_path: Path
) -> None:
    url = serve(stand_in, max_upload_bytes=64 * 1024)
    multipart = "Content-Type: multipart/form-data; boundary=b0undary\r\n"
    head = b'--b0undary\r\nContent-Disposition: form-data; name="image"; filename="a.nii"\r\n\r\n'
    # a declared length over the cap: refused before any of the body is read
    status = _raw_post(
        url, f"{multipart}Content-Length: {10 * 2**20}\r\n", [head] + [b"x" * 8192] * 4
    )
    assert status.split()[:2] == ["HTTP/1.1", "413"], status
    # no length (chunked): counted while it streams, refused once past the cap
    body = [head] + [b"x" * 8192] * 12  # 96 kB
    chunks = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in body] + [b"0\r\n\r\n"]
    status = _raw_post(url, f"{multipart}Transfer-Encoding: chunked\r\n", chunks)
    assert status.split()[:2] == ["HTTP/1.1", "413"], status
    # the same upload under the cap is read (and refused only as a bad image)
    small = [head, b"x" * 1000, b"\r\n--b0undary--\r\n"]
    length = sum(map(len, small))
    status = _raw_post(url, f"{multipart}Content-Length: {length}\r\n", small)
    assert status.split()[:2] == ["HTTP/1.1", "422"], status
    assert stored_files(tmp_path / "data") == [] and stand_in.notes == []


def test_415_not_multipart(serve: Callable[..., str], stand_in: StandInModel) -> None:
    url = serve(stand_in)
    res = requests.post(f"{url}/api/cases", json={"image": "x"}, timeout=10)
    assert res.status_code == 415 and "multipart" in res.json()["detail"]


def test_503_with_retry_after_when_the_queue_is_full_and_409_before_done(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path
) -> None:
    stand_in.gate = __import__("threading").Event()
    url = serve(stand_in, max_queue=1)
    case_id = upload(url, case_image).json()["case_id"]
    seg = f"{url}/api/cases/{case_id}/segment"
    first = requests.post(seg, json={"note": "N2"}, timeout=10)
    assert first.status_code == 202 and stand_in.started.acquire(timeout=30)  # running
    second = requests.post(seg, json={"note": "N0"}, timeout=10)
    assert second.status_code == 202  # waits
    third = requests.post(seg, json={"note": "N1"}, timeout=10)
    assert third.status_code == 503, third.text
    assert int(third.headers["Retry-After"]) >= 1 and "full" in third.json()["detail"]
    running = first.json()["job_id"]
    assert requests.get(f"{url}/api/jobs/{running}", timeout=10).json()["status"] == "running"
    res = requests.get(f"{url}/api/cases/{case_id}/results/{running}/mask.nii.gz", timeout=10)
    assert res.status_code == 409
    assert requests.get(f"{url}/api/jobs/{running}/view", timeout=10).status_code == 409
    stand_in.gate.set()
    for res in (first, second):
        assert wait_job(url, res.json()["job_id"])["status"] == "done"
    assert stand_in.notes == ["N2", "N0"]


def test_401_without_the_bearer_token(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path
) -> None:
    token = "s3cret-token-for-tests"
    url = serve(stand_in, token=token)
    assert requests.get(f"{url}/healthz", timeout=10).status_code == 200  # liveness stays open
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {token}"}):
        res = requests.get(f"{url}/api/cases", headers=headers, timeout=10)
        assert res.status_code == 401 and res.headers["WWW-Authenticate"] == "Bearer"
        assert upload(url, case_image, headers=headers).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{url}/api/cases", headers=auth, timeout=10).status_code == 200
    assert upload(url, case_image, headers=auth).status_code == 201


def test_dicom_zip_case_gets_seg_and_rtstruct(
    serve: Callable[..., str], stand_in: StandInModel, tmp_path: Path
) -> None:
    pydicom = pytest.importorskip("pydicom")
    from tests.io.conftest import SeriesSpec, write_series

    folder = write_series(tmp_path / "ct", SeriesSpec(columns=24, rows=20, slices=12))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"study/series/{f.name}")
    url = serve(stand_in)
    res = upload(url, buf.getvalue(), note="N2, left side")
    assert res.status_code == 201, res.text
    assert res.json()["kind"] == "dicom"
    job = segment(url, res.json()["case_id"])
    assert job["status"] == "done", job
    assert set(job["result"]["files"]) == {"mask.nii.gz", "seg.dcm", "rtstruct.dcm"}
    for name, modality in (("seg.dcm", "SEG"), ("rtstruct.dcm", "RTSTRUCT")):
        got = requests.get(url + job["result"]["files"][name], timeout=10)
        assert got.status_code == 200 and got.headers["content-type"] == "application/dicom"
        ds = pydicom.dcmread(io.BytesIO(got.content))
        assert ds.Modality == modality and ds.PatientID == "SYN1"  # attached to the study


def test_results_equal_a_direct_predictor_call(
    tiny_run: Path, case_image: Path, tmp_path: Path
) -> None:
    from oncoseg.infer import Predictor
    from oncoseg.serve.server import BackgroundServer, app_for_run

    app = app_for_run(tiny_run, tmp_path / "data")
    with BackgroundServer(app) as server:
        health = requests.get(f"{server.url}/healthz", timeout=10).json()
        assert health["model"]["fusion"] == "none" and health["model"]["uses_text"] is False
        case_id = upload(server.url, case_image, note="").json()["case_id"]
        job = segment(server.url, case_id)
        got = requests.get(server.url + job["result"]["files"]["mask.nii.gz"], timeout=10)
    (tmp_path / "m.nii.gz").write_bytes(got.content)
    direct = Predictor.from_run(tiny_run).predict([load_image(case_image)])
    served = load_image(tmp_path / "m.nii.gz")
    assert np.array_equal(served.array, direct.array) and served.array.dtype == np.uint8
    assert isinstance(direct, Image) and np.allclose(served.affine, direct.affine)


def test_restart_loses_no_case_or_result_and_requeues_unfinished_jobs(
    stand_in: StandInModel, case_image: Path, tmp_path: Path
) -> None:
    from oncoseg.serve.app import create_app
    from oncoseg.serve.server import BackgroundServer
    from oncoseg.serve.store import Job, Store, new_id

    data = tmp_path / "data"
    with BackgroundServer(create_app(stand_in, data)) as server:
        case_id = upload(server.url, case_image).json()["case_id"]
        job = segment(server.url, case_id, "N2")
        before = requests.get(server.url + job["result"]["files"]["mask.nii.gz"], timeout=10)
    # as if the process had died with one job waiting and one running
    store = Store(data)
    left = [Job(new_id(), case_id, "N0", status=s) for s in ("queued", "running")]
    for j in left:
        store.save_job(j)
    again = StandInModel()
    with BackgroundServer(create_app(again, data)) as server:
        assert requests.get(f"{server.url}/api/cases/{case_id}", timeout=10).status_code == 200
        kept = requests.get(f"{server.url}/api/jobs/{job['job_id']}", timeout=10).json()
        assert kept["status"] == "done" and kept["result"] == job["result"]
        after = requests.get(server.url + job["result"]["files"]["mask.nii.gz"], timeout=10)
        assert after.status_code == 200 and after.content == before.content
        for j in left:  # re-queued on start and run
            assert wait_job(server.url, j.job_id)["status"] == "done"
    assert again.notes == ["N0", "N0"]


def test_cli_serve_refuses_bad_options(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from oncoseg.cli import app

    (tmp_path / "token").write_text("short\n")
    runs = [
        (["serve", "--model", str(tmp_path / "nope")], "not found"),
        (["serve", "--model", str(tmp_path), "--token-file", str(tmp_path / "token")], "token"),
        (["serve", "--model", str(tmp_path), "--max-queue", "0"], "--max-queue"),
    ]
    for args, words in runs:
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2 and words in res.output, res.output


def test_a_huge_declared_grid_is_refused_before_its_pixels_are_read(tmp_path: Path) -> None:
    import nibabel as nib

    from oncoseg.serve.store import Store
    from oncoseg.serve.uploads import FieldError, store_case

    hdr = nib.Nifti1Header()
    hdr.set_data_shape((2048, 2048, 128))  # 512 M voxels declared, 4 bytes of data sent
    hdr.set_data_dtype(np.uint8)
    hdr["vox_offset"] = 352

    class Part:
        filename = "ct.nii"
        file = io.BytesIO(hdr.binaryblock + b"\0" * 8)

    store = Store(tmp_path / "data")
    with pytest.raises(FieldError, match=r"image\[0\]: shape \(2048, 2048, 128\) is 536870912"):
        store_case(store, [Part()], "N0", channels=1, max_unzipped=2**20)
    assert list((tmp_path / "data" / "cases").iterdir()) == []
