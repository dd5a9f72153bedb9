"""Atomic file writes: write to a temporary file in the same folder, then rename.

A crash or an error while writing never leaves a half-written file under the final name,
and an existing file is only replaced once the new one is complete.

Example:
    >>> from pathlib import Path
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(p) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> p.read_text()
    'hello'

Temporary names: ``atomic_path`` writes ``.NAME.tmp-HOST-PID-XXXXXXXX.SUFFIX`` beside
``NAME`` (HOST: 8 hex digits of a hash of the machine's name; PID: the writing process), so
a process killed mid-write leaves a file that :func:`remove_stale_temp_files` recognises as
ours, and knows whether its writer still runs. A temporary file is *stale*, and removed,
when its writer was on this machine and no longer runs, or else (a writer on another machine
sharing the folder, a recycled PID, or a file of an older oncoseg named
``.NAME.XXXXXXXX.SUFFIX``) when it was last modified more than ``max_age`` seconds ago
(default :data:`STALE_AFTER`: a day, longer than any write takes). Nothing else is touched.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STALE_AFTER = 24 * 3600.0  # seconds; see the module docstring
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
# mkstemp's random part: 8 characters of [a-z0-9_]
_TEMP = re.compile(
    r"^\.(?P<name>.+)\.tmp-(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[a-z0-9_]{8}(?P<suffix>\..+)$"
)
_LEGACY = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}(?P<suffix>\..+)$")
_PARTIAL = re.compile(r"^\..+\.(?:partial|old)-(?P<pid>[0-9]+)$")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    The temporary name keeps the full suffix (e.g. ``.nii.gz``) so writers that pick a format
    from the extension still work; its pattern is the module docstring's.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(final.suffixes) or ".tmp"
    prefix = f".{final.name}.tmp-{_HOST}-{os.getpid()}-"
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; use the usual file mode
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new empty folder beside ``path``; if the block succeeds it replaces ``path``.

    The folder is ``.NAME.partial-PID``. An existing ``path`` is first renamed aside, then
    the new folder is renamed onto ``path`` and the old one deleted, so ``path`` is at every
    moment the old complete folder, absent, or the new complete folder. Leftovers of a
    process that was killed (its PID no longer runs) are removed on the next call.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final)
    work = final.with_name(f".{final.name}.partial-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        yield work
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            os.replace(final, old)
        os.replace(work, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the block failed: nothing half-written stays


def _remove_leftovers(final: Path) -> None:
    """Delete ``.NAME.partial-PID`` / ``.NAME.old-PID`` folders of processes that are gone."""
    for leftover in final.parent.glob(f".{glob.escape(final.name)}.*-*"):
        kind, _, pid = leftover.name[len(final.name) + 2 :].partition("-")
        if kind in ("partial", "old") and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_temp_files(
    folder: str | os.PathLike[str], *, max_age: float = STALE_AFTER, recursive: bool = False
) -> list[Path]:
    """Delete the stale temporary files :func:`atomic_path` left in ``folder`` (and its
    subfolders with ``recursive``) and the ``.NAME.partial-PID`` / ``.NAME.old-PID``
    folders of :func:`atomic_dir` whose process is gone; the paths removed.

    Stale is defined in the module docstring: a file whose writer ran on this machine and is
    gone goes at once (a rerun or ``--resume`` right after a kill cleans up); any other goes
    once untouched for ``max_age`` seconds. Files that merely look similar (no
    ``.tmp-HOST-PID-`` part, a suffix other than the one ``atomic_path`` gives that name, no
    leading dot) are never touched. Call it where a run, a store or a service starts.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    now = time.time()
    found = root.rglob(".*") if recursive else root.glob(".*")
    removed = []
    for path in sorted(found):
        try:
            if path.is_file() and _stale_file(path, now, max_age):
                path.unlink()
            elif path.is_dir() and _stale_folder(path):
                shutil.rmtree(path)
            else:
                continue
        except FileNotFoundError:  # its writer renamed or removed it meanwhile
            continue
        removed.append(path)
    if removed:
        log.info("%s: removed %d stale temporary file(s)", root, len(removed))
    return removed


def _stale_file(path: Path, now: float, max_age: float) -> bool:
    old = now - path.stat().st_mtime > max_age
    m = _TEMP.match(path.name)
    if m is not None:
        if not _names_suffix(m["name"], m["suffix"]):
            return False
        if m["host"] == _HOST and not _alive(int(m["pid"])):
            return True
        return old
    m = _LEGACY.match(path.name)  # before the names carried their writer: age only
    return m is not None and _names_suffix(m["name"], m["suffix"]) and old


def _names_suffix(name: str, suffix: str) -> bool:
    """Whether ``suffix`` is what :func:`atomic_path` gives a file called ``name``."""
    return suffix == ("".join(Path(name).suffixes) or ".tmp")


def _stale_folder(path: Path) -> bool:
    m = _PARTIAL.match(path.name)
    return m is not None and not _alive(int(m["pid"]))


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(
    path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]], fields: Sequence[str]
) -> None:
    """Write rows as CSV (header ``fields``, missing values empty) atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in fields})
    write_text(path, buf.getvalue())


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write JSON (indented, UTF-8, trailing newline) atomically."""
    write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
