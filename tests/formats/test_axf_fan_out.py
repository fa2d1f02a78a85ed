"""One AXF-style object to several cartridges in one pass: the members are the same records on every
tape, each volume keeps its own signature, headers, footers and history; a failing tape is dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import JobIncomplete
from lto_archive.formats.axf import AxfReader, scan_volume
from lto_archive.formats.axf.structures import MAGIC
from lto_archive.formats.tapefile import TapeFileReader
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import OK
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.vtape import Faults

from ..fan_out_helpers import card, restored

KiB = 1024
RS = 8 * KiB


def opts(**kw) -> WriteOptions:  # type: ignore[no-untyped-def]
    return WriteOptions(format="axf", record_size=RS, chunk_size=4 * RS, **kw)


def tape(path: Path, barcode: str) -> VirtualTape:
    return create_vtape(path, "LTO-9", capacity=256 << 20, barcode=barcode)


def tape_file(dev: VirtualTape, n: int) -> AxfReader:
    dev.locate(dev.partitions - 1, 0)
    if n:
        dev.space_filemarks(n)
    r = AxfReader(TapeFileReader(dev))
    for m in r:
        if m.kind == "file":
            r.read_data(m)
    return r


def test_two_cartridges_one_appended_each_with_its_own_volume(tmp_path: Path) -> None:
    files = card(tmp_path / "card", [20_000 + 501 * i for i in range(6)] + [0])
    a, b = tape(tmp_path / "A", "AXA001L9"), tape(tmp_path / "B", "AXB001L9")
    old = card(tmp_path / "old", [30_000])
    assert write_archive([tmp_path / "old"], b, opts()).status == "ok"     # B's volume already exists
    r = write_archive([tmp_path / "card"], [a, b], opts(), folders=[tmp_path / "shuttle"])
    assert r.status == "ok", r.destinations
    assert [(d["destination"], d["tape_file"], d["status"], d["verified"]) for d in r.destinations[:2]] == [
        ("AXA001L9", 0, "ok", len(files)), ("AXB001L9", 1, "ok", len(files))]
    assert r.destinations[2]["verified"] == len(files)
    # each tape describes its own volume: A a new one (signature + header), B its old one, with both objects
    ra, rb = tape_file(a, 0), tape_file(b, 1)
    assert ra.signature is not None and rb.signature is None
    ident_b = tape_file(b, 0).volume_header.identity
    assert rb.volume_footer.identity == ident_b and ra.volume_footer.identity.volume_uuid != ident_b.volume_uuid
    assert ra.volume_header.identity.label == "AXA001L9" and ident_b.label == "AXB001L9"
    assert [o.tape_file for o in ra.volume_footer.objects] == [0]
    assert [o.tape_file for o in rb.volume_footer.objects] == [0, 1] and rb.volume_footer.complete
    assert ra.objects[0].object_uuid == rb.objects[0].object_uuid          # one object, two copies
    assert ra.objects[0].tape_file == 0 and rb.objects[0].tape_file == 1
    assert ra.objects[0].session["barcode"] == "AXA001L9" and rb.objects[0].session["barcode"] == "AXB001L9"
    # the object footers list the members at each tape's own offsets
    fa = {e.path: e for e in ra.object_footers[0].entries}
    fb = {e.path: e for e in rb.object_footers[0].entries}
    shift = r.manifest.session.destinations[1].get("lead", 0) - r.manifest.session.destinations[0].get("lead", 0)
    assert shift < 0               # B's object starts without a volume signature and header
    assert all(fb[p].header_offset == fa[p].header_offset + shift for p in fa)
    # scan (no index, record by record) recovers everything on each
    for name, dev, top, want in (("A", a, "card", files), ("B", b, "card", files), ("B-old", b, "old", old)):
        rep = scan_volume(dev)
        assert rep.status == "ok" and not rep.damaged, rep.notes
        assert restored(dev, tmp_path / f"out-{name}", top) == want
    scanned = scan_volume(b, dest=tmp_path / "scan-B")
    assert {p: (tmp_path / "scan-B" / p).read_bytes() for p in files} == files
    assert len(scanned.volumes) >= 1
    # per destination, per file: B's copy is told at B's own records
    rbd = r.for_destination(1)
    for f in rbd.files:
        b.locate(b.partitions - 1, f.block)
        rec = b.read_record(1 << 20)
        assert rec[f.offset:f.offset + 8] == MAGIC and f.path.encode() in rec[f.offset:f.offset + 512]


def test_a_cartridge_failing_mid_job_is_dropped_and_the_other_scans_whole(tmp_path: Path) -> None:
    files = card(tmp_path / "card", [30_000 + 17 * i for i in range(10)])
    a, b = tape(tmp_path / "A", "AXA001L9"), tape(tmp_path / "B", "AXB001L9")
    b.faults = Faults(write_error_after_calls=12)
    r = write_archive([tmp_path / "card"], [a, b], opts())
    da, db = r.destinations
    assert da["status"] == "ok" and da["verified"] == len(files)
    assert db["status"] == "failed" and "write error" in db["error"]
    assert r.status == "incomplete" and r.error is None and all(f.status == OK for f in r.files)
    with pytest.raises(JobIncomplete, match="AXB001L9"):
        r.raise_for_status()
    rep = scan_volume(a)
    assert rep.status == "ok" and len(rep.by_status("proven")) >= len(files)
    assert restored(a, tmp_path / "out", "card") == files
    b.faults.clear()
    rep_b = scan_volume(b)          # what reached B before it failed is still proven by a scan
    proven_b = {f.path for f in rep_b.by_status("proven")}
    assert proven_b < set(files) | {p for p in proven_b if p.startswith(".lto-archive")}


def test_a_cartridge_failing_in_its_volume_footer_is_dropped(tmp_path: Path) -> None:
    files = card(tmp_path / "card", [9000, 4000])
    a, b = tape(tmp_path / "A", "AXA001L9"), tape(tmp_path / "B", "AXB001L9")
    probe = tape(tmp_path / "P", "AXP001L9")
    write_archive([tmp_path / "card"], probe, opts())
    probe.seek_eod()
    last = probe.position().block - 2          # the volume footer's record
    b.faults = Faults(write_error_at_block=last)
    r = write_archive([tmp_path / "card"], [a, b], opts())
    assert [d["status"] for d in r.destinations] == ["ok", "failed"]
    assert scan_volume(a).status == "ok" and restored(a, tmp_path / "out", "card") == files


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(0, 3 * RS + 11), min_size=1, max_size=7),
       old=st.lists(st.integers(0, 2 * RS), min_size=1, max_size=3), prefill_a=st.booleans())
def test_property_two_cartridges_one_prefilled(tmp_path_factory, sizes, old, prefill_a) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("p")
    files = card(tmp / "card", sizes)
    a, b = tape(tmp / "A", "AXA001L9"), tape(tmp / "B", "AXB001L9")
    card(tmp / "old", old)
    assert write_archive([tmp / "old"], a if prefill_a else b, opts()).status == "ok"
    r = write_archive([tmp / "card"], [a, b], opts())
    assert r.status == "ok", r.destinations
    for name, dev in (("A", a), ("B", b)):
        rep = scan_volume(dev)
        assert rep.status == "ok" and not rep.damaged
        assert restored(dev, tmp / f"out-{name}", "card") == files


def test_one_cartridge_and_a_folder(tmp_path: Path) -> None:
    """AXF with --copy-to: the file header names the hash algorithms before the data, through the folder Tee."""
    files = card(tmp_path / "card", [12_000, 0, 70_000])
    a = tape(tmp_path / "A", "AXA001L9")
    r = write_archive([tmp_path / "card"], a, opts(), folders=[tmp_path / "shuttle"])
    assert r.status == "ok", r.destinations
    assert [(d["kind"], d["status"], d["verified"]) for d in r.destinations] == [
        ("tape", "ok", len(files)), ("folder", "ok", len(files))]
    assert {p: (tmp_path / "shuttle" / p).read_bytes() for p in files} == files
    assert scan_volume(a).status == "ok" and restored(a, tmp_path / "out", "card") == files
