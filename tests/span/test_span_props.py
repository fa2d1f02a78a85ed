"""Property: whatever the file sizes, cartridge sizes, early-warning zones and record sizes, a span set
restores byte for byte (by us and by GNU tar -xM), every part ends on a block, and no cartridge overflows."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from lto_archive.errors import NoNextCartridge
from lto_archive.jobs.write import WriteOptions
from lto_archive.span.read import read_span
from lto_archive.span.write import write_span
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.device import TapeDevice
from tests.conftest import require_tool
from tests.tape_helpers import run, tape_file_bytes, tree_snapshot

MiB = 1 << 20


class ListSupply:
    """Cartridges from a list of virtual cartridge folders, in order (the test's autoloader)."""

    def __init__(self, carts: list[Path]) -> None:
        self.carts, self.i, self.drive = carts, 0, "test drive"

    def first(self) -> TapeDevice:
        return VirtualTape(self.carts[0])

    def next(self, full: TapeDevice, set_id: str, sequence: int) -> TapeDevice:
        full.close()
        self.i += 1
        if self.i >= len(self.carts):
            raise NoNextCartridge("the test has no more cartridges")
        return VirtualTape(self.carts[self.i])

    def close(self) -> None:
        pass


class ListLoader:
    def __init__(self, carts: list[Path]) -> None:
        self.carts = carts

    def load(self, sequence: int, set_id: str | None) -> TapeDevice:
        if sequence > len(self.carts):
            raise NoNextCartridge("no such volume")
        return VirtualTape(self.carts[sequence - 1])

    def done(self, dev: TapeDevice) -> None:
        dev.close()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(0, 6 * MiB), min_size=1, max_size=5),
       capacity=st.integers(3 * MiB, 8 * MiB),
       ew_zone=st.one_of(st.none(), st.integers(1 * MiB, 2 * MiB)),
       record_kib=st.sampled_from([4, 16, 64]),
       split_files=st.booleans(),
       fmt=st.sampled_from(["tar", "cpio"]),
       seed=st.integers(0, 2**32 - 1))
def test_any_set_restores_byte_for_byte(sizes, capacity, ew_zone, record_kib, split_files, fmt, seed) -> None:
    require_tool("tar")
    require_tool("cpio")
    tmp = Path(tempfile.mkdtemp(prefix="span-prop-"))
    try:
        rnd = __import__("random").Random(seed)
        card = tmp / "card"
        card.mkdir()
        for i, size in enumerate(sizes):
            (card / f"clip{i}.mov").write_bytes(rnd.randbytes(size))
        total = sum(sizes)
        carts = []
        for i in range(total // (capacity // 3) + 3):
            kw = {"early_warning_bytes": ew_zone, "programmable_early_warning_bytes": ew_zone} if ew_zone else {}
            create_vtape(tmp / f"c{i}", "LTO-9", capacity=capacity, barcode=f"PRP{i:03d}L9", **kw).close()
            carts.append(tmp / f"c{i}")
        opts = WriteOptions(format=fmt, record_size=record_kib * 1024, chunk_size=64 * 1024)
        result = write_span([card], ListSupply(carts), opts, split_files=split_files)
        result.raise_for_status()
        used = carts[:len(result.volumes)]
        for v in result.volumes:
            for f in v.files:
                if f.part and not f.part["last"]:
                    assert f.part["length"] % 512 == 0 and f.part["length"] > 0
        out = tmp / "ours"
        read_span(ListLoader(used), "restore", dest=out).raise_for_status()
        assert tree_snapshot(out / "card", mtimes=False) == tree_snapshot(card, mtimes=False)
        gnu = tmp / "gnu"
        gnu.mkdir()
        args = ["tar", "-xM"]
        for i, c in enumerate(used):
            (tmp / f"vol{i}").write_bytes(tape_file_bytes(c, 0))
            args += ["-f", str(tmp / f"vol{i}")]
            if fmt == "cpio":
                run(["cpio", "-idm", "--quiet", "-F", str(tmp / f"vol{i}")], cwd=gnu)
        if fmt == "tar":
            run(args, cwd=gnu)
        else:       # the parts, joined with cat
            for v in result.volumes:
                for f in v.files:
                    if f.part:
                        with open(gnu / f.path, "ab") as whole:
                            whole.write((gnu / f.part["member"]).read_bytes())
        for i, size in enumerate(sizes):
            assert (gnu / "card" / f"clip{i}.mov").read_bytes() == (card / f"clip{i}.mov").read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_early_warning_cuts_the_file_before_the_planned_room(tmp_path: Path) -> None:
    """A real drive does not say how much room is left: early warning is where the volume ends."""
    card = tmp_path / "card"
    card.mkdir()
    data = os.urandom(12 * MiB)
    (card / "a.mov").write_bytes(data)
    carts = []
    for i in range(3):
        create_vtape(tmp_path / f"c{i}", "LTO-9", capacity=8 * MiB, early_warning_bytes=3 * MiB,
                     programmable_early_warning_bytes=3 * MiB).close()
        carts.append(tmp_path / f"c{i}")
    result = write_span([card], ListSupply(carts), WriteOptions(record_size=64 * 1024, chunk_size=64 * 1024))
    result.raise_for_status()
    first = result.volumes[0].files[-1].part
    # it reached the early-warning point (a tape position: the session's header members, less than one record,
    # come before the file's bytes; how far past it depends on how far the writer thread had got), well before
    # the planned room
    assert 5 * MiB - 64 * 1024 <= first["length"] < 7 * MiB
    out = tmp_path / "out"
    read_span(ListLoader(carts[:len(result.volumes)]), "restore", dest=out).raise_for_status()
    assert (out / "card/a.mov").read_bytes() == data
