"""Fuzz: the LTFS labels at the start of each partition (formats/ltfs/label.py): VOL1 and the XML
label, as our formatter writes them, then mutated. Only CorruptArchive comes out, and a label that
parses holds values the reader can use (a block size within what LTFS allows)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from lto_archive.errors import CorruptArchive
from lto_archive.formats.ltfs.label import MAX_BLOCKSIZE, Label, build_vol1, parse_vol1
from lto_archive.formats.ltfs.volume import format_volume, open_volume, read_size
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.device import MAX_RECORD
from tests.fuzz.common import FUZZ
from tests.fuzz.mutate_bytes import mutated_bytes

LABEL = Label(creator="lto-archive 0.1.0 - Linux - mkltfs", format_time_ns=1_796_000_000_123_456_789,
              volume_uuid="0b5a2f3e-8c1d-4e6f-9a7b-1c2d3e4f5a6b", partition="a", blocksize=524288)
XML = LABEL.to_xml()
VOL1 = build_vol1("AAA001")


def test_our_labels_read_back() -> None:
    assert Label.from_xml(XML) == LABEL and Label.from_xml(LABEL.with_partition("b").to_xml()).partition == "b"
    assert parse_vol1(VOL1) == "AAA001" and parse_vol1(build_vol1(None)) is None


@FUZZ
@given(mutated_bytes(XML))
@example(XML.replace(b"<blocksize>524288", b"<blocksize>5" + b"2" * 5000))
@example(XML.replace(b'version="2.4.0"', b'version="2.' + b"4" * 5000 + b'.0"'))
@example(XML.replace(b"<blocksize>524288", b"<blocksize>99999999999999999999"))
def test_xml_label(raw: bytes) -> None:
    try:
        label = Label.from_xml(raw)
    except CorruptArchive:
        return
    assert 0 < label.blocksize <= MAX_BLOCKSIZE
    assert label.partition in (label.index_partition, label.data_partition)


@FUZZ
@given(mutated_bytes(VOL1) | st.binary(max_size=100))
def test_vol1(raw: bytes) -> None:
    try:
        serial = parse_vol1(raw)
    except CorruptArchive:
        return
    assert serial is None or (len(serial) == 6 and serial.isascii())


class Reads(VirtualTape):
    """A virtual tape that remembers the largest read buffer asked for."""

    largest = 0

    def read_record(self, max_size: int = MAX_RECORD) -> bytes:
        Reads.largest = max(Reads.largest, max_size)
        return super().read_record(max_size)


@FUZZ
@given(st.sampled_from([4096, 524288, MAX_RECORD, MAX_RECORD + 1, 1 << 30, MAX_BLOCKSIZE]))
def test_a_volume_never_reads_more_than_a_record_whatever_its_label_says(block_size: int) -> None:
    """The label's block size is a size taken from the tape: it sizes the reads of the index, so above
    what a drive reads (MAX_RECORD) the volume is damage, and no read buffer is ever larger."""
    with tempfile.TemporaryDirectory() as tmp:
        with create_vtape(Path(tmp) / "t", "LTO-9", capacity=1 << 26, partitions=2) as dev:
            format_volume(dev, creator="fuzz")
        for p in (0, 1):        # the label (block 2 of each partition) as another tool might have written it
            rec = Path(tmp) / "t" / f"{p}_2_R"
            rec.write_bytes(rec.read_bytes().replace(b"<blocksize>524288<", b"<blocksize>%d<" % block_size))
        Reads.largest = 0
        with Reads(Path(tmp) / "t") as dev:
            try:
                state = open_volume(dev)
            except CorruptArchive as exc:
                assert block_size > MAX_RECORD and "block size" in exc.message
            else:
                assert block_size <= MAX_RECORD and state.block_size == block_size
    assert 0 < Reads.largest <= MAX_RECORD
    assert read_size(block_size) <= MAX_RECORD
