"""CPIO sets: each volume is a whole newc archive; a split file is NAME.part0001, NAME.part0002, ... (listed in
each cartridge's manifest), so GNU cpio -i of every volume and `cat` of the parts give it back."""

from __future__ import annotations

from pathlib import Path

import pytest

from lto_archive.errors import UsageError
from lto_archive.jobs.read import verify_tape
from lto_archive.jobs.write import WriteOptions
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span
from lto_archive.tape import VirtualTape
from tests.conftest import require_tool
from tests.span.helpers import MiB, RS, cartridge_folder, make_card, make_library, volume_bytes
from tests.span.test_span_read import SIZES
from tests.tape_helpers import run, tree_snapshot


@pytest.mark.parametrize("fmt,magic", [("cpio", b"070701"), ("cpio-crc", b"070702")])
def test_cpio_set_joins_with_cpio_and_cat_and_restores(tmp_path: Path, fmt: str, magic: bytes) -> None:
    """cpio-crc: GNU cpio -H crc checks every member's sum (parts included) as it extracts."""
    require_tool("cpio")
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format=fmt, record_size=RS))
    result.raise_for_status()
    assert len(result.volumes) == 3
    parts = [f.part for v in result.volumes for f in v.files if f.part]
    assert [p["member"] for p in parts] == [f"card/CLIPS/big.mov.part000{i}" for i in (1, 2, 3)]

    out = tmp_path / "gnu"
    out.mkdir()
    for i, barcode in enumerate(result.barcodes):
        vol = tmp_path / f"vol{i}"
        vol.write_bytes(volume_bytes(lib, barcode))
        assert vol.read_bytes()[:6] == magic
        run(["cpio", "-idm", "--quiet", "-H", "crc" if fmt == "cpio-crc" else "newc", "-F", str(vol)], cwd=out)
    joined = b"".join((out / p["member"]).read_bytes() for p in parts)
    assert joined == (card / "CLIPS/big.mov").read_bytes()
    for name in ("a.mov", "b.mov", "c.mov"):
        assert (out / "card/CLIPS" / name).read_bytes() == (card / "CLIPS" / name).read_bytes()

    r = read_span(LibraryLoader(lib, result.barcodes), "restore", dest=tmp_path / "ours")
    r.raise_for_status()
    assert tree_snapshot(tmp_path / "ours/card") == tree_snapshot(card)

    dev = VirtualTape(cartridge_folder(lib, result.barcodes[1]))    # one cartridge alone: its part proven
    try:
        v = verify_tape(dev)
    finally:
        dev.close()
    assert v.status == "ok" and v.tape_files[0].verified == ["card/CLIPS/big.mov"]


def test_other_formats_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    card = make_card(tmp_path, {"a.mov": 1000})
    lib = make_library(tmp_path / "lib", cartridges=1, capacity=8 * MiB)
    for fmt in ("zip",):     # every format we write spans now (AXF-style: tests/span/test_span_axf.py)
        with pytest.raises(UsageError, match="not available"):
            write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format=fmt, record_size=RS))
    assert lib.status().free_drive() == 0          # nothing was even loaded
