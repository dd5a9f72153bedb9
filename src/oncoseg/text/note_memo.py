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
- the value is the de-identified text (the note itself is never written). De-identification
  misses some identifiers, so the folder is private: made 0700, secret and entries 0600.

Folder: ``$ONCOSEG_DEID_MEMO``, else ``$ONCOSEG_CACHE/deid-memo`` (``off``: no memo). Entries
unused for ``$ONCOSEG_NOTE_CACHE_DAYS`` days (default 90) are removed (only files named as
entries are), as are stale temporary files of killed writers; writes are atomic, so
concurrent processes see whole entries or none. Nothing here is fatal: an unwritable folder
means the note is de-identified again next time (one warning per folder).

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
import re
import sys
import tempfile
import time
import unicodedata
from functools import cache
from pathlib import Path

from oncoseg.io.atomic import atomic_path, remove_stale_temp_files
from oncoseg.text.cache import MAX_DAYS, env_limit

log = logging.getLogger(__name__)

ENV = "ONCOSEG_DEID_MEMO"
DAYS_ENV = "ONCOSEG_NOTE_CACHE_DAYS"
SUFFIX = ".txt"
_TEXT = Path(__file__).parent
_ENTRY = re.compile(r"[0-9a-f]{64}\.txt")
_MEM_ITEMS = 4096
_mem: dict[tuple[str, str], str] = {}  # (folder, note) -> de-identified, this process
_swept: set[str] = set()
_warned: set[str] = set()


def memo_dir() -> Path | None:
    """The memo folder, or ``None`` when ``$ONCOSEG_DEID_MEMO`` is ``off``."""
    value = os.environ.get(ENV, "").strip()
    if value.lower() == "off":
        return None
    if not deid_fingerprint():  # the de-identifier's files are not readable: no memo
        return None
    if value:
        return Path(value)
    from oncoseg.text.models import default_cache_dir

    return default_cache_dir() / "deid-memo"


@cache
def deid_fingerprint() -> str:
    """A hash of the de-identifier's code and word lists, oncoseg's version and the Python and
    Unicode versions its patterns depend on; ``""`` when its files cannot be read."""
    from oncoseg import __version__

    files = sorted(p for p in [*_TEXT.glob("deid*"), _TEXT / "given_names.txt"] if p.is_file())
    if not any(p.suffix == ".py" for p in files):
        return ""
    h = hashlib.sha256(f"{__version__}|{sys.version}|{unicodedata.unidata_version}".encode())
    for path in files:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _secret(folder: Path) -> bytes:
    """The folder's secret, made once: written to a private (0600) temporary file, synced,
    then linked onto its name, which fails if another process linked first (its secret is
    then read). A secret that is not 32 bytes is an error (the memo is then not used)."""
    path = folder / "secret"
    if not path.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=folder)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(32))
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    secret = path.read_bytes()
    if len(secret) != 32:
        raise OSError(f"{path}: expected a 32-byte secret, found {len(secret)} bytes")
    return secret


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
    _keep(folder, note, text)
    return text


def remember(note: str, deidentified: str) -> None:
    """Store ``deidentified`` as what the cleaned ``note`` becomes (never fatal)."""
    folder = memo_dir()
    if folder is None:
        return
    _keep(folder, note, deidentified)
    try:
        path = _entry(folder, note)
        with atomic_path(path) as tmp:
            tmp.write_text(deidentified, encoding="utf-8")
        path.chmod(0o600)
        if str(folder) not in _swept:
            _swept.add(str(folder))
            sweep(folder)
    except (OSError, ValueError) as exc:  # read-only, no hard links, a bad days setting
        if str(folder) not in _warned:
            _warned.add(str(folder))
            log.warning("de-identification memo: not kept in %s (%s)", folder, exc)


def _keep(folder: Path, note: str, text: str) -> None:
    """In memory too, for this process (the oldest entry goes beyond :data:`_MEM_ITEMS`)."""
    _mem[(str(folder), note)] = text
    if len(_mem) > _MEM_ITEMS:
        _mem.pop(next(iter(_mem)))


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
        if _ENTRY.fullmatch(item.name):  # never any other file of the folder
            with contextlib.suppress(FileNotFoundError):
                if item.stat().st_mtime < cutoff:
                    Path(item.path).unlink(missing_ok=True)
                    removed += 1
    return removed
