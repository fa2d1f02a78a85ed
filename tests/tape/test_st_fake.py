"""StTape over a model of the st driver (st_fake.py): the conformance suite in both position modes,
early warning, end of medium and errno mapping, without a drive."""

from __future__ import annotations

import errno
import logging
import os

import pytest

from lto_archive.errors import DeviceError, EndOfData, EndOfMedium, NoMedium, UsageError, WriteProtected
from lto_archive.generations import GENERATIONS
from lto_archive.tape import check_medium_writable
from lto_archive.tape import st_ioctl as io
from lto_archive.tape.device import WriteFlags
from lto_archive.tape.st import StOptions, StTape, parse_spec

from .conformance import DeviceFactory, TapeConformance
from .st_fake import FakeStDriver


def tape(**kw) -> StTape:  # type: ignore[no-untyped-def]
    opts = kw.pop("options", None)
    return StTape("/dev/nst0", opts, driver=FakeStDriver(**kw))


class FakeFactory(DeviceFactory):
    def __init__(self, positioned: bool, junk_at_eod: bool = False) -> None:
        self.positioned = positioned
        self.junk_at_eod = junk_at_eod

    def blank(self) -> StTape:
        return tape(positioned=self.positioned, junk_at_eod=self.junk_at_eod)

    def write_protected(self) -> StTape:
        return tape(positioned=self.positioned, write_protected=True)

    def two_partitions(self) -> StTape:
        if not self.positioned:
            return super().two_partitions()      # counting itself, StTape cannot change partition
        dev = tape(positioned=True)
        dev.format_partitions(2)                 # MODE SELECT page 0x11 + FORMAT MEDIUM through SG_IO
        return dev


class TestStOverDrivePosition(TapeConformance):
    @pytest.fixture
    def factory(self):
        return FakeFactory(positioned=True)


class TestStCountingItself(TapeConformance):
    @pytest.fixture
    def factory(self):
        return FakeFactory(positioned=False)


class TestStLikeTheEmulator(TapeConformance):
    """No READ POSITION, and zeros instead of EOD (tapevm's drive)."""

    @pytest.fixture
    def factory(self):
        return FakeFactory(positioned=False, junk_at_eod=True)


@pytest.mark.parametrize("positioned", [True, False])
def test_a_second_open_finds_the_same_addresses(positioned: bool) -> None:
    drv = FakeStDriver(positioned=positioned)
    dev = StTape("/dev/nst0", driver=drv)
    for item in ("a000", "b000", "F", "c000", "F", "d000"):
        dev.write_filemarks(1) if item == "F" else dev.write_record(item.encode())
    dev.close()
    dev = StTape("/dev/nst0", driver=drv)       # the same cartridge, a new process
    dev.seek_eod()
    pos = dev.position()
    assert (pos.block, pos.file_number, pos.eod) == (6, 2, True)
    dev.locate(0, 3)
    assert dev.read_record() == b"c000"
    dev.locate(0, 1)
    assert dev.position().file_number == 0 and dev.read_record() == b"b000"


def test_counting_mode_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lto_archive.tape.st"):
        dev = tape(positioned=False)
        dev.rewind()
        dev.load()
    assert dev.position_source == "counted"
    assert sum("READ POSITION" in r.message for r in caplog.records) == 1


def test_early_warning_is_reported_and_st_s_refused_write_retried() -> None:
    dev = tape(early_warning_at=10_000)
    flags = [dev.write_record(bytes(3000)) for _ in range(3)]
    assert flags == [WriteFlags.NONE] * 3
    f = dev.write_record(bytes(3000))          # crosses early warning: the driver says EOT
    assert f & WriteFlags.EARLY_WARNING
    f = dev.write_record(bytes(3000))          # st refuses this one once (ENOSPC): retried, written
    assert f & WriteFlags.EARLY_WARNING
    assert dev.position().block == 5 and dev.position().early_warning
    dev.rewind()
    assert [len(dev.read_record()) for _ in range(5)] == [3000] * 5


def test_room_past_early_warning_is_limited_then_end_of_medium() -> None:
    dev = tape(early_warning_at=1000, options=StOptions(ew_room=5000))
    dev.write_record(bytes(2000))              # crosses early warning
    n = 1
    with pytest.raises(EndOfMedium, match="full"):
        while True:
            dev.write_record(bytes(2000))
            n += 1
    assert n == 3                              # 2 x 2000 bytes past early warning fit in 5000
    assert dev.position().block == 3 and dev.position().eod
    dev.write_filemarks(1)                     # closing the session still works
    assert dev.medium().remaining == 1000


def test_hard_end_of_medium_writes_nothing() -> None:
    dev = tape(hard_end_at=5000, options=StOptions(ew_room=0))
    dev.write_record(bytes(4000))
    with pytest.raises(EndOfMedium):
        dev.write_record(bytes(2000))
    dev.rewind()
    assert len(dev.read_record()) == 4000


def test_write_protected_cartridge() -> None:
    dev = tape(write_protected=True)
    info = dev.medium()
    assert info.write_protected
    with pytest.raises(WriteProtected, match="write-protected"):
        check_medium_writable(info)
    with pytest.raises(WriteProtected):
        dev.write_record(b"abcd")


@pytest.mark.parametrize("code,kind,text", [
    (errno.ENOMEDIUM, NoMedium, "no cartridge"),
    (errno.EACCES, WriteProtected, "write-protected"),
    (errno.EROFS, WriteProtected, "write-protected"),
    (errno.EBUSY, DeviceError, "drive busy, another program has it open"),
    (errno.ENOSPC, EndOfMedium, "full"),
])
def test_errno_mapping(code: int, kind: type, text: str) -> None:
    dev = tape()
    err = dev._error(OSError(code, "x"), "write")
    assert isinstance(err, kind) and text in err.message


def test_open_errors_are_mapped() -> None:
    dev = tape()
    for code, kind, text in ((errno.EBUSY, DeviceError, "busy"), (errno.ENOENT, DeviceError, "no tape device"),
                             (errno.EACCES, DeviceError, "group 'tape'")):
        err = dev._open_error(OSError(code, "x"))
        assert isinstance(err, kind) and text in err.message


def test_empty_drive_refuses_to_open() -> None:
    drv = FakeStDriver()
    drv.loaded = False
    with pytest.raises(NoMedium, match="no cartridge in /dev/nst0"):
        StTape("/dev/nst0", driver=drv)
    assert drv.closed


def test_generations_from_inquiry_and_density() -> None:
    info = tape(product=("HP", "Ultrium 8-SCSI"), density=0x5C).medium()
    assert (info.drive_generation.name, info.generation.name, info.density_code) == ("LTO-8", "LTO-7", 0x5C)
    check_medium_writable(info)
    # no density code (the emulator): the drive's own generation, said once
    info = tape(product=("IBM", "ULT3580-TD9"), density=0).medium()
    assert info.generation == info.drive_generation == GENERATIONS["LTO-9"]
    # an LTO-4 drive with its medium is refused by the generation rules
    info = tape(product=("IBM", "ULT3580-TD4"), density=0x46).medium()
    with pytest.raises(Exception, match="older than LTO-5"):
        check_medium_writable(info)


def test_immediate_filemarks_and_locking() -> None:
    drv = FakeStDriver()
    dev = StTape("/dev/nst0", driver=drv)
    dev.write_record(b"abcd")
    assert drv.locked                                  # a job is writing: the cartridge stays in
    dev.write_filemarks(1, immediate=True)
    assert (io.MTWEOFI, 1) in drv.ops and drv.locked
    dev.write_filemarks(1)                             # the commit point
    assert (io.MTWEOF, 1) in drv.ops and not drv.locked
    dev.write_filemarks(0)
    assert (io.MTWEOF, 0) in drv.ops


def test_fixed_block_mode() -> None:
    drv = FakeStDriver()
    dev = StTape("/dev/nst0", StOptions(block=1024), driver=drv)
    assert (io.MTSETBLK, 1024) in drv.ops
    with pytest.raises(UsageError, match="fixed-block"):
        dev.write_record(bytes(1000))


def test_spec_options() -> None:
    assert parse_spec("/dev/nst0") == ("/dev/nst0", StOptions())
    path, o = parse_spec("st:/dev/nst1?block=512K&ew_room=64M&max_record=2M")
    assert (path, o.block, o.ew_room, o.max_record) == ("/dev/nst1", 512 * 1024, 64 << 20, 2 << 20)
    for bad in ("st:/dev/nst0?block=abc", "st:/dev/nst0?speed=1", "st:?block=1"):
        with pytest.raises(UsageError):
            parse_spec(bad)


def test_cartridge_memory_gives_barcode_and_capacity() -> None:
    from lto_archive.tape.scsi.device import CartridgeMemoryInfo
    drv = FakeStDriver(density=0)
    drv.mam = CartridgeMemoryInfo(barcode="ABC123L8", medium_serial="X", medium_type=0, manufacture_date=None,
                                  load_count=3, remaining_capacity_mb=1000, max_capacity_mb=11_444_224,
                                  density_code=0x5E)
    info = StTape("/dev/nst0", driver=drv).medium()
    assert (info.barcode, info.generation.name, info.remaining) == ("ABC123L8", "LTO-8", 1000 * 1024 * 1024)


def test_the_emulator_s_zeros_at_end_of_data_are_end_of_data() -> None:
    drv = FakeStDriver(positioned=False, junk_at_eod=True)
    dev = StTape("/dev/nst0", driver=drv)
    dev.write_record(b"abcd")
    dev.write_filemarks(1)
    dev.close()
    dev = StTape("/dev/nst0", driver=drv)        # EOD not known to this open
    assert dev.read_record() == b"abcd" and dev.read_record() == b""
    with pytest.raises(EndOfData):
        dev.read_record()
    assert (io.MTEOM, 1) in drv.ops               # the driver's early-warning state is cleared
    assert dev.position().eod and dev.position().block == 2
    assert dev.write_record(b"efgh") == WriteFlags.NONE


def test_write_job_end_of_medium_inside_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The write job on an st drive that ends inside a big file: that file is lost and named, the
    ones before are complete, whatever the read-ahead of the job when the drive gave up."""
    from lto_archive.jobs.write import WriteOptions, write_archive
    from lto_archive.manifest import LOST, OK
    from tests.bad_input_helpers import make_card

    card = make_card(tmp_path / "src", sizes={"a.bin": 100_000, "b.bin": 100_000, "c.bin": 4_000_000,
                                              "d.bin": 1000})
    dev = tape(hard_end_at=600_000, options=StOptions(ew_room=0))
    result = write_archive([card], dev, WriteOptions(record_size=16 * 1024, chunk_size=16 * 1024))
    assert isinstance(result.error, EndOfMedium)
    status = {r.path: r.status for r in result.manifest.files if r.kind == "file"}
    assert status["card/a.bin"] == status["card/b.bin"] == OK
    assert status["card/c.bin"] == LOST
    assert status.get("card/d.bin", "not-written") == "not-written"
    assert "card/c.bin" in result.error.message


# --- partitions (MODE SENSE/SELECT page 0x11, FORMAT MEDIUM, LOCATE(16) through SG_IO) ----------------
def test_partitions_come_from_the_medium_partition_page(caplog: pytest.LogCaptureFixture) -> None:
    assert tape(partitions=2).partitions == 2
    assert tape(partitions=2).medium().partitions == 2
    with caplog.at_level(logging.WARNING):
        dev = tape(partitions=1, scsi_partitions=False)
        assert dev.partitions == 1 and dev.medium().partitions == 1
    assert sum("MODE SENSE page 0x11" in r.message for r in caplog.records) == 1


def test_format_partitions_goes_through_scsi_then_rewinds_st() -> None:
    dev = tape()
    dev.write_record(b"old")
    drv = dev._drv
    dev.format_partitions(2)
    assert [c[0] for c in drv.scsi] == ["REWIND", "MODE SENSE", "MODE SELECT", "FORMAT MEDIUM"]
    assert drv.ops[-1] == (io.MTREW, 1)                  # st's own counters made right again
    assert dev.partitions == 2 and drv.parts == [[], []]
    dev.locate(1, 0)
    dev.write_record(b"one")
    p = dev.position()
    assert (p.partition, p.block, p.eod) == (1, 1, True)
    assert drv.status().partition == 0                  # st's idea is stale: position() asks the drive
    assert drv.scsi[-1] == ("LOCATE(16)", 1, 0)
    with pytest.raises(DeviceError, match="no partition 2"):
        dev.locate(2, 0)
    with pytest.raises(EndOfData):
        dev.locate(0, 5)
    with pytest.raises(UsageError, match="1 or 2 partitions"):
        dev.format_partitions(3)


def test_a_drive_that_cannot_partition_leaves_the_tape_untouched() -> None:
    dev = tape(scsi_partitions=False)
    for i in range(3):
        dev.write_record(f"keep {i}".encode())
    dev.write_filemarks(1)
    drv = dev._drv
    before = [list(p) for p in drv.parts]
    with pytest.raises(UsageError, match=r"cannot partition.*LTFS needs a partition-capable drive \(LTO-5"):
        dev.format_partitions(2)
    assert drv.parts == before and dev.partitions == 1
    from lto_archive.formats.ltfs.volume import format_volume
    with pytest.raises(UsageError, match="cannot partition"):
        format_volume(dev, creator="t", block_size=4096)
    assert drv.parts == before
    dev.rewind()
    assert [dev.read_record() for _ in range(4)] == [b"keep 0", b"keep 1", b"keep 2", b""]


def test_a_drive_without_locate_16_cannot_change_partition() -> None:
    drv = FakeStDriver(partitions=2)
    dev = StTape("/dev/nst0", driver=drv)
    assert dev.partitions == 2
    drv.scsi_partitions = False          # MODE SENSE was answered; LOCATE(16) is refused
    with pytest.raises(DeviceError, match="refuses LOCATE"):
        dev.locate(1, 0)


def test_ltfs_format_write_restore_on_a_two_partition_st_drive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lto_archive.formats.ltfs.volume import format_volume, open_volume
    from lto_archive.jobs.read import restore_tape
    from lto_archive.jobs.write import WriteOptions, write_archive
    src = tmp_path / "card"
    (src / "sub").mkdir(parents=True)
    files = {"card/a.bin": bytes(range(256)) * 300, "card/sub/b.mov": os.urandom(200_000), "card/empty": b""}
    for rel, data in files.items():
        (tmp_path / rel).write_bytes(data)
    dev = tape()
    assert dev.partitions == 1
    format_volume(dev, creator="t", serial="ST0001", volume_name="Vol", block_size=65536)
    assert dev.partitions == 2 and [c[0] for c in dev._drv.scsi].count("FORMAT MEDIUM") == 1
    opts = WriteOptions(format="ltfs", index_every_bytes=None, index_every_seconds=None, chunk_size=65536)
    assert write_archive([src], dev, opts).status == "ok"
    assert open_volume(dev).consistent
    r = restore_tape(dev, tmp_path / "dest", patterns=["card"])
    r.raise_for_status()
    for rel, data in files.items():
        assert (tmp_path / "dest" / rel).read_bytes() == data
    dev.close()
