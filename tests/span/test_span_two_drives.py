"""`write --span` to two drives in one pass (the double backup): one read, one span set per drive, each
set its own id, cartridges and manifests, the shared data volumes byte-identical (docs/spanning.md,
"Two sets in one pass")."""

from __future__ import annotations

import io
import json
import random
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from cli.main import cli
from lto_archive.baf.check import check_card
from lto_archive.catalog.store import Catalog
from lto_archive.errors import DeviceError, UsageError
from lto_archive.formats.registry import get_format
from lto_archive.jobs.read import verify_tape
from lto_archive.jobs.write import WriteOptions
from lto_archive.library.vlib import VirtualLibrary, create_vlib
from lto_archive.manifest import MANIFEST_MEMBER, SESSION_MEMBER
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.supply import library_supplies
from lto_archive.span.write import write_spans
from lto_archive.tape.vtape import Faults, VirtualTape, create_vtape
from tests.span.helpers import MiB, RS, cartridge_folder, make_card, volume_bytes
from tests.span.test_span_props import ListLoader, ListSupply
from tests.span.test_span_read import SIZES
from tests.tape_helpers import tape_file_bytes, tree_snapshot

BIG = "card/CLIPS/big.mov"


def _cli(*args: object, code: int = 0) -> dict:  # type: ignore[type-arg]
    res = CliRunner().invoke(cli, [str(a) for a in args] + ["--json"])
    assert res.exit_code == code, res.output
    doc = json.loads(res.stdout) if res.stdout.strip() else {}
    return doc.get("result", doc) if doc.get("status") == "error" else doc   # a failed job: its result inside


def _library(root: Path, a: list[int], b: list[int]) -> VirtualLibrary:
    """Two drives; cartridges LTA001L9.. of the capacities `a`, LTB001L9.. of `b`."""
    create_vlib(root, drives=2, slots=len(a) + len(b), cartridges=0)
    for n, (prefix, cap) in enumerate([("LTA", c) for c in a] + [("LTB", c) for c in b], start=1):
        number = n if prefix == "LTA" else n - len(a)
        label = f"{prefix}{number:03d}L9"
        create_vtape(root / "slots" / str(n) / label, "LTO-9", cap, barcode=label).close()
    return VirtualLibrary(root)


def _manifest(lib: VirtualLibrary, barcode: str, fmt: str, tape_file: int = 1) -> dict:  # type: ignore[type-arg]
    """A cartridge's own manifest, from its metadata archive (raw tape file, our format reader)."""
    reader = get_format(fmt).reader(io.BytesIO(tape_file_bytes(cartridge_folder(lib, barcode), tape_file)))
    for m in reader:
        if m.path == MANIFEST_MEMBER:
            return json.loads(reader.read_data(m))
    raise AssertionError(f"no manifest on {barcode} tape file {tape_file}")


@pytest.mark.parametrize("fmt", ["tar", "cpio", "cpio-crc"])
def test_two_sets_in_one_pass(tmp_path: Path, fmt: str) -> None:
    card = make_card(tmp_path, SIZES)
    cat = tmp_path / "catalog.sqlite"
    lib = _library(tmp_path / "lib", [8 * MiB] * 4, [8 * MiB] * 4)
    doc = _cli("write", card, "--device", f"vlib:{lib.path}", "--span", "--barcodes", "LTA*", "--barcodes", "LTB*",
               "--block-size", "64K", "--format", fmt, "--catalog", cat, "--no-progress", "--verify",
               "--log-dir", tmp_path / "logs")
    assert doc["status"] == "ok"
    a, b = doc["sets"]
    assert a["job"] == b["job"] == doc["job"] and a["set_id"] != b["set_id"]
    assert a["verify"]["status"] == b["verify"]["status"] == "ok"
    codes_a = [c["barcode"] for c in a["cartridges"]]
    codes_b = [c["barcode"] for c in b["cartridges"]]
    assert codes_a == ["LTA001L9", "LTA002L9", "LTA003L9"] and codes_b == ["LTB001L9", "LTB002L9", "LTB003L9"]
    assert [p["number"] for c in a["cartridges"] for p in c["parts"] if p["path"] == BIG] == [1, 2, 3]
    assert a["cartridges"][0]["parts"] == b["cartridges"][0]["parts"]
    for n, (x, y) in enumerate(zip(codes_a, codes_b), start=1):
        # the data volumes: the same records on both drives, byte for byte
        assert volume_bytes(lib, x) == volume_bytes(lib, y)
        # each cartridge describes itself: its own set, label and previous cartridge
        for code, s, codes in ((x, a, codes_a), (y, b, codes_b)):
            man = _manifest(lib, code, fmt)
            span = man["session"]["span"]
            assert span["set_id"] == s["set_id"] and span["job"] == doc["job"] and span["sequence"] == n
            assert man["session"]["barcode"] == code
            assert man["session"]["session_id"] == f"{doc['job']}-{s['set_id'][:8]}-vol{n}"
            assert span["previous"] == (codes[n - 2] if n > 1 else None)
            assert span["last"] == (n == 3)
        assert _manifest(lib, x, fmt)["files"] == _manifest(lib, y, fmt)["files"]
    # inside the shared records, session.json names the job and both sets, and no per-set cartridge
    reader = get_format(fmt).reader(io.BytesIO(volume_bytes(lib, codes_b[0])))
    head = next(iter(reader))
    assert head.path == SESSION_MEMBER
    session = json.loads(reader.read_data(head))["span"]
    assert session == {"sets": [a["set_id"], b["set_id"]], "job": doc["job"], "sequence": 1}
    logs = sorted(Path(p).name for s in (a, b) for p in s["log"])     # each set's copy logs, none overwritten
    assert len(set(logs)) == 12 and all(Path(p).exists() for s in (a, b) for p in s["log"])

    listed = _cli("span", "list", "--catalog", cat)["sets"]
    assert {s["set_id"]: s["job"] for s in listed} == {a["set_id"]: doc["job"], b["set_id"]: doc["job"]}
    assert all(s["complete"] for s in listed)
    # the job id names two sets: the error names both, with their cartridges
    res = CliRunner().invoke(cli, ["span", "restore", str(tmp_path / "x"), "--library", f"vlib:{lib.path}",
                                   "--set", doc["job"], "--catalog", str(cat)])
    assert res.exit_code == UsageError.exit_code, res.output
    assert a["set_id"] in res.output and b["set_id"] in res.output and "LTB001L9, LTB002L9, LTB003L9" in res.output
    assert not (tmp_path / "x").exists()
    for s in (a, b):     # each set restores alone, byte for byte, the split file joined
        out = tmp_path / f"out-{s['set_id'][:8]}"
        got = _cli("span", "restore", out, "--library", f"vlib:{lib.path}", "--set", s["set_id"][:8],
                   "--catalog", cat, "--no-progress")
        assert got["status"] == "ok" and got["barcodes"] == [c["barcode"] for c in s["cartridges"]]
        assert tree_snapshot(out / "card") == tree_snapshot(card)

    with Catalog.open(cat) as catalog:     # two sets: two copies of every file, the split one included
        two = check_card(catalog, card, 2)
        assert two.covered, [f.reasons for f in two.missing]
        split = next(f for f in two.files if f.path == BIG)
        assert sorted(c.destination for c in split.copies) == ["+".join(codes_a), "+".join(codes_b)]
        assert all(c.split_over == 3 for c in split.copies)
        assert not check_card(catalog, card, 3).covered


def test_different_capacities_cut_every_set_at_the_smallest_room(tmp_path: Path) -> None:
    """B's cartridges are larger: the volumes still end at the same points (A's room), and a set
    written to cartridges that already hold a session (B's first) places its files at its own blocks."""
    card = make_card(tmp_path, SIZES)
    lib = _library(tmp_path / "lib", [8 * MiB] * 3, [12 * MiB] * 3)
    drive = lib.load_barcode("LTB001L9", 1)
    dev = lib.open_drive(drive)
    from lto_archive.jobs.write import write_archive
    old = make_card(tmp_path / "old", {"old.mov": 200_000})
    write_archive([old], dev, WriteOptions(record_size=RS)).raise_for_status()
    dev.close()
    lib.unload(drive)
    results = write_spans([card], library_supplies(lib, ["LTA*", "LTB*"]), WriteOptions(record_size=RS))
    a, b = results
    assert a.error is None and b.error is None and a.status == b.status == "ok"
    assert a.barcodes == ["LTA001L9", "LTA002L9", "LTA003L9"] and b.barcodes == ["LTB001L9", "LTB002L9", "LTB003L9"]
    assert [v.manifest.session.tape_file for v in b.volumes] == [1, 0, 0]
    assert volume_bytes(lib, "LTA001L9", 0) == volume_bytes(lib, "LTB001L9", 1)
    for x, y in zip(a.barcodes[1:], b.barcodes[1:]):
        assert volume_bytes(lib, x) == volume_bytes(lib, y)
    big_a = next(f for f in a.volumes[0].files if f.path == BIG)
    big_b = next(f for f in b.volumes[0].files if f.path == BIG)
    assert big_b.tape_file == 1 and big_a.tape_file == 0
    assert big_b.header_offset == big_a.header_offset and big_b.block > big_a.block
    for r in results:
        for code in r.barcodes:
            dev = VirtualTape(cartridge_folder(lib, code))
            try:
                assert verify_tape(dev).status == "ok"
            finally:
                dev.close()
        got = read_span(LibraryLoader(lib, r.barcodes), "restore", dest=tmp_path / f"out-{r.set_id[:8]}")
        assert got.status == "ok" and got.complete
        assert tree_snapshot(tmp_path / f"out-{r.set_id[:8]}" / "card") == tree_snapshot(card)


def test_a_drive_that_fails_mid_set_is_dropped_and_the_other_set_completes(tmp_path: Path) -> None:
    card = make_card(tmp_path, SIZES)
    lib = _library(tmp_path / "lib", [8 * MiB] * 3, [8 * MiB] * 3)
    vt = VirtualTape(cartridge_folder(lib, "LTB002L9"))
    vt.faults = Faults(write_error_after_calls=40)      # ~2.5 MB into B's second cartridge
    vt.save_settings()
    vt.close()
    a, b = write_spans([card], library_supplies(lib, ["LTA*", "LTB*"]), WriteOptions(record_size=RS))
    assert a.error is None and a.status == "ok" and a.barcodes == ["LTA001L9", "LTA002L9", "LTA003L9"]
    assert isinstance(b.error, DeviceError)
    assert "LTB002L9" in b.error.message and b.set_id in b.error.message and a.set_id not in b.error.message
    assert b.barcodes == ["LTB001L9", "LTB002L9"]
    written = {f.path: f for f in b.files}
    assert written[BIG].status == "lost" and written[BIG].part["number"] == 2    # B's drive failed inside it
    first_part = next(f for f in b.volumes[0].files if f.path == BIG)
    assert first_part.status == "ok" and "only part of this file is on tape" in first_part.message
    assert written["card/CLIPS/c.mov"].status == "not-written"
    got = read_span(LibraryLoader(lib, a.barcodes), "restore", dest=tmp_path / "out")
    assert got.status == "ok" and tree_snapshot(tmp_path / "out" / "card") == tree_snapshot(card)
    dev = VirtualTape(cartridge_folder(lib, "LTB001L9"))    # B's closed volume still describes itself
    try:
        first = verify_tape(dev)
    finally:
        dev.close()
    assert first.status == "ok" and first.tape_files[0].manifest is not None
    assert first.tape_files[0].manifest.session.span["set_id"] == b.set_id
    assert set(first.tape_files[0].verified) == {f.path for f in b.volumes[0].files if f.kind == "file"}


def test_refusals_before_anything_is_loaded(tmp_path: Path) -> None:
    card = make_card(tmp_path, {"a.mov": 100_000})
    lib = _library(tmp_path / "lib", [8 * MiB] * 2, [8 * MiB] * 2)
    for patterns, why in ((["LTA*", "LTC*"], "matches no cartridge"), (["LT*", "LTB*"], "both match"),
                          (["LTA001*", "LTA002*", "LTB*"], "free drives")):
        with pytest.raises(UsageError, match=why):
            library_supplies(lib, patterns)
    assert all(not d.full for d in lib.status().drives)
    res = CliRunner().invoke(cli, ["write", str(card), "--device", f"vlib:{lib.path}", "--span", "--format", "ltfs",
                                   "--barcodes", "LTA*", "--barcodes", "LTB*"])
    assert res.exit_code == UsageError.exit_code and "several drives" in res.output
    assert all(not d.full for d in lib.status().drives)


def test_two_separate_drives_and_one_next_tape_command(tmp_path: Path) -> None:
    """`--device A --device B --next-tape-command CMD`: CMD is told which drive needs a cartridge
    (LTO_ARCHIVE_DRIVE) and for which set; each drive's set is read back on its own."""
    card = make_card(tmp_path, SIZES)
    drives = {}
    for side in "AB":
        for i in (1, 2, 3):
            create_vtape(tmp_path / f"{side}{i}", "LTO-9", 8 * MiB, barcode=f"LT{side}00{i}L9").close()
        (tmp_path / f"drive{side}").symlink_to(tmp_path / f"{side}1")
        drives[side] = f"vtape:{tmp_path / f'drive{side}'}"
    script = tmp_path / "next.sh"
    script.write_text(f"""#!/bin/sh
set -e
echo "$LTO_ARCHIVE_DRIVE $LTO_ARCHIVE_SET $LTO_ARCHIVE_SEQUENCE" >> {tmp_path}/calls
case "$LTO_ARCHIVE_DRIVE" in
  {drives['A']}) side=A ;;
  {drives['B']}) side=B ;;
  *) exit 9 ;;
esac
[ -d {tmp_path}/$side$LTO_ARCHIVE_SEQUENCE ] || exit 3
ln -sfn {tmp_path}/$side$LTO_ARCHIVE_SEQUENCE {tmp_path}/drive$side
""")
    script.chmod(0o755)
    cat = tmp_path / "c.sqlite"
    doc = _cli("write", card, "--device", drives["A"], "--device", drives["B"], "--span", "--next-tape-command",
               script, "--block-size", "64K", "--catalog", cat, "--no-progress")
    assert doc["status"] == "ok"
    a, b = doc["sets"]
    assert (a["drive"], b["drive"]) == (drives["A"], drives["B"])
    assert [c["barcode"] for c in a["cartridges"]] == ["LTA001L9", "LTA002L9", "LTA003L9"]
    assert [c["barcode"] for c in b["cartridges"]] == ["LTB001L9", "LTB002L9", "LTB003L9"]
    calls = sorted(tuple(line.split()) for line in (tmp_path / "calls").read_text().splitlines())
    assert calls == sorted((drives[side], s["set_id"], str(n)) for side, s in (("A", a), ("B", b)) for n in (2, 3))
    for n in (1, 2, 3):
        assert tape_file_bytes(tmp_path / f"A{n}", 0) == tape_file_bytes(tmp_path / f"B{n}", 0)
    for side, s in (("A", a), ("B", b)):
        (tmp_path / f"drive{side}").unlink()
        (tmp_path / f"drive{side}").symlink_to(tmp_path / f"{side}1")      # volume 1 back in the drive
        out = tmp_path / f"out{side}"
        got = _cli("span", "restore", out, "--device", drives[side], "--next-tape-command", script,
                   "--set", s["set_id"], "--catalog", cat, "--no-progress")
        assert got["status"] == "ok" and got["complete"] and got["set_id"] == s["set_id"]
        assert tree_snapshot(out / "card") == tree_snapshot(card)


def test_one_set_runs_out_of_cartridges_the_other_and_the_folder_go_on(tmp_path: Path) -> None:
    """B has two cartridges for a job that needs three: B's set stops (NoNextCartridge, named), A's set
    and the --copy-to folder get every file; the CLI reports both sets and exits with B's error."""
    card = make_card(tmp_path, SIZES)
    cat = tmp_path / "c.sqlite"
    lib = _library(tmp_path / "lib", [8 * MiB] * 3, [8 * MiB] * 2)
    shuttle = tmp_path / "shuttle"
    doc = _cli("write", card, "--device", f"vlib:{lib.path}", "--span", "--barcodes", "LTA*", "--barcodes", "LTB*",
               "--block-size", "64K", "--catalog", cat, "--no-progress", "--copy-to", shuttle, "--verify", code=4)
    a, b = doc["sets"]
    assert doc["status"] == "failed" and a["status"] == "ok" and b["status"] == "failed"
    assert a["verify"]["status"] == "ok" and "verify" not in b      # the set that went to the end is read back
    assert b["error"]["error"] == "NoNextCartridge" and "LTB002L9" in b["error"]["message"]
    assert [c["barcode"] for c in b["cartridges"]] == ["LTB001L9", "LTB002L9"]
    assert {p["path"]: p["status"] for p in b["problems"]}["card/CLIPS/c.mov"] == "not-written"
    (folder,) = a["folders"]
    assert folder["status"] == "ok" and folder["verified"] == len(SIZES)
    assert tree_snapshot(shuttle / "card", skip_top=("ascmhl",)) == tree_snapshot(card)
    with Catalog.open(cat) as catalog:        # A and the folder: two copies; B's closed volumes are recorded too
        two = check_card(catalog, card, 2)
        assert two.covered, [f.reasons for f in two.missing]
        c_mov = next(f for f in two.files if f.path == "card/CLIPS/c.mov")
        assert sorted(c.kind for c in c_mov.copies) == ["folder", "tape"]
    for code in ("LTB001L9", "LTB002L9"):        # B's closed volumes verify alone
        dev = VirtualTape(cartridge_folder(lib, code))
        try:
            assert verify_tape(dev).status in ("ok", "incomplete")
            assert not verify_tape(dev).tape_files[0].failed
        finally:
            dev.close()


def test_two_axf_sets_in_one_pass(tmp_path: Path) -> None:
    """AXF-style: each drive's volumes belong to its own set's collection (volume header, previous volume,
    object part and continued-from, volume footer), written per device; the members between are the
    same records on both (docs/spanning.md)."""
    from lto_archive.formats.axf import AxfReader
    card = make_card(tmp_path, SIZES)
    lib = _library(tmp_path / "lib", [8 * MiB] * 5, [8 * MiB] * 5)
    cat = tmp_path / "c.sqlite"
    doc = _cli("write", card, "--device", f"vlib:{lib.path}", "--span", "--barcodes", "LTA*", "--barcodes", "LTB*",
               "--format", "axf", "--block-size", "64K", "--catalog", cat, "--no-progress", "--verify")
    assert doc["status"] == "ok"
    a, b = doc["sets"]
    assert a["verify"]["status"] == b["verify"]["status"] == "ok"
    codes = {s["set_id"]: [c["barcode"] for c in s["cartridges"]] for s in (a, b)}
    assert len(codes[a["set_id"]]) == len(codes[b["set_id"]]) >= 3
    objects = set()
    for set_id, barcodes in codes.items():
        volumes: list[str] = []
        for n, code in enumerate(barcodes, start=1):
            raw = volume_bytes(lib, code)
            reader = AxfReader(io.BytesIO(raw))
            members = [m for m in reader if m.kind == "file" and not m.path.startswith(".lto-archive/")]
            ident = reader.volume_header.identity
            assert ident.collection_uuid == set_id and ident.sequence == n and ident.label == code
            assert ident.previous_volume == (volumes[-1] if volumes else "")
            (obj,), (footer,) = reader.objects, reader.object_footers
            assert obj.part == n and obj.continued_from == (volumes[-1] if volumes else "")
            assert reader.volume_footer.continues is (n < len(barcodes)) and footer.continues is (n < len(barcodes))
            assert obj.session["barcode"] == code and obj.session["id"].startswith(f"{doc['job']}-{set_id[:8]}")
            volumes.append(ident.volume_uuid)
            objects.add(obj.object_uuid)
            man = _manifest(lib, code, "axf")
            assert man["session"]["span"]["set_id"] == set_id and man["session"]["barcode"] == code
            for m in members:       # the manifest places every member where it is on this cartridge
                rec = next(f for f in man["files"] if f["path"] == m.path)
                assert rec["header_offset"] == m.header_offset and rec["block"] == m.header_offset // RS
    assert len(objects) == 1        # the shared members carry one object UUID: the job's object, in two collections
    for x, y in zip(codes[a["set_id"]], codes[b["set_id"]]):      # the shared records: the same bytes
        rx, ry = (AxfReader(io.BytesIO(volume_bytes(lib, c))) for c in (x, y))
        mx, my = ([m for m in r if m.kind == "file"] for r in (rx, ry))
        assert [(m.path, m.header_offset, m.size) for m in mx] == [(m.path, m.header_offset, m.size) for m in my]
        first = mx[0].header_offset
        raw_x, raw_y = volume_bytes(lib, x), volume_bytes(lib, y)
        last = mx[-1]
        assert raw_x[first:last.data_offset + last.size] == raw_y[first:last.data_offset + last.size]
    for s in (a, b):
        out = tmp_path / f"out-{s['set_id'][:8]}"
        got = _cli("span", "restore", out, "--library", f"vlib:{lib.path}", "--set", s["set_id"][:8],
                   "--catalog", cat, "--no-progress")
        assert got["status"] == "ok" and got["complete"]
        assert tree_snapshot(out / "card") == tree_snapshot(card)
    with Catalog.open(cat) as catalog:
        assert check_card(catalog, card, 2).covered


def test_axf_sets_when_one_drive_appends_to_a_volume(tmp_path: Path) -> None:
    """B's first cartridge already holds an AXF-style volume: B's structures at the start are fewer (no
    signature and volume header, 7.1), so the shared members sit at other offsets on B; B's manifest
    places them there, and both sets verify and restore."""
    from lto_archive.formats.axf import AxfReader
    from lto_archive.jobs.write import write_archive
    card = make_card(tmp_path, SIZES)
    lib = _library(tmp_path / "lib", [8 * MiB] * 5, [8 * MiB] * 5)
    drive = lib.load_barcode("LTB001L9", 1)
    dev = lib.open_drive(drive)
    write_archive([make_card(tmp_path / "old", {"old.mov": 100_000})], dev,
                  WriteOptions(format="axf", record_size=RS)).raise_for_status()
    dev.close()
    lib.unload(drive)
    a, b = write_spans([card], library_supplies(lib, ["LTA*", "LTB*"]), WriteOptions(format="axf", record_size=RS))
    assert a.status == b.status == "ok", (a.error, b.error)
    assert b.volumes[0].manifest.session.tape_file == 1 and a.volumes[0].manifest.session.tape_file == 0
    for r in (a, b):
        first = r.volumes[0].manifest.session.tape_file
        reader = AxfReader(io.BytesIO(volume_bytes(lib, r.barcodes[0], first)))
        on_tape = {m.path: m.header_offset for m in reader if m.kind == "file"}
        for f in r.volumes[0].files:
            if f.kind == "file":
                start = r.volumes[0].manifest.session.start_block
                assert f.header_offset == on_tape[f.path] and f.block == start + f.header_offset // RS
                assert f.tape_file == first
        out = tmp_path / f"out-{r.set_id[:8]}"
        got = read_span(LibraryLoader(lib, r.barcodes), "restore", dest=out)
        assert got.status == "ok" and got.complete
        assert tree_snapshot(out / "card") == tree_snapshot(card)
    shift = {f.path: f.header_offset for f in b.volumes[0].files if f.kind == "file"}
    assert any(shift[f.path] != f.header_offset for f in a.volumes[0].files if f.kind == "file")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(0, 5 * MiB), min_size=1, max_size=4),
       capacities=st.tuples(st.integers(3 * MiB, 8 * MiB), st.integers(3 * MiB, 8 * MiB)),
       ew_zone=st.one_of(st.none(), st.integers(1 * MiB, 2 * MiB)),
       split_files=st.booleans(),
       fmt=st.sampled_from(["tar", "cpio", "axf"]),
       seed=st.integers(0, 2**32 - 1))
def test_any_two_sets_restore_byte_for_byte(sizes, capacities, ew_zone, split_files, fmt, seed) -> None:  # type: ignore
    """Whatever the files, the two drives' cartridge sizes (and an early-warning zone on B's): both sets
    restore byte for byte, cut at the same points (as many volumes each), TAR/CPIO volumes identical."""
    tmp = Path(tempfile.mkdtemp(prefix="span-two-"))
    try:
        rnd = random.Random(seed)
        card = tmp / "card"
        card.mkdir()
        for i, size in enumerate(sizes):
            (card / f"clip{i}.mov").write_bytes(rnd.randbytes(size))
        carts: dict[str, list[Path]] = {}
        for side, capacity in zip("AB", capacities):
            kw = {"early_warning_bytes": ew_zone, "programmable_early_warning_bytes": ew_zone} \
                if ew_zone and side == "B" else {}
            carts[side] = []
            for i in range(sum(sizes) // (min(capacities) // 4) + 4):
                create_vtape(tmp / f"{side}{i}", "LTO-9", capacity=capacity, barcode=f"LT{side}{i:03d}L9", **kw).close()
                carts[side].append(tmp / f"{side}{i}")
        opts = WriteOptions(format=fmt, record_size=16 * 1024, chunk_size=64 * 1024)
        a, b = write_spans([card], [ListSupply(carts["A"]), ListSupply(carts["B"])], opts, split_files=split_files)
        a.raise_for_status()
        b.raise_for_status()
        assert len(a.volumes) == len(b.volumes) and a.set_id != b.set_id
        for r, side in ((a, "A"), (b, "B")):
            used = carts[side][:len(r.volumes)]
            out = tmp / f"out{side}"
            got = read_span(ListLoader(used), "restore", dest=out)
            got.raise_for_status()
            assert got.complete and got.set_id == r.set_id
            assert tree_snapshot(out / "card", mtimes=False) == tree_snapshot(card, mtimes=False)
        if fmt != "axf":
            for x, y in zip(carts["A"][:len(a.volumes)], carts["B"]):
                assert tape_file_bytes(x, 0) == tape_file_bytes(y, 0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_card_history_with_two_sets(tmp_path: Path) -> None:
    """The card's ASC MHL history is checked once for the job: a file that contradicts it is `changed` in
    BOTH sets (though its cartridge was closed before the check, at the last volume), and each set's last
    cartridge holds the same new generation (one generation for the job, not one per set)."""
    from lto_archive.mhl import read_history
    from tests.span.test_span_mhl import _card
    from tests.tape_helpers import run
    card = _card(tmp_path)
    with open(card / "CLIP" / "A001C001.mov", "r+b") as f:     # rot in the file whole on the first cartridges
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 1]))
    lib = _library(tmp_path / "lib", [8 * MiB] * 3, [8 * MiB] * 3)
    a, b = write_spans([card], library_supplies(lib, ["LTA*", "LTB*"]),
                       WriteOptions(algorithms=("md5",), record_size=RS))
    for r in (a, b):
        assert len(r.volumes) >= 2 and r.error is None and r.status == "incomplete"
        bad = next(f for f in r.volumes[0].files if f.path == "A001/CLIP/A001C001.mov")
        assert bad.status == "changed" and "ASC MHL history" in bad.message
        meta = tmp_path / f"meta-{r.set_id[:8]}"
        meta.mkdir()
        (tmp_path / "meta.tar").write_bytes(volume_bytes(lib, r.barcodes[-1], 1))
        run(["tar", "-xf", str(tmp_path / "meta.tar")], cwd=meta)
        assert [g.sequence_nr for g in read_history(meta / "A001").generations] == [1, 2]
    assert (tmp_path / f"meta-{a.set_id[:8]}" / "A001" / "ascmhl").exists()
    assert sorted(p.name for p in (tmp_path / f"meta-{a.set_id[:8]}" / "A001" / "ascmhl").iterdir()) == \
        sorted(p.name for p in (tmp_path / f"meta-{b.set_id[:8]}" / "A001" / "ascmhl").iterdir())
