"""The run store: every engine result of a run, written the moment it exists, so a run that
dies (SIGKILL, preemption, Ctrl-C, a full disk) resumes by generating only what is missing.

Why SQLite in WAL mode rather than our own append-only files: a transaction is all or
nothing (a record half-written when the process died is rolled back when the file is next
opened; WAL frames carry checksums), readers in other processes see only committed
transactions and never block the writer, several runs may share one store, and lookups by
key and pruning (``tts-eval runs gc``) are an index and a DELETE. Each stored result is one
committed transaction. ``synchronous=NORMAL``: a killed process loses nothing committed; a
power cut may lose the last few commits (the WAL is synced at checkpoints), which a resume
then generates again.

What is stored is opaque here: a key (the caller's digest of model, prompt tokens and
sampling parameters), a kind, and a JSON body; the engine wrapper (``engines/stored.py``)
decides what goes in.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FILE_NAME = "store.sqlite"
FORMAT = 1
# Keys looked up per query: SQLite allows at most 32766 bound parameters.
_LOOKUP_CHUNK = 900

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    fingerprint TEXT PRIMARY KEY,   -- the weights' and numerics' digest (entries' key part)
    name TEXT NOT NULL,             -- as the user gave it (pretrained=...)
    weights TEXT NOT NULL,          -- the weights' digest alone
    described TEXT NOT NULL,        -- JSON: how the fingerprint was made
    first_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started REAL NOT NULL,
    finished REAL,                  -- NULL: still running, or it died
    model TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    label TEXT NOT NULL,            -- tasks and strategy, for `tts-eval runs ls`
    args TEXT NOT NULL,             -- JSON
    reused INTEGER NOT NULL DEFAULT 0,      -- requests answered from the store
    generated INTEGER NOT NULL DEFAULT 0    -- requests sent to the engine and stored
);
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,             -- "generation" | "scores"
    fingerprint TEXT NOT NULL,
    run INTEGER NOT NULL,
    created REAL NOT NULL,
    used REAL NOT NULL,
    items INTEGER NOT NULL,         -- samples (or scored texts) in the body
    tokens INTEGER NOT NULL,        -- tokens generated (or read) for them
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_fingerprint ON entries (fingerprint);
"""


class StoreError(RuntimeError):
    """The run store cannot be used as asked; the message names the problem and the fix."""


@dataclass(frozen=True)
class Entry:
    key: str
    kind: str
    items: int
    tokens: int
    body: Any


class RunStore:
    """One store directory (``store=DIR``). Open it once per process; it is not thread-safe."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"run store: cannot create {self.directory} ({exc}); set store= "
                             "to a writable directory, or store=off") from exc
        self.path = self.directory / FILE_NAME
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check_format()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"run store: {self.path} is not a usable store ({exc}); move it "
                             "away or set store= to another directory") from exc
        self.run_id: int | None = None

    def _check_format(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE name='format'").fetchone()
        if row is None:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (str(FORMAT),))
        elif int(row[0]) != FORMAT:
            raise StoreError(f"run store: {self.path} has format {row[0]}, this tts-eval "
                             f"reads format {FORMAT}; set store= to a new directory")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a full disk or a read-only file becomes a StoreError that says
        what is kept."""
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
        except sqlite3.OperationalError as exc:
            held = self.count()
            raise StoreError(
                f"run store: cannot write to {self.path} ({exc}); free disk space or set "
                f"store= to another directory and run the same command again: the "
                f"{held} results stored so far are kept and will be reused") from exc

    # Models ------------------------------------------------------------------------

    def register_model(self, name: str, fingerprint: str, weights: str,
                       described: dict[str, Any]) -> None:
        """Remember which weights ``name`` meant (under any settings); the same name with
        other weights is an error (their samples are not this model's)."""
        row = self._db.execute("SELECT weights, described FROM models WHERE name=? AND "
                               "weights!=? LIMIT 1", (name, weights)).fetchone()
        if row is not None:
            raise StoreError(
                f"run store {self.directory} holds samples of another model named {name!r} "
                f"(stored: weights {_short(row[0])} from {row[1]}; now: {_short(weights)} from "
                f"{json.dumps(described, sort_keys=True)}). Use a new store (store=DIR), or "
                f"drop the old samples: tts-eval runs gc {self.directory} --model {name}")
        if self._db.execute("SELECT 1 FROM models WHERE fingerprint=?",
                            (fingerprint,)).fetchone() is None:
            with self._writing() as db:
                db.execute("INSERT OR IGNORE INTO models VALUES (?, ?, ?, ?, ?)",
                           (fingerprint, name, weights, json.dumps(described, sort_keys=True),
                            time.time()))

    # Runs ----------------------------------------------------------------------------

    def begin_run(self, model: str, fingerprint: str, label: str, args: dict[str, Any]) -> int:
        with self._writing() as db:
            cursor = db.execute(
                "INSERT INTO runs (started, model, fingerprint, label, args) "
                "VALUES (?, ?, ?, ?, ?)",
                (time.time(), model, fingerprint, label, json.dumps(args, sort_keys=True,
                                                                    default=str)))
        self.run_id = int(cursor.lastrowid)
        return self.run_id

    def finish_run(self) -> None:
        if self.run_id is not None:
            with self._writing() as db:
                db.execute("UPDATE runs SET finished=? WHERE id=?", (time.time(), self.run_id))

    def count_reused(self, requests: int) -> None:
        if requests and self.run_id is not None:
            with self._writing() as db:
                db.execute("UPDATE runs SET reused = reused + ? WHERE id=?",
                           (requests, self.run_id))

    # Entries ---------------------------------------------------------------------

    def get_many(self, keys: Sequence[str]) -> dict[str, Entry]:
        """The stored entries among ``keys`` (marked as used now)."""
        found: dict[str, Entry] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _LOOKUP_CHUNK):
            chunk = unique[start:start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for key, kind, items, tokens, body in self._db.execute(
                    f"SELECT key, kind, items, tokens, body FROM entries WHERE key IN ({marks})",
                    chunk):
                found[key] = Entry(key, kind, items, tokens, json.loads(body))
        if found:
            now = time.time()
            with self._writing() as db:
                db.executemany("UPDATE entries SET used=? WHERE key=?",
                               [(now, key) for key in found])
        return found

    def put(self, key: str, kind: str, fingerprint: str, items: int, tokens: int,
            body: Any) -> None:
        """Store one result, committed before this returns."""
        now = time.time()
        with self._writing() as db:
            db.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (key, kind, fingerprint, self.run_id or 0, now, now, items, tokens,
                        json.dumps(body, separators=(",", ":"))))
            if self.run_id is not None:
                db.execute("UPDATE runs SET generated = generated + 1 WHERE id=?",
                           (self.run_id,))

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    # What `tts-eval runs` shows and prunes ---------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT m.name, m.fingerprint, m.described, "
            "  COUNT(e.key), COALESCE(SUM(CASE WHEN e.kind='generation' THEN e.items END), 0), "
            "  COALESCE(SUM(e.tokens), 0) "
            "FROM models m LEFT JOIN entries e ON e.fingerprint = m.fingerprint "
            "GROUP BY m.fingerprint ORDER BY m.name, m.first_seen").fetchall()
        return [{"model": name, "fingerprint": fp, "described": json.loads(described),
                 "entries": entries, "samples": samples, "tokens": tokens}
                for name, fp, described, entries, samples, tokens in rows]

    def runs(self) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT id, started, finished, model, fingerprint, label, args, reused, generated "
            "FROM runs ORDER BY id").fetchall()
        return [{"id": rid, "started": started, "finished": finished, "model": model,
                 "fingerprint": fp, "label": label, "args": json.loads(args),
                 "reused": reused, "generated": generated}
                for rid, started, finished, model, fp, label, args, reused, generated in rows]

    def prune(self, models: Iterable[str] = (), unused_for_days: float | None = None,
              dry_run: bool = False) -> dict[str, int]:
        """Delete the entries of ``models`` (their names, as registered) and/or those not
        used for ``unused_for_days``; then reclaim the space."""
        models = list(models)
        unknown = [m for m in models
                   if self._db.execute("SELECT 1 FROM models WHERE name=?", (m,)).fetchone()
                   is None]
        if unknown:
            known = sorted({row["model"] for row in self.models()})
            raise StoreError(f"run store {self.directory} has no model {', '.join(unknown)}; "
                             f"it holds: {', '.join(known) or 'none'}")
        where, params = [], []
        if models:
            marks = ",".join("?" * len(models))
            where.append(f"fingerprint IN (SELECT fingerprint FROM models WHERE name IN "
                         f"({marks}))")
            params += models
        if unused_for_days is not None:
            where.append("used < ?")
            params.append(time.time() - unused_for_days * 86400)
        if not where:
            raise StoreError("tts-eval runs gc: say what to drop (--model NAME, "
                             "--unused-days N)")
        clause = " AND ".join(where)
        entries, tokens = self._db.execute(
            f"SELECT COUNT(*), COALESCE(SUM(tokens), 0) FROM entries WHERE {clause}",
            params).fetchone()
        if not dry_run:
            with self._writing() as db:
                db.execute(f"DELETE FROM entries WHERE {clause}", params)
                if models:  # a model's row goes with its last entry, not before
                    db.execute(f"DELETE FROM models WHERE name IN ({marks}) AND fingerprint "
                               "NOT IN (SELECT fingerprint FROM entries)", models)
            if entries:
                self._db.execute("VACUUM")
        return {"entries": int(entries), "tokens": int(tokens)}

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.glob(FILE_NAME + "*"))


def _short(fingerprint: str) -> str:
    return fingerprint[:12]
