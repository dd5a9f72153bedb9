"""FHIR R4 DocumentReference notes through fhirclient, against hand-written (not recorded:
no FHIR server installs offline here) searchset Bundles served over loopback HTTP; see
tests/pacs/fhir_responses/README.md."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from oncoseg.pacs.fhir import FhirError, fetch_notes, store_fhir_notes
from oncoseg.pacs.notes_store import NoteStore

pytest.importorskip("fhirclient")
RESPONSES = Path(__file__).with_name("fhir_responses")
SYSTEM = "urn:oid:1.2.3.9"


class _Fhir:
    """A loopback HTTP server answering the two pages; records the requests it gets."""

    def __init__(self, broken: bool = False) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                owner.requests.append(self.path)
                path = urlsplit(self.path).path
                name = {"/fhir/DocumentReference": "page1", "/fhir/page2": "page2"}.get(path)
                if name is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                body = (RESPONSES / f"documentreference_{name}.json").read_text()
                body = body.replace("{base}", owner.base)
                if broken:
                    body = body.replace('"data": "TWFy', '"data": "!!!TWFy')
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture()
def fhir() -> Iterator[_Fhir]:
    server = _Fhir()
    yield server
    server.httpd.shutdown()


def test_search_follows_pages_and_decodes_text_attachments(fhir: _Fhir) -> None:
    notes = fetch_notes(fhir.base, mrn="7731946", system=SYSTEM)
    first = urlsplit(fhir.requests[0])
    assert first.path == "/fhir/DocumentReference"
    assert parse_qs(first.query) == {
        "patient:identifier": [f"{SYSTEM}|7731946"],
        "status": ["current"],
    }
    assert [urlsplit(r).path for r in fhir.requests] == ["/fhir/DocumentReference", "/fhir/page2"]
    # doc-2 (a PDF only) is skipped; doc-3's ISO-8859-1 text is decoded as such
    assert [(n.doc_id, n.accession, n.date) for n in notes] == [
        ("doc-1", "ACC20240301A", "20240301"),
        ("doc-3", "ACC20240402B", "20240402"),
    ]
    assert notes[1].text.endswith("(Dr Lefèvre).")
    only = fetch_notes(fhir.base, mrn="7731946", system=SYSTEM, accession="ACC20240402B")
    assert [n.doc_id for n in only] == ["doc-3"]


def test_stored_notes_are_deidentified(fhir: _Fhir, tmp_path: Path) -> None:
    store = NoteStore(tmp_path / "store")
    records = store_fhir_notes(store, fhir.base, mrn="7731946", system=SYSTEM)
    assert len(records) == 2 and {r.source for r in records} == {"fhir"}
    found = store.find(accession="ACC20240301A")
    assert found is not None and found.text == (
        "[NAME] [NAME] (MRN [ID]), seen [DATE].\n"
        "Left breast IDC, breast conserving surgery, pN1a (2/14)."
    )
    for f in (tmp_path / "store").rglob("*.json"):
        data = json.loads(f.read_text())
        text = json.dumps(data, ensure_ascii=False).lower() + f.read_text().lower()
        for planted in ("holloway", "margaret", "7731946", "acc20240301a", "lefèvre"):
            assert planted not in text, planted


def test_errors_name_no_identifier(fhir: _Fhir) -> None:
    with pytest.raises(FhirError) as err:
        fetch_notes(fhir.base.replace("/fhir", "/nothing"), mrn="7731946")
    assert "HTTP 404" in str(err.value) and "7731946" not in str(err.value)
    broken = _Fhir(broken=True)
    try:
        with pytest.raises(FhirError, match="not a readable text"):
            fetch_notes(broken.base, mrn="7731946")
    finally:
        broken.httpd.shutdown()
