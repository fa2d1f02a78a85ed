"""The jobs append their events to the chain of custody as they record into the catalog: write, verify,
restore, location, catalog import, certificate (migration: tests/test_migration.py)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from click.testing import CliRunner

import lto_archive as lto
from lto_archive_cli.main import cli


def _card(root: Path) -> Path:
    rng = random.Random(17)
    card = root / "A001"
    for rel, size in (("CLIPS/C001.mov", 200_000), ("CLIPS/C002.mov", 54_321)):
        (card / rel).parent.mkdir(parents=True, exist_ok=True)
        (card / rel).write_bytes(rng.randbytes(size))
    return card


def _events(cat: Path, subject: str | None = None) -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    with lto.Catalog(cat) as c:
        return [(e["event"], e["subject"], e["data"]) for e in c.custody_log(subject=subject)]


def test_write_verify_restore_location_import_and_certificate_are_in_the_chain(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    card = _card(tmp_path / "cards")
    tape = f"vtape:{tmp_path / 'tape'}"
    lto.create_vtape(tmp_path / "tape", barcode="CUS001L9").close()
    w = lto.write(card, [tape, lto.Folder(tmp_path / "shuttle")], catalog=cat, log_dir=False)
    w.raise_for_status()
    session = w.manifest.session.session_id
    first = _events(cat)
    writes = {(s, d["session"], d["files"], d["bytes"]) for e, s, d in first if e == "write"}
    assert writes == {("CUS001L9", session, 2, 254_321), (str((tmp_path / "shuttle").resolve()), session, 2, 254_321)}
    assert ("verify", "CUS001L9") in {(e, s) for e, s, _ in first}          # the write's own read-back

    assert lto.verify(tape, catalog=cat).ok
    lto.restore(tape, tmp_path / "back", catalog=cat).raise_for_status()
    with lto.Catalog(cat) as c:
        c.set_location("CUS001L9", "Shelf 3, box 12")
        cert = lto.issue_certificate(c.store, card, copies=2)
    mine = _events(cat, "CUS001L9")
    assert [e for e, _, _ in mine] == ["write", "verify", "verify", "restore", "location"]
    assert mine[2][2]["verified"] == 2 and mine[2][2]["failed"] == 0 and mine[2][2]["sessions"] == [session]
    assert mine[3][2]["verified"] == 2 and mine[4][2] == {"location": "Shelf 3, box 12"}
    (issued,) = [d for e, s, d in _events(cat) if e == "certificate"]
    assert issued["digest"] == cert.digest and issued["files"] == 2 and "CUS001L9" in issued["destinations"]

    other = tmp_path / "rebuilt.sqlite"
    with lto.Catalog(other) as c:
        c.import_tape(tape)
    assert [(e, s, d["sessions"]) for e, s, d in _events(other)] == [("catalog-import", "CUS001L9", [session])]

    res = CliRunner().invoke(cli, ["custody", "verify", "--catalog", str(cat), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["entries"] == len(_events(cat))


def test_a_failed_verify_is_an_event_too(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    card = _card(tmp_path / "cards")
    with lto.create_vtape(tmp_path / "tape", barcode="CUS002L9") as t:
        lto.write(card, t, catalog=cat, log_dir=False).raise_for_status()
    data = sorted((tmp_path / "tape").rglob("*"), key=lambda p: p.stat().st_size if p.is_file() else 0)[-1]
    blob = bytearray(data.read_bytes())
    blob[len(blob) // 2] ^= 0xFF                                          # one flipped byte in the largest record
    data.write_bytes(bytes(blob))
    r = lto.verify(f"vtape:{tmp_path / 'tape'}", catalog=cat)
    assert not r.ok
    last = _events(cat, "CUS002L9")[-1]
    assert last[0] == "verify" and last[2]["failed"] >= 1


def test_library_export_and_import_are_events(tmp_path: Path) -> None:
    cat = tmp_path / "cat.sqlite"
    lto.Catalog(cat).close()
    lib = tmp_path / "lib"
    lto.create_vlib(lib, drives=1, slots=3, cartridges=2, import_export=1).close()
    run = CliRunner()
    for args in (["export", "LTA002L9"], ["import"]):
        res = run.invoke(cli, ["library", *args, "--library", f"vlib:{lib}"], env={"LTO_ARCHIVE_CATALOG": str(cat)})
        assert res.exit_code == 0, res.output
    assert [(e, s, d["library"]) for e, s, d in _events(cat)] == [("library-export", "LTA002L9", f"vlib:{lib}"),
                                                                 ("library-import", "LTA002L9", f"vlib:{lib}")]
    assert _events(cat)[0][2]["from"] == "slot 2"
