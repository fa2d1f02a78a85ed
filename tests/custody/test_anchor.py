"""A tape's custody record anchored in the catalog's chain (issue 17, catalog/anchor.py): the record states the
catalog chain's head when the job began, the catalog's write entry records the record; `custody verify FILE
--catalog` confirms it, and says so when the record is from another catalog, when the anchor entry was altered,
and when the record is older than anchoring (unanchored, not a failure)."""

from __future__ import annotations

import io
import json
import random
import sqlite3
import tarfile
from pathlib import Path

from click.testing import CliRunner

import lto_archive
from lto_archive.chain import entry_hash
from lto_archive_cli.main import cli
from tests.tape_helpers import tape_file_bytes


def _card(root: Path) -> Path:
    rnd = random.Random(5)
    card = root / "card"
    for i in range(3):
        p = card / f"C{i}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rnd.randbytes(rnd.randint(2000, 20_000)))
    return card


def _write(root: Path, barcode: str, catalog: Path | bool, fmt: str = "tar") -> tuple[Path, str]:
    """A session written to a new cartridge (recorded in `catalog`); its on-tape custody record, as a file."""
    tape = root / barcode
    lto_archive.create_vtape(tape, capacity="64M", barcode=barcode).close()
    res = lto_archive.write(_card(root) if not (root / "card").exists() else root / "card", f"vtape:{tape}",
                            format=fmt, catalog=catalog, log_dir=False)
    assert res.status == "ok", res.to_dict()
    with tarfile.open(fileobj=io.BytesIO(tape_file_bytes(tape, 0))) as tf:
        record = tf.extractfile(".lto-archive/custody.jsonl").read()  # type: ignore[union-attr]
    out = root / f"{barcode}.custody.jsonl"
    out.write_bytes(record)
    return out, res.to_dict()["session"]["session_id"]


def _verify(record: Path, *catalog: Path) -> tuple[int, dict, str]:
    args = ["custody", "verify", str(record)] + (["--catalog", str(catalog[0])] if catalog else [])
    r = CliRunner().invoke(cli, args)
    j = CliRunner().invoke(cli, args + ["--json"])
    return r.exit_code, json.loads(j.output), r.output


def _entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_tapes_record_is_anchored_in_the_catalog_that_recorded_it(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    _write(tmp_path, "ANC001L9", cat)                      # the chain has entries before the second job
    record, sid = _write(tmp_path, "ANC002L9", cat)
    started = _entries(record)[0]
    with lto_archive.Catalog(cat) as c:
        log = c.custody_log()
    anchor = started["data"]["anchor"]
    assert anchor == {"seq": 2, "sha256": log[1]["hash"]}  # the head when the second job began (write, verify)
    recorded = [e for e in log if e["data"].get("tape_record", {}).get("session") == sid]
    assert [e["event"] for e in recorded] == ["write"]
    assert recorded[0]["data"]["tape_record"] == {"session": sid, "entries": 5, "head": _entries(record)[-1]["hash"],
                                                  "anchor": anchor}
    code, doc, out = _verify(record, cat)
    assert code == 0, out
    assert doc["anchor"]["anchored"] and doc["anchor"]["sessions"][0]["status"] == "anchored"
    assert doc["anchor"]["sessions"][0]["recorded_at"] == recorded[0]["seq"]
    assert f"session {sid}: anchored: it extends catalog entry 2 ({anchor['sha256'][:16]}...) and catalog entry " \
           f"{recorded[0]['seq']} records it" in out
    code, doc, out = _verify(record)                       # without a catalog: as before, the chain alone
    assert code == 0 and "anchor" not in doc and out.strip() == "custody log ok: 5 entries, 2 checkpoints " \
                                                                 "(0 signed and verified)"


def test_a_record_from_another_catalog_is_not_anchored(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.sqlite", tmp_path / "theirs.sqlite"
    _write(tmp_path, "ANC001L9", ours)
    _write(tmp_path, "ANC002L9", theirs)
    _write(tmp_path, "ANC003L9", theirs)
    record, sid = _write(tmp_path, "ANC004L9", theirs)     # anchored at their entry 4
    assert _verify(record, theirs)[0] == 0
    code, doc, out = _verify(record, ours)                 # our chain has 2 entries: no entry 4
    assert code == 3 and doc["status"] == "error"
    assert f"session {sid}: NOT anchored in this catalog: it extends entry 4, which this catalog does not have" in out
    _write(tmp_path, "ANC005L9", ours)                     # now ours has an entry 4 too, another one
    code, doc, out = _verify(record, ours)
    assert code == 3 and "this catalog's entry 4 has" in out and "another catalog's, or the entry was altered" in out


def test_an_altered_anchor_entry_in_the_catalog_is_caught(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    _write(tmp_path, "ANC001L9", cat)
    record, sid = _write(tmp_path, "ANC002L9", cat)
    assert _verify(record, cat)[0] == 0
    conn = sqlite3.connect(cat)
    conn.execute("UPDATE custody SET data = ? WHERE seq = 2", (json.dumps({"files": 99}),))   # the anchor entry
    conn.commit()
    code, _, out = _verify(record, cat)
    assert code == 3 and f"session {sid}: NOT anchored in this catalog: it extends entry 2, which was altered in " \
                         f"this catalog" in out
    # altered with its hash made again: it is no longer the entry the record extends
    row = conn.execute("SELECT seq, at, event, subject, data, prev FROM custody WHERE seq = 2").fetchone()
    entry = dict(zip(("seq", "at", "event", "subject", "data", "prev"), row))
    entry["data"] = json.loads(entry["data"])
    conn.execute("UPDATE custody SET hash = ? WHERE seq = 2", (entry_hash(entry),))
    conn.commit()
    conn.close()
    code, _, out = _verify(record, cat)
    assert code == 3 and "this catalog's entry 2 has" in out


def test_a_changed_record_is_not_the_one_the_catalog_recorded(tmp_path: Path) -> None:
    """A record made again from the tape's (its entries re-linked after a change) still states the anchor, but
    its head is not the one the catalog recorded."""
    from lto_archive.chain import link
    cat = tmp_path / "cat.sqlite"
    record, sid = _write(tmp_path, "ANC001L9", cat)
    entries = _entries(record)
    entries[1]["data"]["files"] = 2                        # one file fewer, the chain forged to match
    forged, prev = [], None
    for e in entries:
        prev = link(prev, e["at"], e["event"], e["subject"], e["data"] if e["event"] != "checkpoint" else
                    {"entries": prev["seq"], "head": prev["hash"]})
        forged.append(prev)
    record.write_text("".join(json.dumps(e) + "\n" for e in forged))
    code, _, out = _verify(record, cat)
    assert code == 3 and "records another on-tape record for it" in out


def test_a_record_older_than_anchoring_is_unanchored_not_failed(tmp_path: Path) -> None:
    """A tape written without a catalog (as every tape before anchoring) states no anchor: it verifies, and
    with a catalog it is said to be unanchored."""
    cat = tmp_path / "cat.sqlite"
    _write(tmp_path, "ANC001L9", cat)
    record, sid = _write(tmp_path, "ANC002L9", False)
    assert "anchor" not in _entries(record)[0]["data"]
    code, doc, out = _verify(record, cat)
    assert code == 0, out
    assert doc["anchor"]["anchored"] and doc["anchor"]["sessions"][0]["status"] == "unanchored"
    assert f"session {sid}: unanchored: its record states no catalog position" in out


def test_an_ltfs_record_and_a_catalog_export_with_the_catalog(tmp_path: Path) -> None:
    from lto_archive.formats.ltfs.volume import format_volume
    cat = tmp_path / "cat.sqlite"
    _write(tmp_path, "ANC001L9", cat)
    tape = tmp_path / "LTFS01"
    lto_archive.create_vtape(tape, capacity="64M", barcode="LTF001L9", partitions=2).close()
    with lto_archive.open_device(f"vtape:{tape}") as dev:
        format_volume(dev, creator="t", serial="LTF001")
    res = lto_archive.write(tmp_path / "card", f"vtape:{tape}", format="ltfs", catalog=cat, log_dir=False)
    sid = res.to_dict()["session"]["session_id"]
    r = CliRunner().invoke(cli, ["restore", "--device", f"vtape:{tape}", str(tmp_path / "r")])
    assert r.exit_code == 0, r.output
    record = tmp_path / "r" / ".lto-archive" / sid / "custody.jsonl"
    code, doc, out = _verify(record, cat)
    assert code == 0 and doc["anchor"]["sessions"][0]["status"] == "anchored", out
    export = tmp_path / "export.jsonl"
    assert CliRunner().invoke(cli, ["custody", "export", "--catalog", str(cat), "-o", str(export)]).exit_code == 0
    code, doc, out = _verify(export, cat)
    assert code == 0 and doc["anchor"]["sessions"] == [] and "nothing to anchor" in out    # no tape record in it


def test_a_migrated_copys_record_is_anchored_too(tmp_path: Path) -> None:
    """A migration writes its target as a job does: its session's record states the chain's head, and the
    catalog's write entry for the target records it."""
    cat = tmp_path / "cat.sqlite"
    _write(tmp_path, "OLD001L9", cat)
    target = tmp_path / "NEW001L9"
    lto_archive.create_vtape(target, capacity="64M", barcode="NEW001L9").close()
    result = lto_archive.migrate(f"vtape:{tmp_path / 'OLD001L9'}", f"vtape:{target}", staging=tmp_path / "staging",
                                 catalog=cat, log_dir=False)
    result.raise_for_status()
    with tarfile.open(fileobj=io.BytesIO(tape_file_bytes(target, 0))) as tf:
        (tmp_path / "new.jsonl").write_bytes(tf.extractfile(".lto-archive/custody.jsonl").read())  # type: ignore[union-attr]
    code, doc, out = _verify(tmp_path / "new.jsonl", cat)
    assert code == 0 and [s["status"] for s in doc["anchor"]["sessions"]] == ["anchored"], out
