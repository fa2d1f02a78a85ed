"""What tripped a new user on LTFS (issue 16): each defect, tried the way the user tried it."""

from __future__ import annotations

import json

import pytest

import lto_archive
from lto_archive.tape import mam
from tests.newcomer_helpers import make_card, run


@pytest.fixture
def card(tmp_path):
    return make_card(tmp_path, 2)


def tapes(catalog) -> list[dict]:
    with lto_archive.Catalog(catalog) as cat:
        return [dict(t) for t in cat.tapes()]


def test_format_barcode_names_the_volume_in_the_catalog(tmp_path, card):
    tape, catalog = tmp_path / "t1", tmp_path / "cat.sqlite"
    lto_archive.create_vtape(tape, capacity="64M").close()      # a cartridge whose memory holds no barcode
    run("format", "--device", f"vtape:{tape}", "--barcode", "LTF001L9")
    out = run("write", "--device", f"vtape:{tape}", "--format", "ltfs", "--catalog", str(catalog),
              "--log-dir", str(tmp_path / "logs"), str(card)).output
    assert "ltfs:" not in out and "LTF001L9" in out
    [row] = tapes(catalog)
    assert row["label"] == "LTF001L9" and row["barcode"] == "LTF001L9"
    assert row["volume_uuid"]                                   # the uuid is kept beside the barcode
    listed = run("catalog", "tapes", "--catalog", str(catalog)).output
    assert listed.startswith("LTF001L9") and "ltfs:" not in listed


def test_a_catalog_that_knew_the_volume_by_its_uuid_still_finds_it(tmp_path, card):
    tape, catalog = tmp_path / "t1", tmp_path / "cat.sqlite"
    lto_archive.create_vtape(tape, capacity="64M").close()
    run("format", "--device", f"vtape:{tape}")                  # no barcode: known as ltfs:<uuid>
    logs = str(tmp_path / "logs")
    run("write", "--device", f"vtape:{tape}", "--format", "ltfs", "--catalog", str(catalog), "--log-dir", logs,
        str(card))
    [before] = tapes(catalog)
    assert before["label"] == f"ltfs:{before['volume_uuid']}"
    with lto_archive.open_device(f"vtape:{tape}") as dev:       # the cartridge gets its barcode later
        dev.write_attribute(0, mam.BARCODE, mam.ascii_value("LTF002L9", 32), mam.ASCII)
    second = tmp_path / "A002_C001"
    second.mkdir()
    (second / "A002C009.mov").write_bytes(b"\x09" * 999)
    run("write", "--device", f"vtape:{tape}", "--format", "ltfs", "--catalog", str(catalog), "--log-dir", logs,
        str(second))
    [after] = tapes(catalog)                                    # the same destination, matched on volume_uuid
    assert after["volume_uuid"] == before["volume_uuid"] and after["files"] == 3
    assert after["label"] == "LTF002L9"
    found = run("catalog", "search", "--catalog", str(catalog), "A002C009.mov").output
    assert "LTF002L9" in found


def test_format_never_changes_a_cartridge_s_own_barcode(tmp_path):
    tape = tmp_path / "t1"
    lto_archive.create_vtape(tape, capacity="64M", barcode="OWN001L9").close()
    run("format", "--device", f"vtape:{tape}", "--barcode", "XYZ001L9")
    with lto_archive.open_device(f"vtape:{tape}") as dev:
        assert dev.medium().barcode == "OWN001L9"


@pytest.fixture
def salvaged_volume(tmp_path, card):
    """An LTFS volume of ours, a crash's leftover record after its last index, kept by recover --salvage."""
    tape, logs = tmp_path / "s1", str(tmp_path / "logs")
    lto_archive.create_vtape(tape, capacity="64M").close()
    run("format", "--device", f"vtape:{tape}", "--barcode", "SAL001L9")
    run("write", "--device", f"vtape:{tape}", "--format", "ltfs", "--no-catalog", "--log-dir", logs, str(card))
    with lto_archive.open_device(f"vtape:{tape}") as dev:
        dev.locate(1, 0)
        dev.seek_eod()
        dev.write_record(b"rescued bytes " * 1000)
    out = run("ltfs", "recover", "--device", f"vtape:{tape}", "--salvage", "--log-dir", logs).output
    assert "salvaged (unproven): _ltfs_lostandfound/" in out
    return tape


def test_verify_after_salvage_says_what_the_salvaged_file_is(salvaged_volume):
    result = run("verify", "--device", f"vtape:{salvaged_volume}", "--no-catalog", code=5)
    assert ("1 salvaged file in lost+found: not proven — its bytes were rescued without an index entry; "
            "--accept-salvaged accepts it as known-unproven") in result.output
    assert "written by another tool" not in result.output
    assert "salvaged: not proven" in result.output


def test_accept_salvaged_verifies_ok_and_still_names_the_file(salvaged_volume):
    result = run("verify", "--device", f"vtape:{salvaged_volume}", "--no-catalog", "--accept-salvaged", "--json")
    doc = json.loads(result.output)
    assert doc["status"] == "ok"
    [t] = doc["tape_files"]
    assert t["unproven"] == [] and len(t["accepted_unproven"]) == 1
    assert t["accepted_unproven"][0].startswith("_ltfs_lostandfound/")
    assert any("accepted as known-unproven" in n for n in doc["notes"])


def test_accept_salvaged_accepts_nothing_else(tmp_path, card):
    """A volume another tool wrote (no checksums) stays unproven: --accept-salvaged is about lost+found only."""
    import shutil
    from pathlib import Path
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "ltfs-reference" / "crashed-before-unmount-lto5"
    tape = tmp_path / "ref"
    shutil.copytree(fixture, tape)
    run("ltfs", "recover", "--device", f"vtape:{tape}", "--salvage", "--log-dir", str(tmp_path / "none"))
    result = run("verify", "--device", f"vtape:{tape}", "--no-catalog", "--accept-salvaged", "--json", code=5)
    doc = json.loads(result.output)["result"]
    assert doc["tape_files"][0]["unproven"]
    assert all(not u["path"].startswith("_ltfs_lostandfound/") for u in doc["tape_files"][0]["unproven"])
    assert any("2 salvaged files in lost+found" in n for n in doc["notes"])
