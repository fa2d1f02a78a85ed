"""The catalog: an SQLite database of what is on which tape (or folder), and where.

The tapes stay the source of truth (each carries its own manifests or LTFS
index); the catalog is what lets a DIT or a post house answer "where is
A001C007?" without loading a cartridge, and it can always be rebuilt from the
tapes (`jobs.catalog_import.import_tape`, which writes through this store).

Tables (schema.py): destinations (tapes and folders), jobs (write sessions),
files (path, size, mtime) with file_hashes (algorithm, hex), copies (a file on
a destination, written by a job, at a position), verifications (each read-back
of a copy). A file is identified by path, size, mtime and hashes: the same clip
written to three tapes is one file with three copies; a different file that
happens to share path, size and mtime (its hash differs) is another file.

Names that are not UTF-8 (a source folder or file named in another encoding,
held as surrogate escapes as os.fsdecode gives them) are stored losslessly as
their bytes (an SQLite BLOB; NamesConnection) and read back as the same str.

Default location: `$LTO_ARCHIVE_CATALOG`, else
`$XDG_DATA_HOME/lto-archive/catalog.sqlite` (`~/.local/share/...`).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..manifest import iso, utc_now
from ..folder_volume import STABLE_KINDS
from . import pg
from .schema import SCHEMA_VERSION, CatalogError, Connection, check_version, current_version, migrate

if TYPE_CHECKING:
    from ..folder_volume import FolderVolume

ENV_VAR = "LTO_ARCHIVE_CATALOG"
BUSY_TIMEOUT_S = 30.0


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//)?")
URL_SCHEMES = ("postgresql", "postgres", "sqlite")


def data_home() -> Path:
    """`$XDG_DATA_HOME/lto-archive` (~/.local/share/lto-archive by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "lto-archive"


def catalog_target(spec: str | os.PathLike[str] | None) -> tuple[str, Path | str]:
    """('sqlite', path) or ('postgresql', url) for a `--catalog` value (None: `$LTO_ARCHIVE_CATALOG`, else
    the default file). A URL is `scheme://...` (or `sqlite:PATH`); an unknown scheme is a usage error,
    never a folder named after it. A path is anything else: `./postgresql:x` is a file."""
    if spec is None:
        spec = os.environ.get(ENV_VAR) or str(data_home() / "catalog.sqlite")
    if not isinstance(spec, str):
        return "sqlite", Path(spec).expanduser()
    m = _URL.match(spec)
    if m is None or (m.group(2) is None and m.group(1).lower() != "sqlite"):
        return "sqlite", Path(spec).expanduser()
    scheme = m.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        return "postgresql", spec
    if scheme == "sqlite":
        rest = spec[len("sqlite:"):]
        if rest.startswith("//"):
            rest = rest[2:]                 # sqlite:///abs/path (three slashes) or sqlite://rel/path
        if not rest:
            raise CatalogError(f"--catalog {spec!r}: say which file (sqlite:PATH or sqlite:///ABSOLUTE/PATH)")
        return "sqlite", Path(rest).expanduser()
    raise CatalogError(f"--catalog {pg.redact(spec)!r}: unknown kind of catalog {scheme!r}; give a file path, "
                       f"sqlite:PATH, or postgresql://user@host/database", catalog=pg.redact(spec))


def local_path(spec: str | os.PathLike[str] | None) -> Path:
    """The SQLite file a `--catalog` value names; for a PostgreSQL catalog, the local data folder's anchor
    (`<data home>/postgresql`: the copy logs go beside it, under `logs/`)."""
    kind, where = catalog_target(spec)
    return Path(where) if kind == "sqlite" else data_home() / "postgresql"


def default_path() -> Path:
    """`local_path` of the default catalog: the SQLite file `$LTO_ARCHIVE_CATALOG` names, else
    `$XDG_DATA_HOME/lto-archive/catalog.sqlite` (~/.local/share by default)."""
    return local_path(None)


def catalog_exists(spec: str | os.PathLike[str] | None = None) -> bool:
    """Whether there is a catalog to record into without making one: an SQLite file that exists, or a
    PostgreSQL server (opening it says whether it holds a catalog)."""
    return catalog_target(spec)[0] == "postgresql" or local_path(spec).exists()


def _merge_formats(old: str | None, new: str | None) -> str | None:
    names = {f for f in (old or "").split(",") if f} | {f for f in (new or "").split(",") if f}
    return ",".join(sorted(names)) or None


def _stored(value: Any) -> Any:
    """A str that SQLite cannot take as text (lone surrogates: bytes that were not UTF-8) as its bytes."""
    if type(value) is str and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:
                return value.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:   # a surrogate no file name gives (JSON "\\ud800"): read back escaped
                return value.encode("utf-8", "surrogatepass")
    return value


def _bound(args: Any) -> Any:
    if isinstance(args, dict):
        return {k: _stored(v) for k, v in args.items()}
    return [_stored(v) for v in args]


def _names_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Bytes stored for a name read back as the str they came from (the catalog has no other BLOBs)."""
    for v in row:
        if type(v) is bytes:
            return tuple(v.decode("utf-8", "surrogateescape") if type(v) is bytes else v for v in row)
    return row


class NamesConnection(sqlite3.Connection):
    """A connection whose statements take any str os.fsdecode can give (see the module's docstring)."""

    dialect = "sqlite"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row_factory = _names_row

    def table_names(self) -> set[str]:
        return {r[0] for r in super().execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                              "AND name NOT LIKE 'sqlite_%'")}

    def columns(self, table: str) -> list[str]:
        return [r[1] for r in super().execute(f"PRAGMA table_info({table})")]

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, _bound(parameters))
        except (OverflowError, sqlite3.InterfaceError, sqlite3.ProgrammingError) as exc:
            raise _unstorable(exc) from None

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, (_bound(p) for p in parameters))
        except (OverflowError, sqlite3.InterfaceError, sqlite3.ProgrammingError) as exc:
            raise _unstorable(exc) from None


def _unstorable(exc: Exception) -> Exception:
    """A value read from a damaged manifest or journal that SQLite cannot hold (a number past 64 bits, a
    list where a name belongs): damage of what is recorded, never a traceback. (Any other programming
    error stays what it is.)"""
    if isinstance(exc, sqlite3.ProgrammingError) and not str(exc).startswith("Error binding parameter"):
        return exc
    return CatalogError(f"a value cannot be recorded in the catalog ({exc}): the manifest or journal it comes "
                        "from is damaged")


def file_values(path: Any, size: Any, mtime: Any, hashes: Any) -> dict[str, str]:
    """A file's identity as the catalog keeps it, checked (values from a tape's manifest or a journal):
    its hashes lower-case; CatalogError naming the file when a value has the wrong type."""
    ok = isinstance(path, str) and isinstance(size, int) and isinstance(mtime, (str, type(None))) \
        and isinstance(hashes, (dict, type(None))) \
        and all(isinstance(a, str) and isinstance(h, str) for a, h in (hashes or {}).items())
    if not ok:
        raise CatalogError(f"the record of {str(path)[:200]!r} cannot be catalogued: a value has the wrong type "
                           "(size, mtime or hashes); the manifest or journal it comes from is damaged")
    return {a: h.lower() for a, h in (hashes or {}).items() if h}


class Catalog:
    """One open catalog. Use `Catalog.open(path)`; close it (or use `with`)."""

    def __init__(self, conn: Connection, path: Path, location: str | None = None) -> None:
        self.conn = conn
        self.path = path                        # SQLite: the file; PostgreSQL: the local data folder's anchor
        self.location = location or str(path)   # what messages name: the file, or the URL without its password
        self._depth = 0

    @property
    def dialect(self) -> str:
        return self.conn.dialect

    # --- opening ------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, create: bool = True,
             migrate_to: int | None = None) -> "Catalog":
        """Open (and, with `create`, make) the catalog `path` names (default: `default_path()`): an SQLite
        file (a path, or `sqlite:PATH`) or a PostgreSQL database (`postgresql://user@host/db`).

        An older catalog is upgraded in place; a newer one is refused with
        CatalogError. `create=False` refuses a catalog that does not exist yet
        (for commands that only read it). `migrate_to` stops at an older schema
        version (tests of upgrades).
        """
        kind, where = catalog_target(path)
        if kind == "postgresql":
            return cls._open_postgresql(str(where), create, migrate_to)
        return cls._open_sqlite(Path(where), create, migrate_to)

    @classmethod
    def _open_postgresql(cls, url: str, create: bool, migrate_to: int | None) -> "Catalog":
        conn = pg.connect(url)
        try:
            version = check_version(conn, pg.redact(url))
            if version == 0 and not create:
                raise CatalogError(f"the PostgreSQL database {pg.redact(url)} holds no catalog yet: record a job "
                                   "into it with --catalog, or copy one there with 'lto-archive catalog copy'",
                                   catalog=pg.redact(url))
            migrate(conn, migrate_to, path=pg.redact(url))
        except BaseException:
            conn.close()
            raise
        return cls(conn, local_path(url), pg.redact(url))

    @classmethod
    def _open_sqlite(cls, p: Path, create: bool, migrate_to: int | None) -> "Catalog":
        if not p.exists():
            if not create:
                raise CatalogError(f"there is no catalog at {p}: record a job into it with --catalog, or "
                                   f"rebuild it from a tape with 'lto-archive catalog import'", catalog=str(p))
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CatalogError(f"cannot create the catalog folder {p.parent}: {exc.strerror}",
                                   catalog=str(p)) from None
        elif p.is_dir():
            raise CatalogError(f"the catalog {p} is a folder; give the path of a .sqlite file", catalog=str(p))
        try:
            conn = sqlite3.connect(str(p), isolation_level=None, timeout=BUSY_TIMEOUT_S, factory=NamesConnection)
        except sqlite3.Error as exc:
            raise CatalogError(f"cannot open the catalog {p}: {exc}", catalog=str(p)) from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            check_version(conn, str(p))   # refuse what is not ours, or is newer, before changing anything
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                conn.execute("PRAGMA journal_mode = DELETE")   # e.g. a filesystem without shared memory
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -65536")     # 64 MiB: hash indexes take random inserts
            migrate(conn, migrate_to, path=str(p))
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise CatalogError(f"the catalog {p} cannot be used: {exc} (is it an lto-archive catalog?)",
                               catalog=str(p)) from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, p)

    @property
    def schema_version(self) -> int:
        return current_version(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (nested calls join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise CatalogError(f"the catalog {self.location} is busy or read-only: {exc}",
                               catalog=str(self.path)) from None
        self._depth = 1
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._depth = 0

    def _q(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, args)
        cols = [d[0] for d in cur.description or ()]
        return [dict(zip(cols, row)) for row in cur.fetchall()]

    # --- settings -----------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str | None) -> None:
        with self.transaction():
            if value is None:
                self.conn.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                self.conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) "
                                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # --- destinations -------------------------------------------------------------------
    def find_destination(self, *, barcode: str | None = None, volume_uuid: str | None = None,
                         folder: str | None = None, label: str | None = None) -> dict[str, Any] | None:
        for col, val in (("barcode", barcode), ("volume_uuid", volume_uuid), ("folder", folder), ("label", label)):
            if val:
                rows = self._q(f"SELECT * FROM destinations WHERE {col} = ?", (val,))
                if rows:
                    return rows[0]
        return None

    def destination(self, kind: str, *, label: str, barcode: str | None = None, volume_uuid: str | None = None,
                    folder: str | None = None, generation: str | None = None, fmt: str | None = None,
                    capacity: int | None = None, used: int | None = None) -> int:
        """The id of the destination these identify, made or brought up to date."""
        now = iso(utc_now())
        with self.transaction():
            row = self.find_destination(barcode=barcode, volume_uuid=volume_uuid, folder=folder, label=label)
            if row is None:
                cur = self.conn.execute(
                    "INSERT INTO destinations(kind, label, barcode, volume_uuid, generation, format, capacity, "
                    "used, folder, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (kind, label, barcode, volume_uuid, generation, _merge_formats(None, fmt), capacity, used,
                     folder, now, now))
                return int(cur.lastrowid)
            new_label = row["label"]
            if barcode and not row["barcode"] and self.find_destination(barcode=barcode) is None:
                new_barcode = barcode
                if new_label.startswith(("ltfs:", "device:")) and self.find_destination(label=barcode) is None:
                    new_label = barcode      # a cartridge first known by its volume UUID now has its barcode
            else:
                new_barcode = row["barcode"]
            new_uuid = row["volume_uuid"] or (volume_uuid if volume_uuid and
                                              self.find_destination(volume_uuid=volume_uuid) is None else None)
            self.conn.execute(
                "UPDATE destinations SET label = ?, barcode = ?, volume_uuid = ?, generation = coalesce(?, "
                "generation), format = ?, capacity = coalesce(?, capacity), used = coalesce(?, used), "
                "last_seen = ? WHERE id = ?",
                (new_label, new_barcode, new_uuid, generation, _merge_formats(row["format"], fmt), capacity, used,
                 now, row["id"]))
            return int(row["id"])

    def folder_destination(self, path: str, volume: "FolderVolume | None", fmt: str | None = None) -> int:
        """The id of the folder destination at `path` (absolute) on `volume`, made or brought up to date.

        Found by its volume and its path inside it when the volume's identity is
        stable (a shuttle drive mounted elsewhere later is the same destination),
        else by its path. Another disk mounted where a known folder was is another
        destination: its label (and `folder`) is 'PATH [volume id]'.
        """
        now = iso(utc_now())
        vid = volume.volume_id if volume is not None else None
        vpath = volume.path_in_volume if volume is not None else None
        with self.transaction():
            row = None
            if volume is not None and volume.stable and vpath:
                rows = self._q("SELECT * FROM destinations WHERE kind = 'folder' AND volume_id = ? AND "
                               "volume_path = ? ORDER BY id", (vid, vpath))
                row = rows[0] if rows else None
            label = path
            if row is None:
                row = self.find_destination(folder=path)
                if row is not None and (row["kind"] != "folder" or (
                        vid and row["volume_id"] and row["volume_id"] != vid and volume is not None
                        and volume.stable and row["volume_id"].split(":", 1)[0] in STABLE_KINDS)):
                    label = f"{path} [{vid}]"
                    row = self.find_destination(folder=label)
            if row is None:
                cur = self.conn.execute(
                    "INSERT INTO destinations(kind, label, format, folder, volume_id, volume_path, first_seen, "
                    "last_seen) VALUES ('folder', ?, ?, ?, ?, ?, ?, ?)",
                    (label, _merge_formats(None, fmt), label, vid, vpath, now, now))
                return int(cur.lastrowid)
            self.conn.execute(
                "UPDATE destinations SET format = ?, volume_id = coalesce(?, volume_id), "
                "volume_path = coalesce(?, volume_path), last_seen = ? WHERE id = ?",
                (_merge_formats(row["format"], fmt), vid, vpath, now, row["id"]))
            return int(row["id"])

    def set_location(self, tape: str, location: str) -> dict[str, Any]:
        """Set the free-text shelf location of a destination named by barcode, label or volume UUID."""
        row = self.find_destination(barcode=tape, volume_uuid=tape, label=tape)
        if row is None:
            raise CatalogError(f"no tape {tape!r} in the catalog {self.location} (see: lto-archive catalog tapes)",
                               tape=tape)
        with self.transaction():
            self.conn.execute("UPDATE destinations SET location = ? WHERE id = ?", (location, row["id"]))
        row["location"] = location
        return row

    def tapes(self, *, include_folders: bool = True) -> list[dict[str, Any]]:
        """Every destination with what the catalog knows is on it and when it was last verified."""
        where = "" if include_folders else "WHERE d.kind = 'tape'"
        rows = self._q(
            "SELECT d.kind, d.label, d.barcode, d.volume_uuid, d.generation, d.format, d.capacity, d.used, "
            "d.location, d.folder, d.volume_id, d.volume_path, d.first_seen, d.last_seen, "
            "(SELECT count(*) FROM jobs j WHERE j.destination_id = d.id) AS jobs, "
            "(SELECT count(*) FROM copies c WHERE c.destination_id = d.id) AS files, "
            "(SELECT coalesce(sum(f.size), 0) FROM copies c JOIN files f ON f.id = c.file_id "
            " WHERE c.destination_id = d.id) AS bytes, "
            "(SELECT max(v.at) FROM verifications v JOIN copies c ON c.id = v.copy_id "
            " WHERE c.destination_id = d.id) AS last_verified "
            f"FROM destinations d {where} ORDER BY d.kind DESC, d.label")
        return rows

    # --- jobs ---------------------------------------------------------------------------
    _JOB_FIELDS = ("tool", "format", "operator", "production", "host", "device", "started", "finished", "status",
                   "algorithms",
                   "sources", "record_size", "tape_file", "partition", "start_block", "queue_job")

    def job(self, session_id: str, destination_id: int, recorded_from: str, **fields: Any) -> int:
        """The id of the job with this session id, made or completed.

        What the job itself reported (`recorded_from='job'`) overrides; what was
        read back later ('tape', 'verify') only fills what is not known yet.
        """
        for key in ("algorithms", "sources"):
            if key in fields and not isinstance(fields[key], str):
                fields[key] = json.dumps(list(fields[key] or []), ensure_ascii=False)
        vals = {k: fields.get(k) for k in self._JOB_FIELDS}
        with self.transaction():
            row = self.conn.execute("SELECT id FROM jobs WHERE session_id = ?", (session_id,)).fetchone()
            if row is None:
                cols = ["session_id", "destination_id", "recorded_from"] + [k for k, v in vals.items() if v is not None]
                args = [session_id, destination_id, recorded_from] + [v for v in vals.values() if v is not None]
                cur = self.conn.execute(f"INSERT INTO jobs({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                        args)
                return int(cur.lastrowid)
            job_id = int(row[0])
            authoritative = recorded_from == "job"
            for k, v in vals.items():
                if v is None:
                    continue
                if authoritative:
                    self.conn.execute(f"UPDATE jobs SET {k} = ? WHERE id = ?", (v, job_id))
                else:
                    empty = "NULL" if k in ("record_size", "tape_file", "partition", "start_block", "queue_job") else "''"
                    cond = f"{k} IS NULL" if empty == "NULL" else f"({k} IS NULL OR {k} = '' OR {k} = '[]')"
                    self.conn.execute(f"UPDATE jobs SET {k} = ? WHERE id = ? AND {cond}", (v, job_id))
            if authoritative:
                self.conn.execute("UPDATE jobs SET recorded_from = 'job' WHERE id = ?", (job_id,))
            return job_id

    # --- files and copies ---------------------------------------------------------------
    def file(self, path: str, size: int, mtime: str, hashes: dict[str, str]) -> int:
        """The id of the file with this path, size, mtime and (compatible) hashes; new hashes are added."""
        if not self._depth:
            with self.transaction():
                return self.file(path, size, mtime, hashes)
        hashes = file_values(path, size, mtime, hashes)
        ex = self.conn.execute
        for (fid,) in ex("SELECT id FROM files WHERE path = ? AND size = ? AND mtime = ? ORDER BY id",
                         (path, size, mtime or "")).fetchall():
            known = dict(ex("SELECT algorithm, hex FROM file_hashes WHERE file_id = ?", (fid,)).fetchall())
            if any(known.get(a, h) != h for a, h in hashes.items()):
                continue        # same name, size and time, other content: another file
            self._add_hashes(fid, {a: h for a, h in hashes.items() if a not in known})
            return int(fid)
        name = path.rstrip("/").rsplit("/", 1)[-1]
        cur = ex("INSERT INTO files(path, name, size, mtime) VALUES (?, ?, ?, ?)", (path, name, size, mtime or ""))
        fid = int(cur.lastrowid)
        self._add_hashes(fid, hashes)
        return fid

    def _add_hashes(self, fid: int, hashes: dict[str, str]) -> None:
        if hashes:
            items = sorted(hashes.items())
            self.conn.execute("INSERT INTO file_hashes(file_id, algorithm, hex) VALUES "
                              + ", ".join(["(?, ?, ?)"] * len(items)), [v for a, h in items for v in (fid, a, h)])

    def copy(self, file_id: int, destination_id: int, job_id: int, *, tape_file: int | None = None,
             partition: int | None = None, block: int | None = None, block_offset: int | None = None,
             header_offset: int | None = None, status: str = "ok") -> int:
        """The id of this file's copy on this destination by this job; positions not known yet are filled in."""
        if not self._depth:
            with self.transaction():
                return self.copy(file_id, destination_id, job_id, tape_file=tape_file, partition=partition,
                                 block=block, block_offset=block_offset, header_offset=header_offset, status=status)
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO copies(file_id, destination_id, job_id, tape_file, partition, block, block_offset, "
            "header_offset, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (file_id, destination_id, job_id, tape_file, partition, block, block_offset, header_offset, status))
        if cur.rowcount == 1:
            return int(cur.lastrowid)
        cid = int(self.conn.execute("SELECT id FROM copies WHERE destination_id = ? AND job_id = ? AND file_id = ?",
                                    (destination_id, job_id, file_id)).fetchone()[0])
        self.conn.execute(
            "UPDATE copies SET tape_file = coalesce(tape_file, ?), partition = coalesce(partition, ?), "
            "block = coalesce(block, ?), block_offset = coalesce(block_offset, ?), "
            "header_offset = coalesce(header_offset, ?) WHERE id = ?",
            (tape_file, partition, block, block_offset, header_offset, cid))
        return cid

    def add_verification(self, copy_id: int, *, at: str, who: str, host: str, phase: str, result: str,
                         message: str = "") -> None:
        with self.transaction():
            self.conn.execute("INSERT INTO verifications(copy_id, at, who, host, phase, result, message) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)", (copy_id, at, who, host, phase, result, message))

    # --- whole-catalog views -------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {t: int(self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in ("destinations", "jobs", "files", "copies", "verifications")}

    def dump(self, *, verifications: bool = False) -> dict[str, Any]:
        """The whole catalog as plain data in a stable order, without row ids or first/last-seen times.

        Two catalogs holding the same knowledge dump equal, whatever order it was learned in
        (used to prove that a catalog rebuilt from the tapes equals the one the jobs wrote).
        """
        have = set(self.conn.columns("destinations"))
        extra = "".join(f", {c}" for c in ("volume_id", "volume_path") if c in have)   # schema 3 on
        dests = self._q("SELECT id, kind, label, barcode, volume_uuid, generation, format, capacity, used, "
                        f"location, folder{extra} FROM destinations ORDER BY label")
        label_of = {d.pop("id"): d["label"] for d in dests}
        jobs = self._q("SELECT j.*, d.label AS destination FROM jobs j JOIN destinations d ON d.id = j.destination_id "
                       "ORDER BY j.session_id")
        session_of = {}
        for j in jobs:
            session_of[j.pop("id")] = j["session_id"]
            j.pop("destination_id")
            j.pop("recorded_from")
            if not j.get("production"):
                j.pop("production", None)     # schema 11 on; none said is the same knowledge as before it
            if j.get("queue_job") is None:
                j.pop("queue_job", None)      # schema 12 on; likewise
            j["algorithms"] = json.loads(j["algorithms"] or "[]")
            j["sources"] = json.loads(j["sources"] or "[]")
        hashes: dict[int, dict[str, str]] = {}
        for fid, algo, hx in self.conn.execute("SELECT file_id, algorithm, hex FROM file_hashes"):
            hashes.setdefault(fid, {})[algo] = hx
        ver: dict[int, list[dict[str, Any]]] = {}
        if verifications:
            for v in self._q("SELECT copy_id, at, who, host, phase, result, message FROM verifications "
                             "ORDER BY at, id"):
                ver.setdefault(v.pop("copy_id"), []).append(v)
        copies: dict[int, list[dict[str, Any]]] = {}
        for c in self._q("SELECT * FROM copies"):
            out = {"destination": label_of[c["destination_id"]], "session_id": session_of[c["job_id"]],
                   "tape_file": c["tape_file"], "partition": c["partition"], "block": c["block"],
                   "block_offset": c["block_offset"], "header_offset": c["header_offset"], "status": c["status"]}
            if verifications:
                out["verifications"] = ver.get(c["id"], [])
            copies.setdefault(c["file_id"], []).append(out)
        files = []
        for f in self._q("SELECT id, path, size, mtime FROM files"):
            fid = f.pop("id")
            f["hashes"] = dict(sorted(hashes.get(fid, {}).items()))
            f["copies"] = sorted(copies.get(fid, []), key=lambda c: (c["destination"], c["session_id"]))
            files.append(f)
        files.sort(key=lambda f: (f["path"], f["size"], f["mtime"], sorted(f["hashes"].items())))
        return {"schema_version": SCHEMA_VERSION, "destinations": dests, "jobs": jobs, "files": files}

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only statement as dicts (column name -> value)."""
        return self._q(sql, args)


__all__ = ["Catalog", "default_path", "local_path", "catalog_exists", "data_home", "catalog_target", "ENV_VAR", "URL_SCHEMES", "CatalogError"]
