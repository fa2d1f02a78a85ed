"""Section 1 of issue 13, as a script would do it: only `lto_archive.*`, real bytes checked.

Every format on a virtual tape (write, verify, byte-exact restore, list), a fan-out to two tapes and a
folder, a span over a virtual library with the restore of the set, the catalog, and the errors.
"""

from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path

import pytest

import lto_archive as lto


def _card(root: Path, sizes: dict[str, int]) -> Path:
    card = root / "A001"
    for name, size in sizes.items():
        p = card / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(os.urandom(size))
    return card


def _same_tree(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files, "nothing to compare"
    for rel in files:
        assert (b / rel).read_bytes() == (a / rel).read_bytes(), rel


@pytest.fixture
def card(tmp_path: Path) -> Path:
    return _card(tmp_path / "src", {"CLIPS/A001C001.mov": 700_001, "CLIPS/A001C002.mov": 65_536,
                                    "A001.xml": 123, "empty.txt": 0})


@pytest.mark.parametrize("fmt", ["tar", "cpio", "cpio-crc", "axf", "ltfs"])
def test_every_format_on_a_vtape_verifies_and_restores_byte_exact(tmp_path: Path, card: Path, fmt: str) -> None:
    assert fmt in lto.archive_formats()
    cat = lto.Catalog(tmp_path / "catalog.sqlite")
    with cat, lto.create_vtape(tmp_path / "tape", partitions=2 if fmt == "ltfs" else 1, barcode="ABC001L9") as tape:
        if fmt == "ltfs":
            formatted = lto.format_ltfs(tape, volume_name="DAY 1")
            assert formatted.ok and formatted.serial == "ABC001" and formatted.to_dict()["volume_name"] == "DAY 1"
        written = lto.write(card, tape, format=fmt, catalog=cat, log_dir=tmp_path / "logs")
        written.raise_for_status()
        assert written.ok and written.set_id is None
        assert {f.path for f in written.files} == {"A001/CLIPS/A001C001.mov", "A001/CLIPS/A001C002.mov",
                                                    "A001/A001.xml", "A001/empty.txt"}
        assert json.loads(json.dumps(written.to_dict(), default=str))["status"] == "ok"
        assert written.log_paths and all(p.exists() for p in written.log_paths)

        checked = lto.verify(tape, catalog=cat)
        assert checked.ok and checked.status == "ok"
        assert "A001/CLIPS/A001C001.mov" in checked.verified

        restored = lto.restore(tape, tmp_path / "out", catalog=cat)
        assert restored.ok, restored.to_dict()
        _same_tree(card, tmp_path / "out" / "A001")

        listing = lto.list_files(tape)
        entry = next(e for e in listing if e.path == "A001/CLIPS/A001C001.mov")
        assert entry.size == 700_001 and entry.position.block >= 0
        if fmt != "ltfs":             # TAR/CPIO/AXF: the manifest's hashes come with the listing
            assert set(entry.hashes) == {"xxh128", "md5"} and entry.position.tape_file == 0
        else:                         # LTFS: where its data starts on the data partition
            assert entry.position.block > 0
        hits = cat.search("A001C001")
        assert [h.path for h in hits] == ["A001/CLIPS/A001C001.mov"]
        assert hits[0].copies and hits[0].copies[0].verified


def test_fan_out_to_two_tapes_and_a_folder_proves_every_copy(tmp_path: Path, card: Path) -> None:
    a = lto.create_vtape(tmp_path / "A", barcode="AAA001L9")
    b = lto.create_vtape(tmp_path / "B", barcode="BBB001L9")
    with a, b:
        result = lto.write([card], [a, b, lto.Folder(tmp_path / "shuttle")], catalog=False, log_dir=False)
        result.raise_for_status()
        assert [(d["kind"], d["status"]) for d in result.destinations] == [("tape", "ok"), ("tape", "ok"),
                                                                          ("folder", "ok")]
        assert all(d["verified"] == 4 for d in result.destinations)     # read back by default (several targets)
    _same_tree(card, tmp_path / "shuttle" / "A001")
    assert lto.verify(lto.Folder(tmp_path / "shuttle"), catalog=False).ok
    for spec in (f"vtape:{tmp_path / 'A'}", f"vtape:{tmp_path / 'B'}"):
        out = tmp_path / ("out-" + spec[-1])
        assert lto.restore(spec, out, ["A001/CLIPS"], catalog=False).ok
        assert filecmp.cmp(card / "CLIPS/A001C001.mov", out / "A001/CLIPS/A001C001.mov", shallow=False)
        assert not (out / "A001/A001.xml").exists()


def test_span_over_a_vlib_and_restore_of_the_set(tmp_path: Path) -> None:
    src = _card(tmp_path / "src", {f"CLIPS/C{i:03d}.mov": 2_500_000 for i in range(1, 6)})
    cat = tmp_path / "catalog.sqlite"
    with lto.create_vlib(tmp_path / "lib", drives=1, slots=4, capacity="8M") as lib:
        result = lto.write(src, lib, span="LTA*", verify=True, catalog=cat, log_dir=tmp_path / "logs")
        result.raise_for_status()
        assert result.ok and result.set_id
        cartridges = [c["barcode"] for c in result.to_dict()["cartridges"]]
        assert len(cartridges) >= 2 and all(c.startswith("LTA") for c in cartridges)
        assert result.checks[0] is not None and result.checks[0].ok
        back = lto.restore(lib, tmp_path / "out", set=result.set_id[:8], catalog=cat)
        back.raise_for_status()
        assert back.set_id == result.set_id and back.to_dict()["complete"]
    _same_tree(src, tmp_path / "out" / "A001")
    with lto.Catalog(cat, create=False) as c:
        assert [s["set_id"] for s in c.span_sets()] == [result.set_id]


def test_restore_from_the_catalog_finds_the_cartridge(tmp_path: Path, card: Path) -> None:
    cat = lto.Catalog(tmp_path / "catalog.sqlite")
    with cat, lto.create_vtape(tmp_path / "A", barcode="AAA001L9") as a:
        lto.write(card, a, catalog=cat, log_dir=False).raise_for_status()
        plan = cat.plan_restore(["*.mov"])
        assert [c.barcode for c in plan] == ["AAA001L9"]
        done = lto.restore(cat, tmp_path / "out", ["*A001C002.mov"], devices=[a])
        assert done.ok, done.to_dict()
    assert (tmp_path / "out/A001/CLIPS/A001C002.mov").read_bytes() == (card / "CLIPS/A001C002.mov").read_bytes()
    assert not (tmp_path / "out/A001/CLIPS/A001C001.mov").exists()


def test_catalog_import_and_export(tmp_path: Path, card: Path) -> None:
    with lto.create_vtape(tmp_path / "A", barcode="AAA001L9") as a:
        lto.write(card, a, catalog=False, log_dir=False).raise_for_status()
    with lto.Catalog(tmp_path / "fresh.sqlite") as cat:
        rec = cat.import_tape(f"vtape:{tmp_path / 'A'}")
        assert rec.files == 4
        assert cat.export("csv", tmp_path / "out.csv") == 4
        assert "A001C001.mov" in (tmp_path / "out.csv").read_text()
        with pytest.raises(lto.UsageError, match="not a mount"):
            cat.import_tape(lto.LtfsMount(tmp_path))


def test_results_and_errors_are_the_public_ones(tmp_path: Path, card: Path) -> None:
    with lto.create_vtape(tmp_path / "A") as a:
        lto.write(card, a, catalog=False, log_dir=False)
        nothing = lto.restore(a, tmp_path / "out", ["no-such-file"], catalog=False)
        assert not nothing.ok
        with pytest.raises(lto.JobIncomplete, match="nothing matched"):
            nothing.raise_for_status()
        again = lto.restore(a, tmp_path / "out2", catalog=False)
        assert again.ok
        clash = lto.restore(a, tmp_path / "out2", catalog=False)
        assert not clash.ok and clash.status == "refused"
        with pytest.raises(lto.LtoArchiveError) as e:
            clash.raise_for_status()
        assert e.value.exit_code == lto.ExitCode.ARCHIVE
    with pytest.raises(lto.UsageError):
        lto.open_device("tape-of-some-kind:1")
    with lto.open_device(f"ltfs-mount:{tmp_path}") as mount:
        assert isinstance(mount, lto.LtfsMount) and mount.path == tmp_path
    with lto.open_device(f"vtape:{tmp_path / 'A'}") as dev:
        assert isinstance(dev, lto.TapeDevice) and dev.medium().capacity == lto.parse_capacity("2G") == 2_000_000_000


def test_the_public_api_is_importable_from_the_root_only() -> None:
    import importlib
    import inspect
    for sub in ("formats", "catalog", "tape", "library", "jobs", "span", "mhl", "report", "baf", "api", "demo", "bench"):
        importlib.import_module(f"lto_archive.{sub}")     # a subpackage must never shadow a public name
    assert lto.__version__ == "0.1.0"
    for name in lto.__all__:
        assert hasattr(lto, name), name
        assert not inspect.ismodule(getattr(lto, name)), name
    for name in ("create_vtape", "create_vlib", "open_device", "open_library", "format_ltfs", "write", "verify",
                 "restore", "list_files", "Catalog", "Folder", "WriteResult", "ReadResult", "LtoArchiveError"):
        assert name in lto.__all__


def test_place_text_says_where_each_format_puts_a_file() -> None:
    assert lto.place_text("tar", tape_file=1, block=2, offset=3) == "tar, tape file 1, block 2+3"
    assert lto.place_text("cpio", tape_file=1, block=2, offset=3, style="plan") == "tape file 1 block 2+3"
    assert lto.place_text("axf", tape_file=4, style="session") == "tape file 4"
    assert lto.place_text("ltfs", block=5, partition=1) == "LTFS, partition 1, block 5"
    assert lto.place_text("ltfs", block=5, style="plan") == "block 5"
    assert lto.place_text("ltfs", block=7, style="session") == "LTFS session from b/7"
    assert lto.place_text("ltfs", style="session") == "LTFS session"


def test_importing_one_part_of_the_library_does_not_load_the_rest() -> None:
    """The root package loads the API on first use: no cycle through it, and `lto_archive.tape` stays cheap."""
    import subprocess
    import sys
    code = ("import sys, lto_archive.tape.vtape as v; assert v.VirtualTape; "
            "assert 'lto_archive.api' not in sys.modules and 'lto_archive.jobs.write' not in sys.modules; "
            "import lto_archive; assert lto_archive.write and 'lto_archive.api' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(Path(lto.__file__).parents[1])})
