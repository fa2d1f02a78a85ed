"""Catalog schema migrations: a fresh catalog, an upgrade that keeps the data, a newer catalog refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lto_archive.catalog import Catalog, CatalogError, default_path, record_write, search
from lto_archive.catalog import schema
from lto_archive.catalog.schema import MIGRATIONS, SCHEMA_VERSION, Migration, migrate
from lto_archive.errors import ExitCode

from .conftest import Shoot


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_fresh_catalog_has_every_step_wal_and_foreign_keys(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "dir" / "catalog.sqlite"
    with Catalog.open(p) as cat:
        assert cat.schema_version == SCHEMA_VERSION == MIGRATIONS[-1].version
        rows = cat.conn.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS] == sorted({m.version for m in MIGRATIONS})
        assert cat.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):     # a copy of no file, on no tape
            cat.conn.execute("INSERT INTO copies(file_id, destination_id, job_id) VALUES (99, 98, 97)")
        indexes = {r[0] for r in cat.conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"file_hashes_hex", "files_name", "files_path", "copies_file"} <= indexes
    assert {"destinations", "jobs", "files", "file_hashes", "copies", "verifications", "settings",
            "schema_version"} <= tables(p)
    with Catalog.open(p) as cat:                         # opening again changes nothing
        assert cat.conn.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


def test_upgrade_from_version_1_keeps_the_data(tmp_path: Path, shoot: Shoot) -> None:
    p = tmp_path / "old.sqlite"
    with Catalog.open(p, migrate_to=1) as old:
        assert old.schema_version == 1
        assert "verifications" not in tables(p)
        for r in shoot.results:                           # an old lto-archive recorded these jobs
            record_write(old, r, None)
        before = old.dump()
    with Catalog.open(p) as cat:
        assert cat.schema_version == SCHEMA_VERSION
        after = cat.dump()
        assert {(d.pop("volume_id"), d.pop("volume_path")) for d in after["destinations"]} == {(None, None)}
        assert after == before
        assert {"verifications", "settings"} <= tables(p)
        hits = search(cat, "A001C007_210315_R1AB.mxf")
        assert len(hits) == 1 and len(hits[0].copies) == 3


def test_newer_catalog_is_refused_untouched(tmp_path: Path) -> None:
    p = tmp_path / "new.sqlite"
    Catalog.open(p).close()
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA journal_mode = DELETE")        # as a newer version might leave it
    conn.execute("INSERT INTO schema_version VALUES (?, 'from the future', '2040-01-01')", (SCHEMA_VERSION + 5,))
    conn.commit()
    conn.close()
    raw = p.read_bytes()
    with pytest.raises(CatalogError) as err:
        Catalog.open(p)
    msg = err.value.message
    assert f"schema version {SCHEMA_VERSION + 5}" in msg and "newer lto-archive" in msg and "upgrade" in msg
    assert err.value.exit_code == ExitCode.USAGE
    assert p.read_bytes() == raw and not Path(f"{p}-wal").exists()


def test_not_a_catalog_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (n INTEGER)")
    with pytest.raises(CatalogError, match="not an lto-archive catalog"):
        Catalog.open(other)
    assert tables(other) == {"invoices"}
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(CatalogError, match="cannot be used"):
        Catalog.open(junk)
    with pytest.raises(CatalogError, match="there is no catalog"):
        Catalog.open(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(CatalogError, match="is a folder"):
        Catalog.open(tmp_path)


def test_a_failing_step_rolls_back_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "c.sqlite"
    Catalog.open(p).close()
    bad = Migration(SCHEMA_VERSION + 1, "half good", ("CREATE TABLE added (x)", "CREATE TABLE broken ("))
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS, bad))
    conn = sqlite3.connect(p, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, SCHEMA_VERSION + 1)
    assert schema.current_version(conn) == SCHEMA_VERSION
    assert "added" not in tables(p)
    conn.close()


def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LTO_ARCHIVE_CATALOG", str(tmp_path / "env.sqlite"))
    assert default_path() == tmp_path / "env.sqlite"
    monkeypatch.delenv("LTO_ARCHIVE_CATALOG")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_path() == tmp_path / "xdg" / "lto-archive" / "catalog.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "lto-archive" / "catalog.sqlite"
    with Catalog.open() as cat:
        assert cat.path == default_path() and cat.path.exists()
