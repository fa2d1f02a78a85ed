"""A job over three small cartridges of a virtual library: GNU tar joins what we wrote."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from lto_archive.errors import NoNextCartridge
from lto_archive.formats.tar_reader import TarReader
from lto_archive.jobs.write import WriteOptions
from lto_archive.manifest import Manifest
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span
from tests.conftest import require_tool
from tests.span.helpers import MiB, RS, make_card, make_library, volume_bytes
from tests.span.test_tar_volumes import join_volumes
from tests.tape_helpers import run


def _metadata(lib, barcode: str) -> Manifest:
    r = TarReader(io.BytesIO(volume_bytes(lib, barcode, 1)))
    for m in r:
        if m.path == ".lto-archive/manifest.json":
            return Manifest.from_json(r.read_data(m))
    raise AssertionError("no manifest")


def test_three_cartridges_gnu_tar_joins_the_split_file(tmp_path: Path) -> None:
    require_tool("tar")
    card = make_card(tmp_path, {"a.mov": 3_000_000, "b.mov": 4_000_000, "big.mov": 11_000_000, "c.mov": 100_000})
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS))
    result.raise_for_status()
    assert result.barcodes == ["LTA001L9", "LTA002L9", "LTA003L9"]

    vols = []
    for i, barcode in enumerate(result.barcodes):
        raw = volume_bytes(lib, barcode)
        vols.append(tmp_path / f"vol{i + 1}")
        vols[-1].write_bytes(raw)
    out = tmp_path / "gnu"
    out.mkdir()
    args = ["tar", "-xM"]
    for v in vols:
        args += ["-f", str(v)]
    run(args, cwd=out)
    for name in ("a.mov", "b.mov", "big.mov", "c.mov"):
        assert (out / "card/CLIPS" / name).read_bytes() == (card / "CLIPS" / name).read_bytes(), name
    # the last cartridge's checksum list proves the whole split file after tar -xM
    sums = _metadata(lib, "LTA003L9").checksum_lists()["checksums.md5"]
    (out / "sums.md5").write_bytes(sums)
    assert b"card/CLIPS/big.mov" in sums
    run(["md5sum", "-c", "sums.md5"], cwd=out)

    # our reader joins them too
    got = join_volumes([v.read_bytes() for v in vols])
    for name in ("a.mov", "b.mov", "big.mov", "c.mov"):
        assert got[f"card/CLIPS/{name}"] == (card / "CLIPS" / name).read_bytes()

    # every cartridge describes itself: set, sequence, which part of the split file
    manifests = [_metadata(lib, b) for b in result.barcodes]
    sets = {m.session.span["set_id"] for m in manifests}
    assert sets == {result.set_id}
    assert [m.session.span["sequence"] for m in manifests] == [1, 2, 3]
    assert [m.session.span["last"] for m in manifests] == [False, False, True]
    assert [m.session.span["previous"] for m in manifests] == [None, "LTA001L9", "LTA002L9"]
    parts = [f.part for m in manifests for f in m.files if f.path == "card/CLIPS/big.mov"]
    assert [p["number"] for p in parts] == [1, 2, 3]
    assert sum(p["length"] for p in parts) == 11_000_000
    assert [p["offset"] for p in parts] == [0, parts[0]["length"], parts[0]["length"] + parts[1]["length"]]
    assert parts[-1]["file_hashes"]["md5"] == __import__("hashlib").md5(
        (card / "CLIPS/big.mov").read_bytes()).hexdigest()
    session = json.loads(next(iter(_members(vols[0])))[1])
    assert session["span"]["set_id"] == result.set_id and session["span"]["sequence"] == 1


def _members(path: Path):
    r = TarReader(io.BytesIO(path.read_bytes()), volume=True)
    for m in r:
        yield m.path, r.read_data(m)


def test_files_stay_whole_unless_larger_than_a_cartridge(tmp_path: Path) -> None:
    card = make_card(tmp_path, {"a.mov": 3_000_000, "b.mov": 3_000_000, "c.mov": 3_000_000})
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS))
    result.raise_for_status()
    assert result.barcodes == ["LTA001L9", "LTA002L9"]
    assert all(f.part is None for v in result.volumes for f in v.files)
    assert [f.path for f in result.volumes[1].files] == ["card/CLIPS/c.mov"]
    got = join_volumes([volume_bytes(lib, b) for b in result.barcodes])
    assert got["card/CLIPS/c.mov"] == (card / "CLIPS/c.mov").read_bytes()


def test_split_files_fills_every_cartridge(tmp_path: Path) -> None:
    card = make_card(tmp_path, {"a.mov": 3_000_000, "b.mov": 3_000_000, "c.mov": 3_000_000})
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS), split_files=True)
    result.raise_for_status()
    assert result.barcodes == ["LTA001L9", "LTA002L9"]
    split = [f for f in result.volumes[0].files if f.part]
    assert [f.path for f in split] == ["card/CLIPS/c.mov"]
    got = join_volumes([volume_bytes(lib, b) for b in result.barcodes])
    assert got["card/CLIPS/c.mov"] == (card / "CLIPS/c.mov").read_bytes()


def test_cartridges_too_small_for_a_part_stop_the_set_at_once(tmp_path: Path) -> None:
    """Cartridges whose room besides the set's metadata reserve is less than one record: the file that
    must be split stops the set on the first empty cartridge (named), instead of rolling through every
    cartridge of the library; the file that fitted before is whole and proven on the first."""
    card = make_card(tmp_path, {"a.mov": 300_000, "b.mov": 900_000})
    lib = make_library(tmp_path / "lib", cartridges=6, capacity=1536 * 1024, slots=6)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=512 * 1024))
    assert isinstance(result.error, NoNextCartridge)
    assert "card/CLIPS/b.mov does not fit on an empty cartridge (LTA002L9)" in result.error.message
    assert result.barcodes == ["LTA001L9", "LTA002L9"]        # LTA003L9..LTA006L9 untouched
    assert [(f.path, f.status) for f in result.volumes[0].files] == [("card/CLIPS/a.mov", "ok")]
    r = TarReader(io.BytesIO(volume_bytes(lib, "LTA001L9")), volume=True)
    got = {m.path: r.read_data(m) for m in r}
    assert got["card/CLIPS/a.mov"] == (card / "CLIPS/a.mov").read_bytes()
    assert "card/CLIPS/b.mov" not in got                       # no part of it anywhere
    with pytest.raises(IndexError):                            # the refused cartridge stays blank
        volume_bytes(lib, "LTA002L9")


def test_each_cartridge_counts_the_bytes_it_holds(tmp_path: Path) -> None:
    """A cartridge's manifest and copy log say what IT holds: a split file counts with its part's length
    there (not the whole file's size on every cartridge), so the per-cartridge figures add up to the job."""
    sizes = {"a.mov": 3_000_000, "b.mov": 4_000_000, "big.mov": 11_000_000, "c.mov": 100_000}
    card = make_card(tmp_path, sizes)
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=RS))
    result.raise_for_status()
    per_cartridge = [_metadata(lib, b).session.bytes_copied for b in result.barcodes]
    assert per_cartridge == [v.manifest.session.bytes_copied for v in result.volumes]
    assert sum(per_cartridge) == sum(sizes.values())
    for barcode, n in zip(result.barcodes, per_cartridge):
        on_it = [f for f in _metadata(lib, barcode).files if f.kind == "file" and f.status == "ok"]
        assert n == sum(f.part["length"] if f.part else f.size for f in on_it) > 0
