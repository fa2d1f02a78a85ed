"""The catalog on PostgreSQL (a real throw-away server, tests/pg_helpers.py): URLs and paths, the same
schema and migrations, `catalog copy` without duplicates, `catalog migrate`, and several processes
writing at once without losing or duplicating a row."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive.catalog import (MIGRATIONS, SCHEMA_VERSION, Catalog, CatalogError, catalog_target, copy_catalog,
                                 uncovered_tables)
from lto_archive.catalog.custody import append as custody_append
from lto_archive.catalog.custody import entries as custody_entries
from lto_archive.catalog.pg import glob_regex, translate
from lto_archive.chain import verify_chain
from lto_archive_cli.main import cli

from .conftest import Shoot


# ------------------------------------------------------------------------ URLs and paths
def test_a_url_is_never_a_path_and_a_path_never_a_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert catalog_target("postgresql://u@h/db") == ("postgresql", "postgresql://u@h/db")
    assert catalog_target("postgres://u@h:5433/db") == ("postgresql", "postgres://u@h:5433/db")
    assert catalog_target("sqlite:rel/c.sqlite") == ("sqlite", Path("rel/c.sqlite"))
    assert catalog_target("sqlite:///abs/c.sqlite") == ("sqlite", Path("/abs/c.sqlite"))
    assert catalog_target("./postgresql:x") == ("sqlite", Path("postgresql:x"))
    assert catalog_target("postgresql:x") == ("sqlite", Path("postgresql:x"))      # no //: a file name
    assert catalog_target(Path("postgresql://odd")) == ("sqlite", Path("postgresql:/odd"))
    for bad in ("mysql://u@h/db", "https://example.com/c", "Postgresl://typo/db"):
        with pytest.raises(CatalogError) as err:
            catalog_target(bad)
        assert "unknown kind of catalog" in err.value.message and err.value.exit_code == 2
    res = CliRunner().invoke(cli, ["catalog", "tapes", "--catalog", "mysql://me:secret@h/db"])
    assert res.exit_code == 2 and "unknown kind of catalog 'mysql'" in res.output and "secret" not in res.output
    assert list(tmp_path.iterdir()) == []          # no folder named after the scheme, no file


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["catalog", "tapes", "--catalog", "postgresql://me:secret@127.0.0.1:1/db"])
    assert res.exit_code == 2 and "cannot open the catalog postgresql://me:***@127.0.0.1:1/db" in res.output
    assert "secret" not in res.output and "Traceback" not in res.output


def test_statements_in_postgresql_spelling() -> None:
    text, globs = translate("SELECT id FROM files WHERE lower(name) GLOB ? AND size = ? AND x LIKE 'a%' "
                            "AND instr(path, ?) > 0")
    assert text == ("SELECT id FROM files WHERE lower(name) ~ %s AND size = %s AND x LIKE 'a%%' "
                    "AND strpos(path, %s) > 0") and globs == (0,)
    assert translate("INSERT OR IGNORE INTO t(a) VALUES (?)")[0] == "INSERT INTO t(a) VALUES (%s) ON CONFLICT DO NOTHING"
    assert translate("SELECT '?' FROM t WHERE a = ?")[0] == "SELECT '?' FROM t WHERE a = %s"
    assert glob_regex("A001C0?7*.mxf") == "^A001C0.7.*\\.mxf$"
    assert glob_regex("[^ab]x[]c]") == "^[^ab]x[\\]c]$" and glob_regex("a[b") == "$^"


def test_glob_means_on_postgresql_what_it_means_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    names = ["A001C007.mxf", "a001c007.mxf", "A001C017.mxf", "A001C007_x.mxf", "B.mov", "[odd].mov", "a.b", "axb"]
    patterns = ["A001C0?7.mxf", "*C007*", "[AB]*", "[^A]*", "a.b", "*[]]*", "a?b", "*.mov", "[a-z]*"]
    found = {}
    for url in (str(tmp_path / "c.sqlite"), pg_url):
        with Catalog.open(url) as cat:
            for i, n in enumerate(names):
                cat.file(n, i, "", {})
            found[url] = {p: sorted(r[0] for r in cat.conn.execute("SELECT path FROM files WHERE path GLOB ?", (p,)))
                          for p in patterns}
    sqlite_found, pg_found = found.values()
    assert sqlite_found == pg_found and sqlite_found["*C007*"] == ["A001C007.mxf", "A001C007_x.mxf"]


# ------------------------------------------------------------------------ schema and migrations
def test_same_migrations_on_both_engines_and_catalog_migrate(pg_url: str) -> None:
    with Catalog.open(pg_url, migrate_to=3) as cat:
        assert cat.schema_version == 3 and "span_volumes" not in cat.conn.table_names()
    res = CliRunner().invoke(cli, ["catalog", "migrate", "--catalog", pg_url, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["engine"] == "postgresql" and doc["from_version"] == 3 and doc["version"] == SCHEMA_VERSION
    with Catalog.open(pg_url) as cat:
        assert cat.schema_version == SCHEMA_VERSION == MIGRATIONS[-1].version
        rows = cat.conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
        assert [r[0] for r in rows] == [m.version for m in MIGRATIONS]
        assert uncovered_tables(cat) == set()     # catalog copy knows every table of the schema
    again = json.loads(CliRunner().invoke(cli, ["catalog", "migrate", "--catalog", pg_url, "--json"]).output)
    assert again["upgraded"] is False


def test_a_newer_catalog_is_refused_unchanged(pg_url: str) -> None:
    with Catalog.open(pg_url) as cat:
        cat.conn.execute("INSERT INTO schema_version(version, description, applied) VALUES (?, ?, ?)",
                         (SCHEMA_VERSION + 1, "from the future", "2030-01-01T00:00:00Z"))
    with pytest.raises(CatalogError) as err:
        Catalog.open(pg_url)
    assert "made by a newer lto-archive" in err.value.message


# ------------------------------------------------------------------------ catalog copy
def test_catalog_copy_round_trips_exactly_and_twice_changes_nothing(shoot: Shoot, tmp_path: Path,
                                                                     request: pytest.FixtureRequest) -> None:
    """The shoot's catalog (on either engine) copied to the other engine and back: the same knowledge."""
    src = shoot.catalog
    custody_append(src, "location", "TAR001L9", {"location": "Shelf 3"})
    other = str(tmp_path / "copy.sqlite") if src.dialect == "postgresql" else request.getfixturevalue("pg_url")
    with Catalog.open(other) as dst:
        first = copy_catalog(src, dst)
        assert first.added["files"] == src.counts()["files"]
        assert first.added["custody"] == len(list(custody_entries(src))) > 1
        assert dst.dump(verifications=True) == src.dump(verifications=True)
        assert list(custody_entries(dst)) == list(custody_entries(src))
        counts = dst.counts()
        second = copy_catalog(src, dst)
        assert not any(second.added.values()) and dst.counts() == counts
        assert dst.dump(verifications=True) == src.dump(verifications=True)
        back = tmp_path / "back.sqlite"
        with Catalog.open(back) as round_trip:
            copy_catalog(dst, round_trip)
            assert round_trip.dump(verifications=True) == src.dump(verifications=True)
            assert verify_chain(list(custody_entries(round_trip))).ok


def test_catalog_copy_merges_two_laptops_without_duplicates(shoot: Shoot, tmp_path: Path, pg_url: str) -> None:
    """Two DITs' catalogs that share a cartridge go into one house catalog: each row once."""
    res = CliRunner().invoke(cli, ["catalog", "copy", "--from", str(shoot.catalog.location), "--to", pg_url, "--json"])
    assert res.exit_code == 0, res.output
    laptop2 = tmp_path / "laptop2.sqlite"
    with Catalog.open(laptop2) as cat:
        d = cat.destination("tape", label="TAR001L9", barcode="TAR001L9")
        j = cat.job("other-session", d, "job", format="tar")
        hit = shoot.catalog.conn.execute("SELECT id, path, size, mtime FROM files ORDER BY id").fetchone()
        hashes = dict(shoot.catalog.conn.execute("SELECT algorithm, hex FROM file_hashes WHERE file_id = ?",
                                                 (hit[0],)).fetchall())
        cat.copy(cat.file(hit[1], hit[2], hit[3], hashes), d, j, tape_file=7)
    before = Catalog.open(pg_url)
    counts = before.counts()
    before.close()
    res = CliRunner().invoke(cli, ["catalog", "copy", "--from", str(laptop2), "--to", pg_url])
    assert res.exit_code == 0 and "added" in res.output
    with Catalog.open(pg_url) as house:
        after = house.counts()
        assert after["destinations"] == counts["destinations"] and after["files"] == counts["files"]
        assert after["jobs"] == counts["jobs"] + 1 and after["copies"] == counts["copies"] + 1


# ------------------------------------------------------------------------ several writers at once
def _writer(url: str, worker: int, jobs: int, files: int) -> None:
    with Catalog.open(url) as cat:
        for j in range(jobs):
            dest = cat.destination("tape", label=f"TAPE{j % 3}L9", barcode=f"TAPE{j % 3}L9", fmt="tar")
            job = cat.job(f"w{worker}-j{j}", dest, "job", format="tar", algorithms=["xxh128"])
            with cat.transaction():
                for f in range(files):
                    # every worker writes the same shared clip, and files of its own
                    fid = cat.file("card/shared.mov", 100, "2026-01-01T00:00:00Z", {"xxh128": "ab" * 16})
                    cat.copy(fid, dest, job, tape_file=j)
                    own = cat.file(f"card/w{worker}/j{j}/f{f}.mov", f, "2026-01-01T00:00:00Z",
                                   {"xxh128": f"{worker:04x}{j:04x}{f:024x}"})
                    cat.copy(own, dest, job, tape_file=j)
            custody_append(cat, "write", f"TAPE{j % 3}L9", {"session": f"w{worker}-j{j}"})


def test_several_processes_writing_at_once_lose_and_duplicate_nothing(pg_url: str) -> None:
    Catalog.open(pg_url).close()
    workers, jobs, files = 4, 6, 5
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(pg_url, w, jobs, files)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    with Catalog.open(pg_url) as cat:
        c = cat.counts()
        assert c["destinations"] == 3 and c["jobs"] == workers * jobs
        assert c["files"] == 1 + workers * jobs * files                      # the shared clip once
        assert c["copies"] == workers * jobs * (files + 1)              # the shared clip once per job
        chain = list(custody_entries(cat))
        assert [e["seq"] for e in chain] == list(range(1, workers * jobs + 1))    # one chain, no fork
        assert verify_chain(chain).ok


def test_a_write_job_records_into_postgresql_through_the_cli(tmp_path: Path, pg_url: str) -> None:
    card = tmp_path / "A001_C001"
    card.mkdir()
    for i in range(3):
        (card / f"A001C00{i}.mov").write_bytes(os.urandom(1000 + i))
    runner = CliRunner()
    tape = tmp_path / "T1"
    assert runner.invoke(cli, ["vtape", "create", str(tape), "--barcode", "PGT001L9"]).exit_code == 0
    res = runner.invoke(cli, ["write", str(card), "--device", f"vtape:{tape}", "--catalog", pg_url,
                              "--log-dir", str(tmp_path / "logs"), "--no-progress", "--production", "Night Shoot"])
    assert res.exit_code == 0, res.output
    doc = json.loads(runner.invoke(cli, ["catalog", "search", "A001C00*", "--catalog", pg_url, "--json"]).output)
    assert doc["files"] == 3 and {c["destination"] for r in doc["results"] for c in r["copies"]} == {"PGT001L9"}
    for production, files in (("night shoot", 3), ("Day Shoot", 0)):
        doc = json.loads(runner.invoke(cli, ["catalog", "search", "--production", production, "--catalog", pg_url,
                                             "--json"]).output)
        assert doc["files"] == files
    assert not (Path.cwd() / "postgresql:").exists()
