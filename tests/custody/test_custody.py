"""The chain of custody (issue 17): every tampering case is caught, and named at the first bad entry."""

from __future__ import annotations

import json
import multiprocessing

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import lto_archive
from lto_archive.chain import GENESIS, link, verify_chain
from lto_archive_cli.main import cli


def _chain(n: int) -> list[dict]:
    entries, prev = [], None
    for i in range(n):
        prev = link(prev, f"2026-12-07T10:00:{i:02d}Z", "write", f"LTA{i:03d}L9", {"files": i, "bytes": i * 1000})
        entries.append(prev)
    return entries


@pytest.fixture
def catalog(tmp_path):
    path = tmp_path / "catalog.sqlite"
    with lto_archive.Catalog(path) as cat:
        for i in range(5):
            cat.custody_record("write", f"LTA00{i}L9", {"session": f"S{i}", "files": 10 + i})
        cat.custody_record("location", "LTA001L9", {"location": "Shelf 3"})
    return path


def _export(catalog, tmp_path, *extra):
    out = tmp_path / "custody.jsonl"
    r = CliRunner().invoke(cli, ["custody", "export", "--catalog", str(catalog), "--output", str(out), *extra])
    assert r.exit_code == 0, r.output
    return out


def _verify_file(path, *extra):
    return CliRunner().invoke(cli, ["custody", "verify", str(path), "--json", *extra])


def test_an_untouched_chain_verifies_everywhere(catalog, tmp_path):
    r = CliRunner().invoke(cli, ["custody", "verify", "--catalog", str(catalog), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["entries"] == 6
    out = _export(catalog, tmp_path)
    doc = json.loads(_verify_file(out).output)
    assert doc["ok"] and doc["entries"] == 7 and doc["checkpoints"] == 1
    shown = CliRunner().invoke(cli, ["custody", "show", "--catalog", str(catalog), "--subject", "LTA001L9", "--json"])
    assert [e["event"] for e in json.loads(shown.output)["entries"]] == ["write", "location"]


def _lines(path):
    return path.read_text().splitlines()


@pytest.mark.parametrize("tamper, first_bad, says", [
    ("edit", 3, "was edited"),
    ("delete", 4, "seq 4 where 3 belongs"),
    ("reorder", 4, "seq 4 where 3 belongs"),
    ("truncate", None, "truncated"),
    ("insert", 3, "does not follow"),
    ("garbage", 3, "not a custody entry"),
])
def test_every_tampering_is_caught_and_named(catalog, tmp_path, tamper, first_bad, says):
    out = _export(catalog, tmp_path)
    lines = _lines(out)
    if tamper == "edit":
        e = json.loads(lines[2]); e["data"]["files"] = 999; lines[2] = json.dumps(e)
    elif tamper == "delete":
        del lines[2]
    elif tamper == "reorder":
        lines[2], lines[3] = lines[3], lines[2]
    elif tamper == "truncate":
        lines = lines[:-2]
    elif tamper == "insert":      # a forged entry, correctly hashed, that claims seq 3 and links to a made-up entry
        forged = link({"seq": 2, "hash": "f" * 64}, "2026-12-07T10:00:00Z", "write", "FAKE01L9", {"files": 1})
        lines[2] = json.dumps(forged)
    elif tamper == "garbage":
        lines[2] = "{not json"
    out.write_text("\n".join(lines) + "\n")
    r = _verify_file(out)
    assert r.exit_code == 3, r.output
    doc = json.loads(r.output)
    assert doc["status"] == "error" and says in doc["message"] and doc["first_bad"] == first_bad


def test_tampering_inside_the_catalog_is_caught(catalog):
    import sqlite3
    conn = sqlite3.connect(catalog)
    conn.execute("UPDATE custody SET data = '{\"files\": 1}' WHERE seq = 4")
    conn.commit()
    conn.close()
    r = CliRunner().invoke(cli, ["custody", "verify", "--catalog", str(catalog), "--json"])
    assert r.exit_code == 3 and json.loads(r.output)["first_bad"] == 4


def test_signed_checkpoints(catalog, tmp_path):
    key = tmp_path / "lab.key"
    assert CliRunner().invoke(cli, ["baf", "keygen", "--output", str(key)]).exit_code == 0
    out = _export(catalog, tmp_path, "--sign-key", str(key))
    ok = _verify_file(out, "--public-key", str(tmp_path / "lab.pub"), "--require-signed")
    assert ok.exit_code == 0 and json.loads(ok.output)["signed"] == 1
    assert _verify_file(out, "--require-signed").exit_code == 3          # no key given: nothing verifies it
    other = tmp_path / "other.key"
    CliRunner().invoke(cli, ["baf", "keygen", "--output", str(other)])
    bad = _verify_file(out, "--public-key", str(tmp_path / "other.pub"))
    assert bad.exit_code == 3 and "signature does not verify" in json.loads(bad.output)["message"]


def test_an_excerpt_verifies_from_its_first_entry(catalog, tmp_path):
    out = _export(catalog, tmp_path)
    part = tmp_path / "excerpt.jsonl"
    part.write_text("\n".join(_lines(out)[2:5]) + "\n")
    assert _verify_file(part, "--excerpt").exit_code == 0
    lines = _lines(part); del lines[1]
    part.write_text("\n".join(lines) + "\n")
    assert _verify_file(part, "--excerpt").exit_code == 3


def _append_many(path, worker, n):
    with lto_archive.Catalog(path) as cat:
        for i in range(n):
            cat.custody_record("verify", f"W{worker}", {"i": i})


def test_concurrent_writers_extend_one_chain(tmp_path):
    path = tmp_path / "catalog.sqlite"
    lto_archive.Catalog(path).close()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(path, w, 20)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with lto_archive.Catalog(path) as cat:
        log = cat.custody_log()
        assert [e["seq"] for e in log] == list(range(1, 61))
        assert cat.custody_verify()["entries"] == 60


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(2, 12), victim=st.data())
def test_any_single_change_to_a_chain_is_caught(n, victim):
    entries = _chain(n)
    assert verify_chain(entries).ok
    i = victim.draw(st.integers(0, n - 1))
    field = victim.draw(st.sampled_from(["at", "event", "subject", "data", "prev", "seq"]))
    changed = [dict(e) for e in entries]
    if field == "data":
        changed[i]["data"] = {**changed[i]["data"], "files": -1}
    elif field == "seq":
        changed[i]["seq"] += 1
    elif field == "prev":
        changed[i]["prev"] = GENESIS if changed[i]["prev"] != GENESIS else "1" * 64
    else:
        changed[i][field] += "x"
    report = verify_chain(changed)
    assert not report.ok and report.first_bad is not None and report.first_bad <= i + 2
