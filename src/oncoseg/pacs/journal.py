"""The watcher's journal: an SQLite file that survives SIGKILL at any moment.

Each change is one committed transaction, so a killed watcher finds on restart exactly what
it had committed: the ``/changes`` cursor and every study with its state.

States: ``waiting`` (stable, no note yet), ``running`` (a prediction was started: on restart
the study's outputs are looked up in the PACS before anything is sent again), ``done`` (SEG
and RTSTRUCT both stored), ``no-note`` (waited past the timeout; still matched if a note
comes), ``ambiguous`` (several notes fit, none taken), ``failed`` (gave up after repeated
errors). Studies are named by Orthanc's ID (a hash of the UIDs), never by patient identity.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

STATES = ("waiting", "running", "done", "no-note", "ambiguous", "failed")
OPEN = ("waiting", "running", "no-note", "ambiguous")  # still looked at on every poll

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 0), since INTEGER);
CREATE TABLE IF NOT EXISTS studies (
    study TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    stable_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    updated REAL NOT NULL,
    done_at REAL,
    result_sent INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class StudyRow:
    study: str
    state: str
    stable_at: float
    attempts: int
    detail: str
    done_at: float | None
    result_sent: bool


class Journal:
    """Cursor and per-study states in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @property
    def since(self) -> int:
        row = self._db.execute("SELECT since FROM cursor WHERE id = 0").fetchone()
        return int(row[0]) if row else 0

    def add_stable(self, studies: list[str], since: int) -> None:
        """Record newly stable studies and move the cursor, in one transaction."""
        now = time.time()
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO studies (study, state, stable_at, updated) "
                "VALUES (?, 'waiting', ?, ?)",
                [(s, now, now) for s in studies],
            )
            self._db.execute("INSERT OR REPLACE INTO cursor (id, since) VALUES (0, ?)", (since,))

    def set_state(self, study: str, state: str, detail: str = "", *, attempt: bool = False) -> None:
        if state not in STATES:
            raise ValueError(f"unknown study state {state!r}")
        now = time.time()
        self._db.execute(
            "UPDATE studies SET state = ?, detail = ?, updated = ?, "
            "attempts = attempts + ?, done_at = CASE WHEN ? = 'done' THEN ? ELSE done_at END "
            "WHERE study = ?",
            (state, detail[:500], now, int(attempt), state, now, study),
        )

    def mark_result_sent(self, study: str) -> None:
        self._db.execute("UPDATE studies SET result_sent = 1 WHERE study = ?", (study,))

    def rows(self, states: tuple[str, ...] = STATES) -> list[StudyRow]:
        marks = ",".join("?" * len(states))
        found = self._db.execute(
            "SELECT study, state, stable_at, attempts, detail, done_at, result_sent FROM studies "
            f"WHERE state IN ({marks}) ORDER BY stable_at, study",
            states,
        ).fetchall()
        return [StudyRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in found]

    def get(self, study: str) -> StudyRow | None:
        hits = [r for r in self.rows() if r.study == study]
        return hits[0] if hits else None
