"""Notes kept as FHIR R4 DocumentReferences, fetched with ``fhirclient`` (SMART on FHIR).

``GET [base]/DocumentReference?patient:identifier=[system|]MRN&status=current`` lists the
patient's documents (pages followed through the Bundle's ``next`` links); a document
belongs to a study when its accession number matches: a ``context.related`` reference whose
identifier is typed ``ACSN`` (HL7 table 0203), or a DocumentReference identifier of that
type. The note is the first ``text/plain`` attachment carried inline (``content.attachment
.data``, base64; ``charset`` from the content type, UTF-8 by default); attachments known
only by URL or of other types are skipped and counted. The text is de-identified by the
:class:`~oncoseg.pacs.notes_store.NoteStore` before it is written.

No FHIR server installs offline here (HAPI needs Maven; DESIGN §8): tests run the client
against hand-written searchset Bundles served over loopback (tests/pacs/fhir_responses/).

Example:
    >>> notes = fetch_notes("https://fhir.example.org/r4", mrn="123")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
from dataclasses import dataclass
from typing import Any

from oncoseg.pacs.notes_store import NoteRecord, NoteStore

log = logging.getLogger(__name__)
ACCESSION_TYPE = "ACSN"
MAX_NOTE_BYTES = 1_000_000


class FhirError(RuntimeError):
    """The FHIR server could not be asked or answered something that is not FHIR."""


@dataclass(frozen=True)
class FhirNote:
    """The note of one DocumentReference: raw text and the fields to match its study."""

    doc_id: str
    text: str
    mrn: str
    accession: str
    date: str  # YYYYMMDD or ""
    identifiers: tuple[str, ...]


def _is_accession(identifier: Any) -> bool:
    codings = getattr(getattr(identifier, "type", None), "coding", None) or []
    return any(c.code == ACCESSION_TYPE for c in codings)


def accession_of(doc: Any) -> str:
    """The document's accession number ('' if it names none)."""
    related = getattr(getattr(doc, "context", None), "related", None) or []
    candidates = [r.identifier for r in related if getattr(r, "identifier", None)]
    candidates += list(doc.identifier or [])
    return next((str(i.value) for i in candidates if _is_accession(i) and i.value), "")


def decode_attachment(attachment: Any) -> str | None:
    """The text of an inline ``text/plain`` attachment; None for other attachments."""
    content_type = str(attachment.contentType or "")
    if not content_type.lower().startswith("text/plain") or not attachment.data:
        return None
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        data = base64.b64decode(attachment.data, validate=True)
        if len(data) > MAX_NOTE_BYTES:
            raise ValueError(f"{len(data)} bytes, over the cap of {MAX_NOTE_BYTES}")
        return data.decode(charset)
    except (binascii.Error, LookupError, UnicodeDecodeError, ValueError) as exc:
        raise FhirError(f"DocumentReference attachment: not a readable text ({exc})") from exc


def _date(doc: Any) -> str:
    when = doc.date or getattr(
        getattr(getattr(doc, "context", None), "period", None), "start", None
    )
    return when.isostring[:10].replace("-", "") if when is not None else ""


def note_of(doc: Any, mrn: str) -> FhirNote | None:
    """The note of one DocumentReference model (None when no inline text/plain attachment)."""
    for content in doc.content or []:
        text = decode_attachment(content.attachment)
        if text is not None and text.strip():
            display = str(getattr(doc.subject, "display", "") or "") if doc.subject else ""
            accession = accession_of(doc)
            words = [w for w in display.replace(",", " ").split() if len(w) >= 2]
            return FhirNote(
                str(doc.id or ""),
                text.strip(),
                mrn,
                accession,
                _date(doc),
                tuple(i for i in (*words, mrn, accession) if i),
            )
    return None


def fetch_notes(
    base_url: str,
    *,
    mrn: str,
    system: str = "",
    accession: str = "",
    timeout: float = 30.0,
) -> list[FhirNote]:
    """The patient's current notes (only the study's when ``accession`` is given)."""
    from fhirclient.models.documentreference import DocumentReference
    from fhirclient.server import FHIRServer

    try:
        server = FHIRServer(None, base_uri=base_url)
    except Exception as exc:  # fhirclient raises a bare Exception for a bad base URL
        raise FhirError(f"{base_url!r}: not a FHIR base URL ({exc})") from exc
    server.session.get = functools.partial(server.session.get, timeout=timeout)
    query = {"patient:identifier": f"{system}|{mrn}" if system else mrn, "status": "current"}
    try:
        docs = list(DocumentReference.where(struct=query).perform_resources_iter(server))
    except Exception as exc:  # requests errors, HTTP errors and FHIR validation errors
        # not str(exc): requests puts the query URL, with the MRN, in its messages
        status = getattr(getattr(exc, "response", None), "status_code", None)
        detail = f"HTTP {status}" if status else type(exc).__name__
        raise FhirError(f"{base_url}: DocumentReference search failed ({detail})") from None
    notes, skipped = [], 0
    for doc in docs:
        if doc.resource_type != "DocumentReference":
            continue
        note = note_of(doc, mrn)
        if note is None:
            skipped += 1
        elif not accession or note.accession == accession:
            notes.append(note)
    log.info(
        "FHIR: %d documents, %d notes kept, %d without inline text", len(docs), len(notes), skipped
    )
    return notes


def store_fhir_notes(
    store: NoteStore, base_url: str, *, mrn: str, system: str = "", accession: str = ""
) -> list[NoteRecord]:
    """Fetch the notes (see :func:`fetch_notes`), de-identify and store them."""
    return [
        store.put(
            n.text,
            source="fhir",
            mrn=n.mrn,
            accession=n.accession,
            date=n.date,
            identifiers=n.identifiers,
        )
        for n in fetch_notes(base_url, mrn=mrn, system=system, accession=accession)
    ]
