"""An upload over ``--max-upload-mb`` gets a 413 with its JSON message that urllib, httpx,
curl and headless Chromium each read (not a connection reset), and nothing is stored.

Each client is run the way it sends by default: urllib and httpx send the whole body before
they read (the server drains it), curl asks ``Expect: 100-continue`` above 1 MB (the server
answers at once) and sends everything without it, a chunked body has no length (counted
while it streams). The review page refuses the file before sending it. Servers are real
uvicorn on loopback (conftest's ``serve``), with a 1 MB cap.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests

from tests.serve.conftest import StandInModel
from tests.serve.test_review_page import CHROMIUM

CAP = 2**20  # bytes
NOTE = "N2, breast conserving surgery, left side"
BOUNDARY = "oncoseg-test-boundary"


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """6 MB, random bytes (a 413 must not depend on the content): with Starlette's
    ``RequestBodyLimitMiddleware`` urllib's upload of it was reset (over ~4 MB, more than
    the loopback socket buffers hold, its ``sendall`` meets the reset)."""
    path = tmp_path / "big.nii.gz"
    path.write_bytes(os.urandom(6 * CAP))
    return path


@pytest.fixture
def capped(serve: Callable[..., str], stand_in: StandInModel, tmp_path: Path) -> Iterator[str]:
    """A service with a 1 MB cap; afterwards nothing may have been stored or predicted."""
    url = serve(stand_in, data=tmp_path / "data", max_upload_bytes=CAP)
    yield url
    assert [p for p in (tmp_path / "data").rglob("*") if p.is_file()] == []
    assert stand_in.notes == []


def _assert_413(status: int, body: bytes | str) -> None:
    assert status == 413, (status, body)
    answer = json.loads(body)
    assert answer["max_upload_bytes"] == CAP
    assert (
        answer["detail"].startswith("file too large") and "upload cap of 1 MB" in answer["detail"]
    ), answer


def _multipart(image: bytes) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n{NOTE}\r\n'.encode(),
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; '
        'filename="ct.nii.gz"\r\nContent-Type: application/gzip\r\n\r\n'.encode(),
        image,
        f"\r\n--{BOUNDARY}--\r\n".encode(),
    ]
    return b"".join(parts)


def test_urllib_reads_the_413(capped: str, big_file: Path) -> None:
    body = _multipart(big_file.read_bytes())
    request = urllib.request.Request(
        f"{capped}/api/cases",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=60)
    _assert_413(err.value.code, err.value.read())
    # the connection was drained, not reset: the same server answers the next request
    with urllib.request.urlopen(f"{capped}/healthz", timeout=10) as res:
        assert json.loads(res.read())["max_upload_bytes"] == CAP


def test_httpx_reads_the_413_with_and_without_a_length(capped: str, big_file: Path) -> None:
    data = big_file.read_bytes()
    with httpx.Client(timeout=60) as client:
        res = client.post(
            f"{capped}/api/cases",
            files={"image": ("ct.nii.gz", data, "application/gzip")},
            data={"note": NOTE},
        )
        _assert_413(res.status_code, res.content)

        def chunks() -> Iterator[bytes]:  # a generator body: chunked, no Content-Length
            body = _multipart(data)
            for i in range(0, len(body), 64 * 1024):
                yield body[i : i + 64 * 1024]

        res = client.post(
            f"{capped}/api/cases",
            content=chunks(),
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
        assert "content-length" not in res.request.headers
        _assert_413(res.status_code, res.content)
        assert client.get(f"{capped}/healthz").status_code == 200  # the same pool still works


@pytest.mark.parametrize(
    "extra",
    [
        [],  # curl asks "Expect: 100-continue" above 1 MB: refused before the body is sent
        ["-H", "Expect:"],  # no Expect: the whole body is sent, then read back
        ["-H", "Transfer-Encoding: chunked"],  # no length: counted while it streams
    ],
    ids=["expect-100", "no-expect", "chunked"],
)
def test_curl_reads_the_413(capped: str, big_file: Path, tmp_path: Path, extra: list[str]) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl not installed")
    out = tmp_path / "answer.json"
    done = subprocess.run(
        [curl, "-sS", "-o", str(out), "-w", "%{http_code}", *extra]
        + ["-F", f"image=@{big_file}", "-F", f"note={NOTE}", f"{capped}/api/cases"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # curl: (56) Recv failure on a reset
    _assert_413(int(done.stdout), out.read_bytes())


def test_under_the_cap_is_read_after_a_refusal(
    serve: Callable[..., str], stand_in: StandInModel, case_image: Path, big_file: Path
) -> None:
    url = serve(stand_in, max_upload_bytes=CAP)
    files = {"image": ("ct.nii.gz", big_file.read_bytes(), "application/gzip")}
    with requests.Session() as session:  # one kept-alive connection for both
        res = session.post(f"{url}/api/cases", files=files, data={"note": NOTE}, timeout=60)
        _assert_413(res.status_code, res.content)
        files = {"image": ("ct.nii.gz", case_image.read_bytes(), "application/gzip")}
        res = session.post(f"{url}/api/cases", files=files, data={"note": NOTE}, timeout=60)
        assert res.status_code == 201, res.text


def test_chromium_gets_the_413_and_the_page_refuses_before_sending(
    capped: str, big_file: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install chromium; .ci/run does)")
    posts: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.on(
            "request",
            lambda r: (
                posts.append(r.url) if r.url.endswith("/api/cases") and r.method == "POST" else None
            ),
        )
        page.goto(capped)
        page.wait_for_function("document.getElementById('model').textContent !== ''")
        # the browser's own fetch of an over-cap form: the 413 and its JSON arrive
        status, text = page.evaluate(
            """async (size) => {
                const form = new FormData();
                form.append("image", new Blob([new Uint8Array(size)]), "ct.nii.gz");
                form.append("note", "N0, left side");
                const res = await fetch("/api/cases", { method: "POST", body: form });
                return [res.status, await res.text()];
            }""",
            6 * CAP,
        )
        _assert_413(status, text)
        posts.clear()
        # the page: the file is refused before it is sent, with both sizes
        page.set_input_files("#image", str(big_file))
        page.fill("#note", NOTE)
        page.click("#segment")
        page.wait_for_function("document.getElementById('status').textContent.includes('large')")
        status_line = page.text_content("#status") or ""
        assert status_line == "file too large (6.0 MB > 1.0 MB cap)", status_line
        assert page.get_attribute("#status", "class") == "error"
        assert posts == []  # nothing was sent
        browser.close()
