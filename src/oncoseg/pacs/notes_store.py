"""The department's note store: de-identified notes keyed by salted hashes, written atomically.

Every note that arrives (HL7 v2, DICOM SR, FHIR) is de-identified *before* anything is
written: first the identifiers its own message names (the patient's name parts, MRN,
accession number) are replaced, then the rule-based de-identifier
(:func:`oncoseg.text.deid.deidentify`) removes the rest. The stored record holds no MRN and
no accession number, only their HMAC-SHA256 under a per-installation salt (``ROOT/salt``,
created once, mode 0600; or the ``ONCOSEG_NOTE_SALT`` variable), so the watcher can still
find a study's note from the study's own tags:

- by accession number: ``ROOT/notes/acc-<hmac(accession)>.json``;
- by MRN and date, for notes without an accession number:
  ``ROOT/notes/mrn-<hmac(mrn)>-<YYYYMMDD>-<hmac(text)[:12]>.json``; more than one such note
  for the same patient and day is *ambiguous* and is reported, never guessed.

A note arriving again for the same accession number replaces the earlier one (an amended
note); the same text again changes nothing.

Example:
    >>> import tempfile
    >>> store = NoteStore(tempfile.mkdtemp())
    >>> rec = store.put("Jane Doe, MRN 555123: left breast, N1.", source="hl7",
    ...                 mrn="555123", accession="A1", date="20240301", identifiers=["Jane", "Doe"])
    >>> store.find(accession="A1").text
    '[NAME] [NAME], MRN [ID]: left breast, N1.'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from oncoseg.io.atomic import atomic_path, write_json
from oncoseg.text.deid import deidentify

SALT_ENV = "ONCOSEG_NOTE_SALT"


class AmbiguousNote(LookupError):
    """More than one note could belong to the study: it is reported, never guessed."""


@dataclass(frozen=True)
class NoteRecord:
    """One stored note: de-identified text and the keys to find it (hashes, never IDs)."""

    key: str
    source: str  # "hl7", "sr", "fhir"
    accession_hash: str
    mrn_hash: str
    date: str  # YYYYMMDD or ""
    text: str  # de-identified
    redactions: int
    received: str  # ISO time, UTC


def redact_known(text: str, identifiers: Iterable[str]) -> tuple[str, int]:
    """Replace the message's own identifiers (whole words, any case) before the rules run;
    returns the text and the number of replacements."""
    count = 0
    for ident in sorted(
        {i.strip() for i in identifiers if len(i.strip()) >= 2}, key=len, reverse=True
    ):
        tag = "[ID]" if any(ch.isdigit() for ch in ident) else "[NAME]"
        text, n = re.subn(rf"(?<!\w){re.escape(ident)}(?!\w)", tag, text, flags=re.IGNORECASE)
        count += n
    return text, count


def clean_note(text: str, identifiers: Iterable[str] = ()) -> tuple[str, int]:
    """De-identified text and the number of replacements made."""
    known, n = redact_known(text, identifiers)
    result = deidentify(known)
    return result.text, n + len(result.redactions)


class NoteStore:
    """Notes on disk under ``root`` (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str], salt: bytes | None = None) -> None:
        self.root = Path(root)
        self.notes = self.root / "notes"
        self.notes.mkdir(parents=True, exist_ok=True)
        self._salt = salt or self._load_salt()

    def _load_salt(self) -> bytes:
        env = os.environ.get(SALT_ENV)
        if env:
            return env.encode("utf-8")
        path = self.root / "salt"
        if not path.exists():
            with atomic_path(path) as tmp:
                tmp.write_text(secrets.token_hex(32), encoding="ascii")
                os.chmod(tmp, 0o600)
            os.chmod(path, 0o600)
        return path.read_text(encoding="ascii").strip().encode("ascii")

    def hash(self, value: str) -> str:
        """HMAC-SHA256 of ``value`` under the store's salt (hex)."""
        return hmac.new(self._salt, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()

    def put(
        self,
        raw_text: str,
        *,
        source: str,
        mrn: str,
        accession: str = "",
        date: str = "",
        identifiers: Iterable[str] = (),
    ) -> NoteRecord:
        """De-identify ``raw_text`` and store it; returns the stored record."""
        if not accession and not date:
            raise ValueError("a note needs an accession number or a date to be matched")
        if not mrn:
            raise ValueError("a note needs the patient's MRN")
        text, n = clean_note(raw_text, [*identifiers, mrn, accession])
        mrn_hash = self.hash(mrn)
        acc_hash = self.hash(accession) if accession else ""
        by_mrn = f"mrn-{mrn_hash}-{date}-{self.hash(text)[:12]}"
        key = f"acc-{acc_hash}" if accession else by_mrn
        received = datetime.now(timezone.utc).isoformat(timespec="seconds")
        record = NoteRecord(key, source, acc_hash, mrn_hash, date[:8], text, n, received)
        path = self.notes / f"{key}.json"
        old = self._read(path)
        if old is None or old.text != text or old.source != source:
            write_json(path, asdict(record))
        return record

    def _read(self, path: Path) -> NoteRecord | None:
        try:
            return NoteRecord(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def find(self, *, accession: str = "", mrn: str = "", date: str = "") -> NoteRecord | None:
        """The note of a study: by accession number first, then (for notes that have none)
        by MRN and date. :class:`AmbiguousNote` when several notes fit the MRN and date."""
        if accession:
            hit = self._read(self.notes / f"acc-{self.hash(accession)}.json")
            if hit is not None:
                return hit
        if not (mrn and date):
            return None
        hits = sorted(self.notes.glob(f"mrn-{self.hash(mrn)}-{date[:8]}-*.json"))
        records = [r for r in (self._read(p) for p in hits) if r is not None]
        if len(records) > 1:
            raise AmbiguousNote(
                f"{len(records)} notes without accession number fit the study's patient and date"
            )
        return records[0] if records else None

    def records(self) -> list[NoteRecord]:
        """Every stored note."""
        found = (self._read(p) for p in sorted(self.notes.glob("*.json")))
        return [r for r in found if r is not None]
