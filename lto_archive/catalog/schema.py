"""The catalog's schema and its migrations.

A catalog records the version of its schema in the `schema_version` table
(one row per migration applied, with when and what). `MIGRATIONS` is the
ordered list of steps; each runs in one transaction together with its
`schema_version` row, so a catalog is always at a version, never between two.
Opening an older catalog applies the missing steps; opening a catalog made
by a newer lto-archive is refused (this version cannot know what the newer
tables mean, and must not write rows they would contradict).

Rules for new steps: append, never edit a released step; add columns with
defaults (old rows stay valid); copy data forward in the same step when a
table must be rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ExitCode, LtoArchiveError
from ..manifest import iso, utc_now


class CatalogError(LtoArchiveError):
    """The catalog cannot be opened or used (newer schema, not a catalog, locked, damaged)."""

    exit_code = ExitCode.USAGE


DIALECT_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class Connection(Protocol):
    """What the catalog needs of a database connection: SQLite's own (store.NamesConnection), or
    PostgreSQL's taking the same statements (pg.PgConnection)."""

    dialect: str

    def execute(self, sql: str, parameters: Any = (), /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    def table_names(self) -> set[str]: ...

    def columns(self, table: str) -> list[str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


_V1 = (
    # where copies live: a cartridge (kind 'tape') or a folder on disk (kind 'folder')
    """CREATE TABLE destinations (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('tape', 'folder')),
        label        TEXT NOT NULL UNIQUE,  -- barcode, 'ltfs:<uuid>', 'device:<name>' or the folder path
        barcode      TEXT UNIQUE,
        volume_uuid  TEXT UNIQUE,           -- LTFS volume UUID
        generation   TEXT,                  -- LTO-9 ...
        format       TEXT,                  -- formats seen on it: 'ltfs', 'tar', 'cpio,tar' ...
        capacity     INTEGER,               -- bytes, native
        used         INTEGER,               -- bytes, the drive's estimate when last seen (one-partition media)
        location     TEXT NOT NULL DEFAULT '',   -- free text: 'Shelf 3, box 12', 'sent to lab 2026-01-04'
        folder       TEXT UNIQUE,           -- kind 'folder': its absolute path
        first_seen   TEXT NOT NULL,
        last_seen    TEXT NOT NULL
    )""",
    # one write session (an archive, an LTFS session), or a pseudo-job for what a tape holds without one
    """CREATE TABLE jobs (
        id             INTEGER PRIMARY KEY,
        session_id     TEXT NOT NULL UNIQUE,
        destination_id INTEGER NOT NULL REFERENCES destinations(id),
        tool           TEXT NOT NULL DEFAULT '',
        format         TEXT NOT NULL DEFAULT '',
        operator       TEXT NOT NULL DEFAULT '',
        host           TEXT NOT NULL DEFAULT '',
        device         TEXT NOT NULL DEFAULT '',
        started        TEXT NOT NULL DEFAULT '',
        finished       TEXT NOT NULL DEFAULT '',
        status         TEXT NOT NULL DEFAULT '',
        algorithms     TEXT NOT NULL DEFAULT '[]',   -- JSON list
        sources        TEXT NOT NULL DEFAULT '[]',   -- JSON list
        record_size    INTEGER,
        tape_file      INTEGER,
        partition      INTEGER,
        start_block    INTEGER,
        recorded_from  TEXT NOT NULL DEFAULT ''      -- 'job', 'tape', 'verify': how the catalog learned it
    )""",
    # one file's content: the same clip on three tapes is one row here and three copies
    """CREATE TABLE files (
        id     INTEGER PRIMARY KEY,
        path   TEXT NOT NULL,       -- relative path as archived ('A001_C007/CLIPS/A001C007_x.mxf')
        name   TEXT NOT NULL,       -- its last component, for name searches
        size   INTEGER NOT NULL,
        mtime  TEXT NOT NULL DEFAULT ''   -- ISO 8601 UTC, as in the manifest
    )""",
    "CREATE INDEX files_path ON files(path, size, mtime)",
    "CREATE INDEX files_name ON files(name)",
    "CREATE INDEX files_mtime ON files(mtime)",
    """CREATE TABLE file_hashes (
        file_id    INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        algorithm  TEXT NOT NULL,
        hex        TEXT NOT NULL,   -- lowercase
        PRIMARY KEY (file_id, algorithm)
    ) WITHOUT ROWID""",
    "CREATE INDEX file_hashes_hex ON file_hashes(hex)",
    # a file on a destination, written by a job, at a position
    """CREATE TABLE copies (
        id             INTEGER PRIMARY KEY,
        file_id        INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        destination_id INTEGER NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
        job_id         INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        tape_file      INTEGER,     -- TAR/CPIO: the tape file (archive) number
        partition      INTEGER,
        block          INTEGER,     -- the record holding its (first) header / its first data block (LTFS)
        block_offset   INTEGER,     -- byte offset of the header in that record
        header_offset  INTEGER,     -- byte offset of the header in the tape file
        status         TEXT NOT NULL DEFAULT 'ok',   -- the write's status: ok, changed, read-error, unproven
        UNIQUE (destination_id, job_id, file_id)
    )""",
    "CREATE INDEX copies_file ON copies(file_id)",
    "CREATE INDEX copies_job ON copies(job_id)",
)

_V2 = (
    # every read-back of a copy: verify, restore (which verifies too)
    """CREATE TABLE verifications (
        id       INTEGER PRIMARY KEY,
        copy_id  INTEGER NOT NULL REFERENCES copies(id) ON DELETE CASCADE,
        at       TEXT NOT NULL,
        who      TEXT NOT NULL DEFAULT '',
        host     TEXT NOT NULL DEFAULT '',
        phase    TEXT NOT NULL DEFAULT 'verify',  -- verify, restore
        result   TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'unproven')),
        message  TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX verifications_copy ON verifications(copy_id, at)",
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

_V3 = (
    # folder destinations: the filesystem volume they are on (lto_archive/folder_volume.py), so that two
    # folders of one disk are not two copies, and a disk mounted elsewhere later is the same destination
    "ALTER TABLE destinations ADD COLUMN volume_id TEXT",      # 'fs-uuid:...', 'fsid:...', 'device:M:m'
    "ALTER TABLE destinations ADD COLUMN volume_path TEXT",    # the folder inside that filesystem ('/DAY1')
    "CREATE INDEX destinations_volume ON destinations(volume_id, volume_path)",
)

_V4 = (
    # a job that spans cartridges (lto_archive/span): one row per volume, i.e. per cartridge, in set order
    """CREATE TABLE span_volumes (
        set_id             TEXT NOT NULL,
        sequence           INTEGER NOT NULL,      -- 1, 2, ... in the order the cartridges were written
        job_id             INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,   -- the volume's session
        destination_id     INTEGER NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
        span_job           TEXT NOT NULL DEFAULT '',   -- the job all volumes belong to
        last               INTEGER NOT NULL DEFAULT 0, -- 1: the set's last volume
        data_tape_file     INTEGER,
        manifest_tape_file INTEGER,
        PRIMARY KEY (set_id, sequence)
    )""",
    "CREATE INDEX span_volumes_job ON span_volumes(job_id)",
    # a copy that is one part of a file split across cartridges (the file row is the whole file)
    "ALTER TABLE copies ADD COLUMN part_number INTEGER",
    "ALTER TABLE copies ADD COLUMN part_offset INTEGER",
    "ALTER TABLE copies ADD COLUMN part_length INTEGER",
)

_V5 = (
    # the chain of custody (catalog/custody.py, lto_archive/chain.py): one row per event, hash-linked
    """CREATE TABLE custody (
        seq      INTEGER PRIMARY KEY,       -- 1, 2, ... gapless
        at       TEXT NOT NULL,
        event    TEXT NOT NULL,             -- write, verify, restore, location, checkpoint, ...
        subject  TEXT NOT NULL,             -- a barcode, a folder, a session id, 'catalog'
        data     TEXT NOT NULL,             -- JSON
        prev     TEXT NOT NULL,             -- the previous entry's hash (64 zeros for the first)
        hash     TEXT NOT NULL UNIQUE       -- SHA-256 of the canonical JSON of the other fields
    )""",
    "CREATE INDEX custody_subject ON custody(subject, seq)",
)

_V6 = (
    # audits (catalog/audits.py, lto_archive/audit): the policy, each audit of a cartridge, each restore drill
    """CREATE TABLE audit_policy (
        id              INTEGER PRIMARY KEY CHECK (id = 1),   -- one row: the catalog's policy
        full_months     INTEGER NOT NULL DEFAULT 12,   -- every cartridge fully verified at least this often
        sample_months   INTEGER NOT NULL DEFAULT 3,    -- in between, a sample this often
        sample_files    INTEGER NOT NULL DEFAULT 5,    -- files read per sample
        drill_files     INTEGER NOT NULL DEFAULT 2,    -- files restored per drill (0: no drills)
        grace_days      INTEGER NOT NULL DEFAULT 30,   -- due this long before it is overdue
        changed         TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE audits (
        id              INTEGER PRIMARY KEY,
        destination_id  INTEGER NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
        at              TEXT NOT NULL,              -- the audit's clock (UTC)
        kind            TEXT NOT NULL CHECK (kind IN ('full', 'sample')),
        reason          TEXT NOT NULL DEFAULT '',   -- due, overdue, health, never-proven, asked
        result          TEXT NOT NULL CHECK (result IN ('ok', 'failed', 'incomplete', 'error')),
        files           INTEGER NOT NULL DEFAULT 0, -- files read back
        failed          INTEGER NOT NULL DEFAULT 0,
        seconds         REAL NOT NULL DEFAULT 0,
        device          TEXT NOT NULL DEFAULT '',
        seed            INTEGER,                    -- the sample's and the drill's random choice
        message         TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX audits_destination ON audits(destination_id, at)",
    """CREATE TABLE audit_drills (
        id        INTEGER PRIMARY KEY,
        audit_id  INTEGER NOT NULL REFERENCES audits(id) ON DELETE CASCADE,
        path      TEXT NOT NULL,
        bytes     INTEGER NOT NULL DEFAULT 0,
        seconds   REAL NOT NULL DEFAULT 0,          -- locate, read, write and compare this one file
        result    TEXT NOT NULL CHECK (result IN ('ok', 'failed')),
        message   TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX audit_drills_audit ON audit_drills(audit_id)",
)

HEALTH_V7 = (
    # cartridge and drive health (catalog/health.py): one reading per cartridge per load. IF NOT EXISTS: the
    # store also runs these for a catalog a build without step 7 took past version 7 (catalog/health.py)
    """CREATE TABLE IF NOT EXISTS health_readings (
        id                  INTEGER PRIMARY KEY,
        label               TEXT NOT NULL,        -- the barcode, else 'device:<name>'
        barcode             TEXT,
        device              TEXT NOT NULL,        -- the drive that read it
        read_at             TEXT NOT NULL,
        generation          TEXT,
        load_count          INTEGER,
        mb_written          INTEGER,              -- lifetime MiB (cartridge memory or page 0x17)
        mb_read             INTEGER,
        remaining_mb        INTEGER,
        capacity_mb         INTEGER,
        corrected_errors    INTEGER NOT NULL DEFAULT 0,
        uncorrected_errors  INTEGER NOT NULL DEFAULT 0,
        tapealert           TEXT NOT NULL DEFAULT '',   -- active flags, comma separated
        reading             TEXT NOT NULL         -- the whole reading as JSON (pages, notes)
    )""",
    "CREATE INDEX IF NOT EXISTS health_label ON health_readings(label, read_at)",
)

_V8 = (
    # migration (lto_archive/migration, catalog/lineage.py): one row per source cartridge moved to a target
    """CREATE TABLE migrations (
        id             INTEGER PRIMARY KEY,
        at             TEXT NOT NULL,
        source_id      INTEGER NOT NULL REFERENCES destinations(id),   -- the old cartridge
        target_id      INTEGER NOT NULL REFERENCES destinations(id),   -- the new one
        status         TEXT NOT NULL CHECK (status IN ('proven', 'failed')),
        files          INTEGER NOT NULL DEFAULT 0,
        bytes          INTEGER NOT NULL DEFAULT 0,
        sessions       TEXT NOT NULL DEFAULT '[]',   -- JSON: [[old session id, new session id], ...]
        who            TEXT NOT NULL DEFAULT '',
        host           TEXT NOT NULL DEFAULT '',
        message        TEXT NOT NULL DEFAULT ''
    )""",
    # the new copy derives from the old one
    """CREATE TABLE copy_lineage (
        copy_id        INTEGER NOT NULL REFERENCES copies(id) ON DELETE CASCADE,   -- the new copy
        derived_from   INTEGER NOT NULL REFERENCES copies(id) ON DELETE CASCADE,   -- the copy it was read from
        migration_id   INTEGER NOT NULL REFERENCES migrations(id) ON DELETE CASCADE,
        PRIMARY KEY (copy_id, derived_from)
    ) WITHOUT ROWID""",
    "CREATE INDEX copy_lineage_from ON copy_lineage(derived_from)",
    # a cartridge whose every file was migrated and proven elsewhere: kept (nothing is deleted), superseded
    """CREATE TABLE superseded (
        destination_id INTEGER PRIMARY KEY REFERENCES destinations(id) ON DELETE CASCADE,
        by_id          INTEGER NOT NULL REFERENCES destinations(id),
        migration_id   INTEGER NOT NULL REFERENCES migrations(id),
        at             TEXT NOT NULL
    )""",
)

_V9 = (
    # jobs queued across nodes (api/queue.py, on PostgreSQL through procrastinate): who ran each, how far
    # it got, and what it gave; the queue's own state (todo, doing, ...) lives in procrastinate's tables
    """CREATE TABLE queued_jobs (
        job_id     INTEGER PRIMARY KEY,       -- procrastinate's job id
        kind       TEXT NOT NULL,             -- write, verify, restore
        args       TEXT NOT NULL,             -- JSON: what was submitted
        node       TEXT NOT NULL DEFAULT '',  -- the worker that ran it last
        attempt    INTEGER NOT NULL DEFAULT 0,
        status     TEXT NOT NULL,             -- running, ok, incomplete, failed, ...
        progress   TEXT NOT NULL DEFAULT '{}',  -- JSON: bytes and files done and total, the current file
        result     TEXT NOT NULL DEFAULT '{}',  -- JSON: the job's result (to_dict) or its error
        started    TEXT NOT NULL,
        finished   TEXT
    )""",
)

_V10 = (
    # the web view's local accounts (lto_archive/web): scrypt password hashes, one role each
    """CREATE TABLE web_users (
        name      TEXT PRIMARY KEY,
        pw_hash   TEXT NOT NULL,             -- scrypt$n$r$p$salt_hex$hash_hex
        role      TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        created   TEXT NOT NULL
    )""",
)

_V11 = (
    # the production a job was written for (write --production): search and the web view find footage by it
    "ALTER TABLE jobs ADD COLUMN production TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX jobs_production ON jobs(production)",
)

_V12 = (
    # the queued job a write session was (api/queue.py): a retried job finds what an earlier attempt recorded
    "ALTER TABLE jobs ADD COLUMN queue_job INTEGER",
    "CREATE INDEX jobs_queue_job ON jobs(queue_job)",
)

_V13 = (
    # leases of drives, cartridges and robots taken by queued jobs (catalog/leases.py): each taken, given back,
    # or lapsed (its node died: the next holder says so), in the order they happened (the id)
    """CREATE TABLE lease_events (
        id        INTEGER PRIMARY KEY,
        resource  TEXT NOT NULL,             -- 'drive:LIBRARY:0', 'cartridge:BARCODE', 'robot:LIBRARY'
        event     TEXT NOT NULL CHECK (event IN ('taken', 'given back', 'lapsed')),
        node      TEXT NOT NULL DEFAULT '',
        job_id    INTEGER,                   -- the queued job that held it
        at        TEXT NOT NULL
    )""",
    "CREATE INDEX lease_events_resource ON lease_events(resource, id)",
    # where each cartridge is, as the nodes saw their libraries (api/queue.py): submit routes a job to the
    # queue of the library that holds its cartridge
    """CREATE TABLE cartridge_places (
        barcode   TEXT PRIMARY KEY,
        library   TEXT NOT NULL,             -- the library's name, as its nodes give it (worker --library-name)
        place     TEXT NOT NULL DEFAULT '',  -- 'slot 3', 'drive 0'
        node      TEXT NOT NULL DEFAULT '',  -- the node that saw it there
        seen      TEXT NOT NULL
    )""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "destinations, jobs, files, file hashes, copies", _V1),
    Migration(2, "verifications; settings", _V2),
    Migration(3, "folder destinations: filesystem volume identity", _V3),
    Migration(4, "span sets: cartridges of a job that spans several; parts of split files", _V4),
    Migration(5, "chain of custody: hash-linked events", _V5),
    Migration(6, "audits: the policy, each audit of a cartridge, restore drills", _V6),
    Migration(7, "cartridge and drive health: one reading per cartridge per load", HEALTH_V7),
    Migration(8, "migration: cartridges moved and proven, copy lineage, superseded sources", _V8),
    Migration(9, "jobs queued across nodes: node, progress and result of each", _V9),
    Migration(10, "the web view's local accounts and roles", _V10),
    Migration(11, "jobs: the production they were written for", _V11),
    Migration(12, "jobs: the queued job a session was written for", _V12),
    Migration(13, "queued jobs: leases of drives, cartridges and robots; where each cartridge is", _V13),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version      INTEGER PRIMARY KEY,
    description  TEXT NOT NULL,
    applied      TEXT NOT NULL
)"""


def _table_names(conn: Connection) -> set[str]:
    if hasattr(conn, "table_names"):
        return conn.table_names()
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "   # a bare sqlite3
                                       "AND name NOT LIKE 'sqlite_%'")}


def current_version(conn: Connection) -> int:
    """The catalog's schema version; 0 for an empty database."""
    tables = _table_names(conn)
    if "schema_version" not in tables:
        if tables:
            raise CatalogError(f"this {DIALECT_NAMES[getattr(conn, 'dialect', 'sqlite')]} database is not an lto-archive catalog (it has "
                               "tables but no schema_version): refusing to touch it")
        return 0
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def check_version(conn: Connection, path: str = "") -> int:
    """The catalog's version; CatalogError when a newer lto-archive made it (nothing is changed)."""
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        where = f" {path}" if path else ""
        raise CatalogError(
            f"the catalog{where} has schema version {version}, made by a newer lto-archive; this one "
            f"knows version {SCHEMA_VERSION} at most: upgrade lto-archive (the catalog was not changed)",
            catalog=path, version=version, supported=SCHEMA_VERSION)
    return version


def migrate(conn: Connection, target: int | None = None, *, path: str = "") -> int:
    """Bring the catalog to `target` (default: the newest this version knows); return the version.

    The connection must be in autocommit mode (isolation_level=None): each step
    runs in its own BEGIN IMMEDIATE ... COMMIT, and rolls back whole on error.
    """
    target = SCHEMA_VERSION if target is None else target
    version = check_version(conn, path)
    for step in MIGRATIONS:
        if step.version <= version or step.version > target:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            now_at = current_version(conn)   # another process may have migrated while we waited
            if now_at >= step.version:
                conn.execute("COMMIT")
                version = now_at
                continue
            conn.execute(_VERSION_TABLE)
            for sql in step.statements:
                conn.execute(sql)
            conn.execute("INSERT INTO schema_version(version, description, applied) VALUES (?, ?, ?)",
                         (step.version, step.description, iso(utc_now())))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = step.version
    return version


__all__ = ["CatalogError", "Connection", "DIALECT_NAMES", "Migration", "MIGRATIONS", "SCHEMA_VERSION", "current_version", "check_version", "migrate"]
