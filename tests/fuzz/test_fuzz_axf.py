"""Fuzz: the AXF-style reader and the scanner (formats/axf), on tapes written by the real write job and
then mutated record by record. Only LtoArchiveError comes out; the scanner writes nothing outside
its restore root; a file whose data was changed is never proven, never restored."""

from __future__ import annotations

import hashlib
import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lto_archive.errors import EndOfData, LtoArchiveError
from lto_archive.formats.axf import AxfReader, scan_volume
from lto_archive.formats.axf.scan_report import PROVEN
from lto_archive.formats.tapefile import TapeFileReader
from lto_archive.hashing import hash_bytes
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import create_vtape
from tests.formats.fake_tape import FILEMARK, FakeTape
from tests.fuzz.common import FUZZ, damaged_records, tape_objects

RS = 4096


class Tape(FakeTape):
    """FakeTape with what the scanner and the read engine also use: spacing over filemarks and records."""

    def space_filemarks(self, count: int) -> None:
        step = 1 if count > 0 else -1
        for _ in range(abs(count)):
            while True:
                if step > 0 and self.block >= len(self.objects):
                    raise EndOfData("end of data", block=self.block)
                if step < 0:
                    if self.block == 0:
                        return
                    self.block -= 1
                    if self.objects[self.block] is FILEMARK:
                        break
                    continue
                self.block += 1
                if self.objects[self.block - 1] is FILEMARK:
                    break

    def space_records(self, count: int) -> None:
        self.block = max(0, min(len(self.objects), self.block + count))


def _written() -> tuple[list[bytes | None], dict[str, bytes]]:
    """Two sessions (two tape files) written by the write job to a vtape, as records and filemarks."""
    rnd = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        want: dict[str, bytes] = {}
        srcs = []
        for k, sizes in enumerate([(0, 1, 700, RS + 3), (2 * RS, 10)]):
            card = root / f"card{k}"
            (card / "CLIPS").mkdir(parents=True)
            for i, size in enumerate(sizes):
                data = rnd.randbytes(size)
                (card / "CLIPS" / f"c{i}.mov").write_bytes(data)
                want[f"card{k}/CLIPS/c{i}.mov"] = data
            (card / "link").symlink_to("CLIPS/c0.mov")
            srcs.append(card)
        tape = create_vtape(root / "tape", "LTO-9", capacity=1 << 28)
        for s in srcs:
            r = write_archive([s], tape, WriteOptions(format="axf", record_size=RS, chunk_size=2 * RS))
            assert r.status == "ok"
        tape.close()
        return tape_objects(root / "tape"), want


OBJECTS, WANT = _written()
DATA_RECORDS = [i for i, o in enumerate(OBJECTS) if o is not None and any(o in v for v in WANT.values() if len(v) >= RS)]


def read_all(objs: list[bytes | None]) -> None:
    """Every tape file through AxfReader: members, data and footers; a file read cleanly whose footer
    checksums match must hold the bytes written."""
    tape = Tape(objs)
    for _ in range(8):
        if tape.block >= len(tape.objects):
            return
        stream = TapeFileReader(tape)
        reader = AxfReader(stream)
        got: list[tuple[Any, bytes]] = []
        try:
            for m in reader:
                data = b"".join(bytes(c) for c in reader.iter_data(m)) if m.kind == "file" else b""
                got.append((m, data))
        except LtoArchiveError:
            stream.skip_to_end()
            continue
        for m, data in got:
            footer = m.extra.footer
            if m.kind == "file" and footer is not None and m.path in WANT and footer.checksums:
                if hash_bytes(data, footer.checksums) == footer.checksums:
                    assert data == WANT[m.path], f"{m.path}: damaged data passed its footer checksum"


def test_the_written_tape_reads_back_whole() -> None:
    read_all(OBJECTS)
    with tempfile.TemporaryDirectory() as tmp:
        report = scan_volume(Tape(OBJECTS), dest=Path(tmp) / "root")
        proven = {f.path for f in report.files if f.status == PROVEN}
        assert set(WANT) <= proven


@FUZZ
@given(damaged_records(OBJECTS))
def test_reader(objs: list[bytes | None]) -> None:
    read_all(objs)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink()
            else "" for p in sorted(root.rglob("*"))}


def scan_checked(objs: list[bytes | None]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        (top / "outside.txt").write_bytes(b"keep")
        root = top / "root"
        before = _tree(top)
        try:
            report = scan_volume(Tape(objs), dest=root)
        except LtoArchiveError:
            report = None
        outside = {k: v for k, v in _tree(top).items() if k != "root" and not k.startswith("root/")}
        assert outside == before, "the scanner wrote outside its restore root"
        if report is None:
            return
        for f in report.files:
            if f.status == PROVEN and f.kind == "file" and f.path in WANT and not f.continues:
                assert f.size == len(WANT[f.path]), f"{f.path} proven with another size"
                p = root / f.path
                if f.restored:
                    assert p.read_bytes() == WANT[f.path], f"{f.path}: damaged data proven and restored"


@FUZZ
@given(damaged_records(OBJECTS))
def test_scanner_restore(objs: list[bytes | None]) -> None:
    scan_checked(objs)


@FUZZ
@given(st.sampled_from(DATA_RECORDS), st.integers(0, RS - 1), st.integers(0, 7))
def test_a_flipped_data_byte_always_fails_its_footer_checksum(i: int, at: int, bit: int) -> None:
    objs = list(OBJECTS)
    rec = bytearray(objs[i])            # type: ignore[arg-type]
    rec[at % len(rec)] ^= 1 << bit
    objs[i] = bytes(rec)
    read_all(objs)
    with tempfile.TemporaryDirectory() as tmp:
        report = scan_volume(Tape(objs), dest=Path(tmp) / "root")
    hit = [p for p, v in WANT.items() if bytes(OBJECTS[i]) in v]  # type: ignore[operator]
    assert hit and all(f.status != PROVEN for f in report.files if f.path in hit)
