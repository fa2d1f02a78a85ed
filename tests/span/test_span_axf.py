"""AXF-style span sets (docs/formats/axf-style.md 7.3, docs/spanning.md "AXF-style sets"): the set is one
object over the volumes of one collection; a file that does not fit is stored in segments, each with its own
checksums in its file footer, the whole file's in the last one. Written on `vlib:`, read back by `span`,
one cartridge at a time, by `axf scan`, and checked in the raw structures on the cartridges."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from lto_archive.catalog import Catalog
from lto_archive.jobs.catalog_import import import_tape
from lto_archive.errors import DeviceError, NoNextCartridge
from lto_archive.formats.axf.reader import AxfReader
from lto_archive.formats.axf.scan import PROVEN, scan_volume
from lto_archive.formats.axf.structures import FLAG_CONTINUED, FLAG_CONTINUES, HEADER_SIZE
from lto_archive.hashing import hash_bytes
from lto_archive.jobs.read import restore_tape, verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.span.catalog import record_span_write, set_cartridges, span_sets
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import SpanResult, write_span
from lto_archive.streaming import RecordStream
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.vtape import Faults
from tests.span.helpers import MiB, RS, cartridge_folder, make_card, make_library, volume_bytes
from tests.span.test_span_props import ListLoader, ListSupply
from tests.tape_helpers import record_path, tape_file_blocks, tape_file_bytes

CAP = 16 * MiB
# x.mov is larger than what a cartridge holds after a.mov: split over cartridges 1-2;
# y.mov is larger than a whole cartridge: split over cartridges 2, 3 and 4
SIZES = {"a.mov": 4 * MiB, "x.mov": 16 * MiB, "y.mov": 24 * MiB, "z.mov": 100_000}
CLIPS = "card/CLIPS"
ALGOS = ("xxh128", "md5")


def _write(tmp: Path, sizes: dict[str, int] = SIZES, cartridges: int = 4, **kw: object):  # type: ignore[no-untyped-def]
    card = make_card(tmp, sizes)
    lib = make_library(tmp / "lib", cartridges=cartridges, capacity=CAP, slots=max(4, cartridges))
    result = write_span([card], LibrarySupply(lib, "LTA*"),
                        WriteOptions(format="axf", record_size=RS, log_dir=tmp / "logs"),
                        **kw)  # type: ignore[arg-type]
    return card, lib, result


def _parts(result: SpanResult) -> dict[str, list[tuple[int, int, int]]]:
    """path -> [(cartridge number, offset, length)] of every split file."""
    out: dict[str, list[tuple[int, int, int]]] = {}
    for i, v in enumerate(result.volumes, 1):
        for f in v.files:
            if f.part:
                out.setdefault(f.path, []).append((i, f.part["offset"], f.part["length"]))
    return out


def _structures(lib, barcode: str, tape_file: int = 0):  # type: ignore[no-untyped-def]
    """The tape file as it is on the cartridge, parsed: (reader, members with their footers, raw bytes)."""
    raw = volume_bytes(lib, barcode, tape_file)
    reader = AxfReader(io.BytesIO(raw))
    members = list(reader)       # (the data is skipped; each footer is read and checked when moving on)
    return reader, members, raw


def _bytes(card: Path, name: str) -> bytes:
    return (card / "CLIPS" / name).read_bytes()


def _block_at(cart: Path, offset: int, tape_file: int = 0) -> int:
    """The address of the record holding byte `offset` of a tape file, on the cartridge as written."""
    for block in tape_file_blocks(cart, tape_file):
        offset -= record_path(cart, block).stat().st_size
        if offset < 0:
            return block
    raise AssertionError(f"tape file {tape_file} on {cart} is shorter than that")


def test_a_set_over_four_cartridges_restores_and_says_so_in_its_structures(tmp_path: Path) -> None:
    card, lib, result = _write(tmp_path)
    result.raise_for_status()
    assert result.barcodes == ["LTA001L9", "LTA002L9", "LTA003L9", "LTA004L9"]
    parts = _parts(result)
    assert set(parts) == {f"{CLIPS}/x.mov", f"{CLIPS}/y.mov"}
    assert [p[0] for p in parts[f"{CLIPS}/x.mov"]] == [1, 2]             # across two cartridges
    assert [p[0] for p in parts[f"{CLIPS}/y.mov"]] == [2, 3, 4]          # across three
    for path, ps in parts.items():
        assert [p[1] for p in ps] == [0] + [sum(q[2] for q in ps[:i]) for i in range(1, len(ps))]
        assert sum(p[2] for p in ps) == SIZES[path.rsplit("/", 1)[1]]

    # span restore and verify: byte for byte
    out = tmp_path / "restore"
    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out)
    r.raise_for_status()
    assert r.complete
    for name in SIZES:
        assert (out / "card/CLIPS" / name).read_bytes() == _bytes(card, name)
    assert not [p for p in (out / "card/CLIPS").iterdir() if p.name not in SIZES]
    v = read_span(LibraryLoader(lib, result.barcodes), "verify")
    assert v.status == "ok" and v.complete

    # the raw structures, cartridge by cartridge
    volumes: list[str] = []
    objects = set()
    for i, barcode in enumerate(result.barcodes):
        last = i == len(result.barcodes) - 1
        reader, members, raw = _structures(lib, barcode)
        ident = reader.volume_header.identity
        assert reader.signature["collection-uuid"] == ident.collection_uuid == result.set_id
        assert ident.sequence == i + 1 and int(reader.signature["sequence"]) == i + 1
        assert ident.previous_volume == (volumes[-1] if volumes else "")
        assert ident.label == barcode
        volumes.append(ident.volume_uuid)
        (obj,), (footer,) = reader.objects, reader.object_footers
        objects.add(obj.object_uuid)
        assert obj.part == i + 1 and obj.continued_from == (volumes[-2] if i else "")
        assert footer.continues is not last
        assert reader.volume_footer.continues is not last and reader.volume_footer.identity == ident
        meta, _, _ = _structures(lib, barcode, 1)          # the metadata object after it: the newest footer
        assert meta.signature is None and meta.objects[0].volume == ident
        assert meta.volume_footer.continues is not last
        assert [o.object_uuid for o in meta.volume_footer.objects] == [obj.object_uuid, meta.objects[0].object_uuid]

        listed = {e.path: e for e in footer.entries}
        for m in members:
            if m.kind != "file" or m.path.startswith(".lto-archive/"):
                continue
            name = m.path.rsplit("/", 1)[1]
            whole = _bytes(card, name)
            flags = raw[m.header_offset + HEADER_SIZE + 1]          # the file header's flags byte, as written
            f = m.footer
            seg = whole[f.segment_offset:f.segment_offset + f.segment_size]
            assert f.checksums == hash_bytes(seg, ALGOS) and f.copied == f.segment_size == m.size
            e = listed[m.path]
            assert (e.segment_offset, e.segment_size, e.checksums) == (f.segment_offset, f.segment_size, f.checksums)
            assert raw[m.data_offset:m.data_offset + 4096] == seg[:4096] and m.data_offset % RS == 0
            if m.path not in parts:
                assert flags == f.flags == 0 and f.segment_offset == 0 and f.segment_size == len(whole)
                assert f.file_checksums == {} and m.part_offset is None
                continue
            part = next(p for p in parts[m.path] if p[0] == i + 1)
            first, final = part[1] == 0, part[1] + part[2] == len(whole)
            want = (0 if first else FLAG_CONTINUED) | (0 if final else FLAG_CONTINUES)
            assert flags == f.flags == want and (f.segment_offset, f.segment_size) == part[1:]
            assert m.part_offset == part[1] and m.file_size == f.size == len(whole)
            assert e.continues is not final
            assert f.file_checksums == (hash_bytes(whole, ALGOS) if final else {})
    assert len(objects) == 1                         # one object, in parts

    # one cartridge alone: its whole files and its segments proven; a segment is not restored alone
    dev = VirtualTape(cartridge_folder(lib, "LTA002L9"))
    try:
        alone = verify_tape(dev)
        assert alone.status == "ok"
        assert sorted(alone.tape_files[0].verified) == [f"{CLIPS}/x.mov", f"{CLIPS}/y.mov"]
        got = restore_tape(dev, tmp_path / "alone")
    finally:
        dev.close()
    assert {u["path"] for u in got.tape_files[0].unproven} == {f"{CLIPS}/x.mov", f"{CLIPS}/y.mov"}
    assert not (tmp_path / "alone/card/CLIPS/x.mov").exists()

    # the catalog, from the job and rebuilt from the cartridges alone
    with Catalog.open(tmp_path / "cat.sqlite") as cat:
        record_span_write(cat, result)
        assert set_cartridges(cat, result.set_id[:8]) == result.barcodes
    with Catalog.open(tmp_path / "rebuilt.sqlite") as cat:
        for barcode in reversed(result.barcodes):
            dev = VirtualTape(cartridge_folder(lib, barcode))
            try:
                import_tape(cat, dev)
            finally:
                dev.close()
        sets = span_sets(cat)
        assert [v["cartridge"] for v in sets[0]["volumes"]] == result.barcodes and sets[0]["complete"]
        rows = cat.conn.execute(
            "SELECT d.label, c.part_number, c.part_offset, c.part_length FROM copies c JOIN files f ON f.id = "
            "c.file_id JOIN destinations d ON d.id = c.destination_id WHERE f.path = ? ORDER BY c.part_number",
            (f"{CLIPS}/y.mov",)).fetchall()
        assert [(r[1], r[2], r[3]) for r in rows] == [(n, o, ln) for n, (_, o, ln) in
                                                      enumerate(parts[f"{CLIPS}/y.mov"], 1)]
        assert [r[0] for r in rows] == result.barcodes[1:]


def test_axf_scan_of_each_cartridge_joins_the_segments(tmp_path: Path) -> None:
    card, lib, result = _write(tmp_path)
    result.raise_for_status()
    # one middle cartridge alone: its segment is proven and reported as a segment, not as damage
    alone = tmp_path / "alone"
    dev = VirtualTape(cartridge_folder(lib, "LTA003L9"))
    try:
        rep = scan_volume(dev, dest=alone)
    finally:
        dev.close()
    assert rep.status == "ok" and not rep.damaged
    (seg,) = [f for f in rep.files if f.path == f"{CLIPS}/y.mov"]
    assert seg.status == PROVEN and seg.continued and seg.continues and seg.size == SIZES["y.mov"]
    assert not (alone / "card/CLIPS/y.mov").exists()                 # never a segment under the file's name
    piece = alone / f"card/CLIPS/y.mov.axf-segment-{seg.segment_offset:015d}"
    assert piece.read_bytes() == _bytes(card, "y.mov")[seg.segment_offset:seg.segment_offset + seg.segment_size]
    dev = VirtualTape(cartridge_folder(lib, "LTA004L9"))   # the last segment, without the first: not joined
    try:
        rep = scan_volume(dev, dest=alone)
    finally:
        dev.close()
    assert any("y.mov: its segments are not joined" in n for n in rep.notes)
    assert not (alone / "card/CLIPS/y.mov").exists()

    # every cartridge in order into one folder: the files joined, proven by their whole-file checksums
    dest = tmp_path / "scanned"
    for barcode in result.barcodes:
        dev = VirtualTape(cartridge_folder(lib, barcode))
        try:
            rep = scan_volume(dev, dest=dest)
        finally:
            dev.close()
        assert rep.status == "ok" and not rep.refused
    for s in (2, 3, 4):              # each cartridge's own .lto-archive files, side by side
        assert (dest / f".lto-archive/volume-{s}/tape-file-1/manifest.json").is_file()
    assert (dest / ".lto-archive/tape-file-1/manifest.json").is_file()
    for name in SIZES:
        assert (dest / "card/CLIPS" / name).read_bytes() == _bytes(card, name)
    assert sorted(p.name for p in (dest / "card/CLIPS").iterdir()) == sorted(SIZES)   # segments removed


def test_a_damaged_segment_fails_its_file_naming_the_cartridge(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import cli
    card, lib, result = _write(tmp_path)
    result.raise_for_status()
    folder = cartridge_folder(lib, "LTA003L9")         # only a middle segment of y.mov
    rec = record_path(folder, tape_file_blocks(folder, 0)[40])
    raw = bytearray(rec.read_bytes())
    raw[1000] ^= 0x01
    rec.write_bytes(bytes(raw))
    v = read_span(LibraryLoader(lib, result.barcodes), "verify")
    assert v.status == "failed"
    bad = {(b, f["path"]) for t, b in zip(v.tape_files, v.barcodes) for f in t.failed}
    assert ("LTA003L9", f"{CLIPS}/y.mov") in bad and ("LTA004L9", f"{CLIPS}/y.mov") in bad   # part, then whole
    reasons = [f["reason"] for t in v.tape_files for f in t.failed]
    assert any("part 2: checksum mismatch" in x for x in reasons)
    assert any("its file footer" in x for x in reasons)                # and against the segment's own footer
    assert any("joined file" in x for x in reasons)
    assert {p for t in v.tape_files for p in t.verified} == {f"{CLIPS}/{n}" for n in ("a.mov", "x.mov", "z.mov")}
    res = CliRunner().invoke(cli, ["span", "verify", "--library", f"vlib:{lib.path}", "--cartridges",
                                   ",".join(result.barcodes), "--no-catalog", "--no-progress"])
    assert res.exit_code != 0
    lines = res.output.splitlines()
    at = lines.index(next(x for x in lines if x.strip().startswith("LTA003L9:")))
    assert "y.mov" in lines[at + 1]
    # axf scan of that cartridge: the segment fails, the cartridge is named by the caller; nothing else
    dev = VirtualTape(folder)
    try:
        rep = scan_volume(dev)
    finally:
        dev.close()
    assert [f.path for f in rep.by_status("failed")] == [f"{CLIPS}/y.mov"]


def test_a_missing_middle_cartridge(tmp_path: Path) -> None:
    card, lib, result = _write(tmp_path)
    result.raise_for_status()
    out = tmp_path / "restore"
    r = read_span(LibraryLoader(lib, ["LTA001L9", "LTA003L9", "LTA004L9"]), "restore", dest=out)
    assert not r.complete and r.status == "failed"
    err = r.tape_files[-1].error
    assert err is not None and "LTA003L9 holds no volume 2" in err.message
    assert [f["path"] for f in r.tape_files[-1].failed] == [f"{CLIPS}/x.mov"]
    assert "volume 2 with the rest of the file was not read" in r.tape_files[-1].failed[0]["reason"]
    assert (out / "card/CLIPS/a.mov").read_bytes() == _bytes(card, "a.mov")
    assert sorted(p.name for p in (out / "card/CLIPS").iterdir()) == ["a.mov"]      # no partial x.mov


def test_out_of_cartridges_and_a_device_fault_leave_the_earlier_volumes_whole(tmp_path: Path) -> None:
    card, lib, result = _write(tmp_path / "short", cartridges=2)
    assert isinstance(result.error, NoNextCartridge) and "LTA002L9" in result.error.message
    written = {f.path: f for f in result.files}
    assert written[f"{CLIPS}/z.mov"].status == "not-written"
    assert "only part of this file" in written[f"{CLIPS}/y.mov"].message
    v = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=tmp_path / "short/out")
    assert not v.complete
    assert {f["path"] for t in v.tape_files for f in t.failed} == {f"{CLIPS}/y.mov"}
    for name in ("a.mov", "x.mov"):
        assert (tmp_path / "short/out/card/CLIPS" / name).read_bytes() == _bytes(card, name)
    for barcode in result.barcodes:                   # each closed volume verifies alone
        dev = VirtualTape(cartridge_folder(lib, barcode))
        try:
            assert verify_tape(dev).status == "ok"
        finally:
            dev.close()
        reader, members, _ = _structures(lib, barcode)
        assert reader.object_footers[0].continues and reader.volume_footer.continues
    # where y.mov's first segment ends on the second cartridge: the same layout in a set of the same sizes
    (seg,) = [m for m in members if m.path == f"{CLIPS}/y.mov"]
    fault_block = _block_at(cartridge_folder(lib, "LTA002L9"), seg.data_offset + seg.size - 1)

    # the drive fails on the second cartridge, on the last record of y.mov's segment there. The position is
    # a record address, not a count of calls: the job hands records to the drive thread in chunks, and a
    # fault there is noticed at the next hand-over or at the volume's close, after y.mov is in the volume
    # whatever the threads' timing (a fault noticed while the file is copied: the test below)
    tmp = tmp_path / "fault"
    card = make_card(tmp, SIZES)
    lib = make_library(tmp / "lib", cartridges=4, capacity=CAP)
    vt = VirtualTape(cartridge_folder(lib, "LTA002L9"))
    vt.faults = Faults(write_error_at_block=fault_block, write_error_partition=0)
    vt.save_settings()
    vt.close()
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format="axf", record_size=RS))
    assert isinstance(result.error, DeviceError)
    assert f"block {fault_block} (injected)" in result.error.message
    assert "LTA002L9" in result.error.message and result.set_id in result.error.message
    statuses = {f.path: f.status for f in result.volumes[1].files}
    assert statuses == {f"{CLIPS}/x.mov": "ok", f"{CLIPS}/y.mov": "lost", f"{CLIPS}/z.mov": "not-written"}
    assert f"{CLIPS}/y.mov" in result.error.message
    dev = VirtualTape(cartridge_folder(lib, "LTA001L9"))
    try:
        first = verify_tape(dev)
    finally:
        dev.close()
    assert first.status == "ok" and sorted(first.tape_files[0].verified) == [f"{CLIPS}/a.mov", f"{CLIPS}/x.mov"]


def test_a_device_fault_noticed_while_a_file_is_copied_reports_that_file_lost(tmp_path: Path, monkeypatch) -> None:
    """The order the threads sometimes take, made certain: the drive fails inside y.mov's segment and the job
    learns it before y.mov's bytes are all handed over (each slice is waited for)."""
    copy_from = RecordStream.copy_from

    def copy_and_wait(self, source, size, hasher=None):  # type: ignore[no-untyped-def]
        out = copy_from(self, source, size, hasher)
        if self.offset % self.record_size == 0:
            self.sync()                  # raises the device's error as soon as the drive has it
        return out

    monkeypatch.setattr(RecordStream, "copy_from", copy_and_wait)
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=4, capacity=CAP)
    vt = VirtualTape(cartridge_folder(lib, "LTA002L9"))
    vt.faults = Faults(write_error_after_calls=120)     # in y.mov's segment (x.mov's ends near record 100)
    vt.save_settings()
    vt.close()
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format="axf", record_size=RS))
    assert isinstance(result.error, DeviceError)
    statuses = {f.path: f.status for f in result.volumes[1].files}
    assert statuses == {f"{CLIPS}/x.mov": "ok", f"{CLIPS}/y.mov": "lost", f"{CLIPS}/z.mov": "not-written"}
    assert f"{CLIPS}/y.mov" in result.error.message


def test_appending_to_a_cartridge_that_holds_an_axf_volume(tmp_path: Path) -> None:
    """7.1: the set's first object continues the volume already there (its identity, its object list); the
    next cartridge, blank, begins a volume of the set's collection."""
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=CAP)
    before = make_card(tmp_path / "before", {"old.mov": 1 * MiB})
    drive = lib.load_barcode("LTA001L9", None)
    dev = lib.open_drive(drive)
    write_archive([before], dev, WriteOptions(format="axf", record_size=RS)).raise_for_status()
    dev.close()
    lib.unload(drive)
    old, _, _ = _structures(lib, "LTA001L9", 0)
    card = make_card(tmp_path, {"a.mov": 2 * MiB, "x.mov": 16 * MiB})
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format="axf", record_size=RS))
    result.raise_for_status()
    assert result.barcodes[:2] == ["LTA001L9", "LTA002L9"]
    assert result.volumes[0].manifest.session.span["data_tape_file"] == 1
    first, _, _ = _structures(lib, "LTA001L9", 1)
    ident = old.volume_header.identity
    assert first.signature is None and first.objects[0].volume == ident          # the volume goes on
    assert first.volume_footer.continues is False               # its collection is not the set's
    assert first.object_footers[0].continues                     # but the object goes on
    meta, _, _ = _structures(lib, "LTA001L9", 2)
    assert [o.tape_file for o in meta.volume_footer.objects] == [0, 1, 2]
    second, _, _ = _structures(lib, "LTA002L9", 0)
    assert second.volume_header.identity.collection_uuid == result.set_id
    assert second.volume_header.identity.previous_volume == ident.volume_uuid
    assert second.objects[0].continued_from == ident.volume_uuid and second.objects[0].part == 2
    out = tmp_path / "out"
    read_span(LibraryLoader(lib, result.barcodes), "restore", dest=out).raise_for_status()
    for name in ("a.mov", "x.mov"):
        assert hashlib.md5((out / "card/CLIPS" / name).read_bytes()).digest() == \
            hashlib.md5(_bytes(card, name)).digest()
    dev = VirtualTape(cartridge_folder(lib, "LTA001L9"))
    try:
        assert verify_tape(dev, tape_files=[0]).tape_files[0].verified == ["card/CLIPS/old.mov"]
    finally:
        dev.close()


@example(sizes=[5 * MiB, 5 * MiB, 0], capacity=4 * MiB, ew_zone=None, record_kib=64, split_files=False, seed=1)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(0, 5 * MiB), min_size=1, max_size=5),
       capacity=st.integers(4 * MiB, 8 * MiB),
       ew_zone=st.one_of(st.none(), st.integers(1 * MiB, 2 * MiB)),
       record_kib=st.sampled_from([4, 16, 64]),
       split_files=st.booleans(),
       seed=st.integers(0, 2**32 - 1))
def test_any_axf_set_restores_byte_for_byte(sizes, capacity, ew_zone, record_kib, split_files, seed) -> None:
    """Whatever the file sizes, cartridge sizes, early-warning zones and record sizes: the set restores byte for
    byte; every segment but a file's last is a whole number of 512-byte blocks and says it continues."""
    tmp = Path(tempfile.mkdtemp(prefix="span-axf-prop-"))
    try:
        rnd = random.Random(seed)
        card = tmp / "card"
        card.mkdir()
        for i, size in enumerate(sizes):
            (card / f"clip{i}.mov").write_bytes(rnd.randbytes(size))
        carts = []
        for i in range(sum(sizes) // (capacity // 4) + 3):
            kw = {"early_warning_bytes": ew_zone, "programmable_early_warning_bytes": ew_zone} if ew_zone else {}
            create_vtape(tmp / f"c{i}", "LTO-9", capacity=capacity, barcode=f"AXF{i:03d}L9", **kw).close()
            carts.append(tmp / f"c{i}")
        opts = WriteOptions(format="axf", record_size=record_kib * 1024, chunk_size=64 * 1024)
        result = write_span([card], ListSupply(carts), opts, split_files=split_files)
        result.raise_for_status()
        used = carts[:len(result.volumes)]
        for i, c in enumerate(used):
            reader = AxfReader(io.BytesIO(tape_file_bytes(c, 0)))
            for m in reader:
                if m.part_offset is not None:
                    assert m.size > 0 and (m.continues or m.part_offset + m.size == m.file_size)
                    if m.continues:
                        assert m.size % 512 == 0
            assert reader.volume_footer.identity.sequence == i + 1
        out = tmp / "ours"
        read_span(ListLoader(used), "restore", dest=out).raise_for_status()
        for i in range(len(sizes)):
            assert (out / "card" / f"clip{i}.mov").read_bytes() == (card / f"clip{i}.mov").read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_the_spec_appendix_reader_joins_a_set(tmp_path: Path) -> None:
    """From the specification alone: its Appendix A reader, over each cartridge's data tape file in set order,
    proves every segment by its own footer; joined by path in segment_offset order, the files come back."""
    from tests.formats.test_axf_spec import spec_reader
    read_tape_file = spec_reader()
    card, lib, result = _write(tmp_path)
    result.raise_for_status()
    joined: dict[str, list[tuple[int, bytes]]] = {}
    for barcode in result.barcodes:
        for m in read_tape_file(volume_bytes(lib, barcode, 0)):
            if m["kind"] == "file" and not m["path"].startswith(".lto-archive/"):
                assert m["proven"], m["path"]
                joined.setdefault(m["path"], []).append((m["segment_offset"], m["data"]))
    assert sorted(len(v) for v in joined.values()) == [1, 1, 2, 3]
    for path, segments in joined.items():
        assert b"".join(d for _, d in sorted(segments)) == _bytes(card, path.rsplit("/", 1)[1])


def test_write_span_format_axf_from_the_command_line(tmp_path: Path) -> None:
    """`write --span --format axf --verify` with a catalog, then `span list` and `span restore --set`."""
    import json

    from click.testing import CliRunner

    from cli.main import cli

    def run(*args: object) -> dict:  # type: ignore[type-arg]
        res = CliRunner().invoke(cli, [str(a) for a in args] + ["--json"])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)

    card = make_card(tmp_path, {"A001C001.mov": 3 * MiB, "A001C002.mov": 20 * MiB, "A001C003.mov": 200_000})
    cat, lib = tmp_path / "catalog.sqlite", tmp_path / "lib"
    run("vlib", "create", lib, "--drives", "1", "--slots", "4", "--cartridges", "3", "--capacity", "16M")
    doc = run("write", card, "--device", f"vlib:{lib}", "--span", "--format", "axf", "--barcodes", "LTA*",
              "--block-size", "64K", "--catalog", cat, "--no-progress", "--verify", "--log-dir", tmp_path / "logs")
    assert doc["status"] == "ok" and doc["verify"]["status"] == "ok" and doc["verify"]["complete"]
    assert [c["barcode"] for c in doc["cartridges"]] == ["LTA001L9", "LTA002L9"]
    assert [p["number"] for c in doc["cartridges"] for p in c["parts"]] == [1, 2]
    sets = run("span", "list", "--catalog", cat)["sets"]
    assert [v["cartridge"] for v in sets[0]["volumes"]] == ["LTA001L9", "LTA002L9"]
    out = tmp_path / "restore"
    got = run("span", "restore", out, "--library", f"vlib:{lib}", "--set", doc["set_id"][:8], "--catalog", cat,
              "--no-progress")
    assert got["status"] == "ok" and got["complete"]
    for p in (card / "CLIPS").iterdir():
        assert (out / "card/CLIPS" / p.name).read_bytes() == p.read_bytes()
    # restore --from-catalog: the whole files by their catalogued positions; the split one is named, not taken
    res = CliRunner().invoke(cli, ["restore", "--from-catalog", "--library", f"vlib:{lib}", "--catalog", str(cat),
                                   str(tmp_path / "cat-out"), "card/*", "--no-progress"])
    assert res.exit_code == 5 and "A001C002.mov: split across the cartridges" in res.output
    assert "lto-archive span restore" in res.output
    for name in ("A001C001.mov", "A001C003.mov"):
        assert (tmp_path / "cat-out/card/CLIPS" / name).read_bytes() == (card / "CLIPS" / name).read_bytes()
    assert not (tmp_path / "cat-out/card/CLIPS/A001C002.mov").exists()
