"""What the de-identifier made of a note, remembered, so a note seen before is not read again.

Loading the de-identifier (its word lists and a few hundred patterns) costs a cold process
about as much as the prediction it precedes. A model's note path calls it for every note;
``oncoseg predict`` of a case whose note was seen before (its LM states cached) then needs
neither the language model nor the de-identifier.

Each entry maps a *keyed* hash of the cleaned note to its de-identified text:

- the key is HMAC-SHA256 under a random secret made on first use (``secret``, mode 0600, in
  the memo folder), over the de-identifier's fingerprint (the bytes of every
  ``oncoseg/text/deid*`` file and ``given_names.txt``) and the note: without the secret nobody
  can test a guessed note against the folder, and a changed de-identifier reads no old entry;
- the value is the de-identified text, the same text the note-state cache and the logs may
  hold; the note itself is never written.

Folder: ``$ONCOSEG_DEID_MEMO``, else ``$ONCOSEG_CACHE/deid-memo`` (``off``: no memo). Entries
unused for ``$ONCOSEG_NOTE_CACHE_DAYS`` days (default 90) are removed, as are stale temporary
files of killed writers; writes are atomic, so concurrent processes see whole entries or none.

Example:
    >>> import os, tempfile
    >>> os.environ["ONCOSEG_DEID_MEMO"] = tempfile.mkdtemp()
    >>> remember("Seen by Dr Jones.", "Seen by [NAME].")
    >>> lookup("Seen by Dr Jones.")
    'Seen by [NAME].'
    >>> lookup("Seen by Dr Smith.") is None
    True
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import tempfile
import time
from functools import cache
from pathlib import Path

from oncoseg.io.atomic import atomic_path, remove_stale_temp_files
from oncoseg.text.cache import MAX_DAYS, env_limit

log = logging.getLogger(__name__)

ENV = "ONCOSEG_DEID_MEMO"
DAYS_ENV = "ONCOSEG_NOTE_CACHE_DAYS"
SUFFIX = ".txt"
_TEXT = Path(__file__).parent
_mem: dict[tuple[str, str], str] = {}  # (folder, note) -> de-identified, this process
_swept: set[str] = set()


def memo_dir() -> Path | None:
    """The memo folder, or ``None`` when ``$ONCOSEG_DEID_MEMO`` is ``off``."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() == "off":
        return None
    if value:
        return Path(value)
    from oncoseg.text.models import default_cache_dir

    return default_cache_dir() / "deid-memo"


@cache
def deid_fingerprint() -> str:
    """A hash of the de-identifier's code and word lists."""
    h = hashlib.sha256()
    for path in sorted([*_TEXT.glob("deid*"), _TEXT / "given_names.txt"]):
        if path.is_file():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _secret(folder: Path) -> bytes:
    """The folder's secret, made once: written to a private (0600) temporary file, then linked
    onto its name, which fails if another process linked first (its secret is then read)."""
    path = folder / "secret"
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes()
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_bytes()


def _entry(folder: Path, note: str) -> Path:
    message = f"{deid_fingerprint()}\x1f{note}".encode()
    return folder / (hmac.new(_secret(folder), message, hashlib.sha256).hexdigest() + SUFFIX)


def lookup(note: str) -> str | None:
    """The remembered de-identified text of the cleaned ``note``, or ``None``."""
    folder = memo_dir()
    if folder is None:
        return None
    if (hit := _mem.get((str(folder), note))) is not None:
        return hit
    try:
        path = _entry(folder, note)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # missing, evicted or unreadable: a miss
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: eviction goes by age of last use
    _mem[(str(folder), note)] = text
    return text


def remember(note: str, deidentified: str) -> None:
    """Store ``deidentified`` as what the cleaned ``note`` becomes (never fatal)."""
    folder = memo_dir()
    if folder is None:
        return
    _mem[(str(folder), note)] = deidentified
    try:
        with atomic_path(_entry(folder, note)) as tmp:
            tmp.write_text(deidentified, encoding="utf-8")
    except OSError as exc:  # a read-only cache: the note is de-identified again next time
        log.warning("de-identification memo: cannot write to %s (%s)", folder, exc)
        return
    if str(folder) not in _swept:
        _swept.add(str(folder))
        sweep(folder)


def deidentified(note: str) -> str:
    """The de-identified text of the cleaned ``note``: remembered, or else de-identified (the
    de-identifier is imported only then) and remembered."""
    if (known := lookup(note)) is not None:
        return known
    from oncoseg.text.deid import deidentify  # noqa: PLC0415  (lazy: seconds of word lists)

    out = deidentify(note).text
    remember(note, out)
    return out


def sweep(folder: Path, max_days: float | None = None) -> int:
    """Remove entries unused for ``max_days`` (default ``$ONCOSEG_NOTE_CACHE_DAYS`` or 90; 0:
    keep all) and stale temporary files; returns the number of entries removed."""
    max_days = env_limit(max_days, DAYS_ENV, MAX_DAYS)
    remove_stale_temp_files(folder)
    if not max_days:
        return 0
    cutoff = time.time() - max_days * 86400
    removed = 0
    for item in os.scandir(folder):
        if item.name.endswith(SUFFIX) and not item.name.startswith("."):
            with contextlib.suppress(FileNotFoundError):
                if item.stat().st_mtime < cutoff:
                    Path(item.path).unlink(missing_ok=True)
                    removed += 1
    return removed
