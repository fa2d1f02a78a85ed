"""ScsiDevice against a scripted drive: the commands it sends, what it makes of the answers,
and that it fails cleanly (and sends nothing destructive) when the drive cannot do a thing."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from lto_archive.errors import (DeviceError, DeviceNotFound, EndOfMedium, GenerationError, MediumError, NoMedium,
                                UsageError, WriteProtected)
from lto_archive.generations import GENERATIONS
from lto_archive.tape import mam
from lto_archive.tape.scsi import ScsiDevice, ScsiError, ScsiUnsupported, cdb
from lto_archive.tape.scsi.sg_io import BUSY, CHECK_CONDITION, RESERVATION_CONFLICT, Response

from . import examples as ex
from .fake import INVALID_FIELD, INVALID_OPCODE, FakeDrive, check, good

H = bytes.fromhex


def device(answers: dict) -> tuple[ScsiDevice, FakeDrive]:
    drive = FakeDrive(dict(answers))
    return ScsiDevice(-1, name="/dev/nst0", transport=drive), drive


# --- identity -----------------------------------------------------------------------------

def test_inquiry_sends_standard_inquiry_and_finds_the_generation():
    dev, drive = device({cdb.INQUIRY: good(ex.TGT_INQUIRY)})
    inq = dev.inquiry()
    assert inq.generation is GENERATIONS["LTO-9"] and inq.product == "ULT3580-TD9"
    assert drive.sent[0].cdb == H("12 00 00 00 60 00") and drive.sent[0].data_in == 96
    assert drive.sent[0].timeout_s == 60.0


def test_inquiry_short_answer_is_a_clean_error():
    dev, _ = device({cdb.INQUIRY: good(ex.TGT_INQUIRY[:20])})
    with pytest.raises(ScsiError, match="malformed"):
        dev.inquiry()


def test_serial_number():
    dev, drive = device({cdb.INQUIRY: good(ex.TGT_UNIT_SERIAL)})
    assert dev.serial_number() == "beaf11"
    assert drive.sent[0].cdb == H("12 01 80 00 ff 00")
    dev, _ = device({cdb.INQUIRY: INVALID_FIELD})
    assert dev.serial_number() is None


def test_block_limits_min_max():
    dev, drive = device({cdb.READ_BLOCK_LIMITS: good(ex.TGT_BLOCK_LIMITS)})
    assert dev.read_block_limits() == (4, 1048576)
    assert dev.block_limits().granularity == 9
    assert drive.sent[0].cdb == H("05 00 00 00 00 00")


def test_test_unit_ready_without_cartridge():
    dev, _ = device({cdb.TEST_UNIT_READY: check(0x2, 0x3A, 0x00)})
    with pytest.raises(NoMedium, match="no cartridge"):
        dev.test_unit_ready()


# --- position -------------------------------------------------------------------------------

def test_read_position_long_form():
    dev, drive = device({cdb.READ_POSITION: good(ex.LONG_POSITION_P1)})
    pos = dev.read_position()
    assert (pos.partition, pos.block, pos.file_number, pos.bpew) == (1, 0x1234, 3, True)
    assert drive.sent[0].cdb == H("34 06 00 00 00 00 00 00 00 00") and drive.sent[0].data_in == 32


def test_read_position_tgt_stub_is_unsupported_not_block_zero():
    dev, _ = device({cdb.READ_POSITION: good(ex.TGT_READ_POSITION_LONG)})
    with pytest.raises(ScsiUnsupported, match="reserved bits"):
        dev.read_position()


def test_read_position_unknown_position_and_unsupported():
    dev, _ = device({cdb.READ_POSITION: good(ex.LONG_POSITION_LONU)})
    with pytest.raises(ScsiError, match="does not know where it is") as e:
        dev.read_position()
    assert not isinstance(e.value, ScsiUnsupported)
    dev, _ = device({cdb.READ_POSITION: INVALID_FIELD})       # an old drive without the long form
    with pytest.raises(ScsiUnsupported):
        dev.read_position()


def test_locate_sends_locate16_with_change_partition_and_long_timeout():
    dev, drive = device({cdb.LOCATE_16: good()})
    dev.locate(1, 70000)
    assert drive.sent[0].cdb == H("92 02 00 01 00 00 00 00 00 01 11 70 00 00 00 00")
    assert drive.sent[0].timeout_s == 3000.0


def test_locate_errors():
    dev, drive = device({})
    with pytest.raises(ScsiUnsupported, match="does not support this command"):
        dev.locate(0, 5)
    dev, _ = device({cdb.LOCATE_16: check(0x3, 0x14, 0x01)})
    with pytest.raises(MediumError):
        dev.locate(0, 5)
    dev, _ = device({cdb.LOCATE_16: check(0x8, 0x00, 0x05)})
    with pytest.raises(DeviceError, match="end of data"):
        dev.locate(0, 10**9)
    with pytest.raises(UsageError):
        dev.locate(-1, 0)
    assert len(drive.sent) == 1


# --- density -----------------------------------------------------------------------------------

def test_density_code_from_mode_sense6():
    dev, drive = device({cdb.MODE_SENSE_6: good(ex.LTO9_MODE_SENSE6_WP)})
    assert dev.density_code() == 0x60
    assert dev.mode_sense().write_protected
    assert drive.sent[0].cdb == H("1a 00 00 00 0c 00")


def test_density_code_falls_back_to_mode_sense10():
    dev, drive = device({cdb.MODE_SENSE_6: INVALID_OPCODE, cdb.MODE_SENSE_10: good(ex.TGT_MODE_SENSE10)})
    assert dev.density_code() == 0
    assert drive.opcodes == [cdb.MODE_SENSE_6, cdb.MODE_SENSE_10]
    assert drive.sent[1].cdb == H("5a 00 00 00 00 00 00 00 10 00")


def test_report_density_support():
    dev, drive = device({cdb.REPORT_DENSITY_SUPPORT: good(ex.DENSITY_SUPPORT_TWO)})
    codes = [(d.primary_density_code, d.default) for d in dev.report_density_support()]
    assert codes == [(0x5E, False), (0x60, True)]
    assert drive.sent[0].cdb[:2] == H("44 01")
    dev.report_density_support(media=False)
    assert drive.sent[1].cdb[:2] == H("44 00")


def test_report_density_support_asks_again_when_the_answer_is_longer():
    many = b"".join([ex.LTO9_DENSITY_DESCRIPTOR] * 40)
    answer = (len(many) + 2).to_bytes(2, "big") + b"\0\0" + many
    dev, drive = device({cdb.REPORT_DENSITY_SUPPORT: good(answer)})
    assert len(dev.report_density_support()) == 40
    assert [s.data_in for s in drive.sent] == [4 + 52 * 32, len(answer)]


def test_report_density_support_unsupported():
    dev, _ = device({})
    with pytest.raises(ScsiUnsupported):
        dev.report_density_support()


# --- cartridge memory --------------------------------------------------------------------------------

class Mam:
    """Answers READ ATTRIBUTE as SPC-4 says: every attribute from FIRST ATTRIBUTE ID on, in id order;
    `missing` = "invalid field in CDB" when the first one is absent (IBM), else the next ones."""

    def __init__(self, attrs: dict[int, tuple[int, bytes]], *, missing_is_error: bool = True) -> None:
        self.attrs = attrs
        self.missing_is_error = missing_is_error
        self.written: list[tuple[int, bytes]] = []

    def read(self, raw_cdb: bytes, _data: bytes | None) -> Response:
        c = cdb.ReadAttributeCdb.parse(raw_cdb)
        if self.missing_is_error and c.first_attribute not in self.attrs:
            return INVALID_FIELD
        body = b"".join(mam.encode(i, f, v) for i, (f, v) in sorted(self.attrs.items()) if i >= c.first_attribute)
        return good(len(body).to_bytes(4, "big") + body)

    def write(self, raw_cdb: bytes, data: bytes | None) -> Response:
        c = cdb.WriteAttributeCdb.parse(raw_cdb)
        self.written.append((c.partition, data or b""))
        return good()


FULL_MAM = {
    mam.REMAINING_CAPACITY_IN_PARTITION: (0x80, (17_000_000).to_bytes(8, "big")),
    mam.MAXIMUM_CAPACITY_IN_PARTITION: (0x80, (17_296_000).to_bytes(8, "big")),
    mam.LOAD_COUNT: (0x80, (12).to_bytes(8, "big")),
    mam.MEDIUM_MANUFACTURER: (0x81, b"FUJIFILM"),
    mam.MEDIUM_SERIAL_NUMBER: (0x81, b"C1234567".ljust(32)),
    mam.MEDIUM_DENSITY_CODE: (0x80, b"\x60"),
    mam.MEDIUM_MANUFACTURE_DATE: (0x81, b"20250317"),
    mam.MEDIUM_TYPE: (0x80, b"\x00"),
    mam.BARCODE: (0x01, b"LTA001L9".ljust(32)),
}


@pytest.mark.parametrize("missing_is_error", [True, False])
def test_cartridge_memory(missing_is_error):
    m = Mam(FULL_MAM, missing_is_error=missing_is_error)
    dev, drive = device({cdb.READ_ATTRIBUTE: m.read})
    cm = dev.cartridge_memory()
    assert cm.barcode == "LTA001L9" and cm.medium_serial == "C1234567" and cm.manufacturer == "FUJIFILM"
    assert (cm.medium_type, cm.medium_type_name) == (0, "data")
    assert cm.manufacture_date == dt.date(2025, 3, 17)
    assert (cm.load_count, cm.remaining_capacity_mb, cm.max_capacity_mb) == (12, 17_000_000, 17_296_000)
    assert cm.density_code == 0x60 and cm.generation is GENERATIONS["LTO-9"]
    assert drive.sent[0].cdb == H("8c 00 00 00 00 00 00 00 08 06 00 00 04 00 00 00")


@pytest.mark.parametrize("missing_is_error", [True, False])
def test_cartridge_memory_missing_fields_are_none(missing_is_error):
    attrs = {mam.LOAD_COUNT: FULL_MAM[mam.LOAD_COUNT], mam.MEDIUM_MANUFACTURE_DATE: (0x81, b"2025-3-1")}
    dev, _ = device({cdb.READ_ATTRIBUTE: Mam(attrs, missing_is_error=missing_is_error).read})
    cm = dev.cartridge_memory()
    assert cm.load_count == 12
    assert cm.barcode is None and cm.medium_serial is None and cm.medium_type is None
    assert cm.manufacture_date is None          # not YYYYMMDD: left out rather than guessed
    assert cm.generation is None and cm.medium_type_name is None


def test_read_attribute_raw_and_unsupported():
    dev, _ = device({cdb.READ_ATTRIBUTE: good(ex.BARCODE_ATTRIBUTE)})
    assert dev.read_attribute(0, mam.BARCODE) == b"LTA001L9".ljust(32)
    assert dev.read_attribute(0, mam.MEDIUM_TYPE) is None        # the drive listed another attribute
    dev, _ = device({})
    with pytest.raises(ScsiUnsupported):
        dev.cartridge_memory()
    dev, _ = device({cdb.READ_ATTRIBUTE: check(0x3, 0x11, 0x12)})        # auxiliary memory read error
    with pytest.raises(MediumError):
        dev.read_attribute(0, mam.BARCODE)


def test_read_attribute_larger_than_first_allocation():
    big = mam.encode(0xF000, 0, bytes(range(256)) * 8)        # a 2 KiB vendor attribute
    answer = len(big).to_bytes(4, "big") + big
    dev, drive = device({cdb.READ_ATTRIBUTE: good(answer)})
    assert dev.read_attribute(0, 0xF000) == bytes(range(256)) * 8
    assert [s.data_in for s in drive.sent] == [1024, len(answer)]


def test_write_attribute_sends_a_parameter_list():
    m = Mam({})
    dev, drive = device({cdb.WRITE_ATTRIBUTE: m.write})
    dev.write_attribute(1, mam.BARCODE, b"LTA001L9".ljust(32), mam.ASCII | mam.READ_ONLY_FLAG)
    assert drive.sent[0].cdb == H("8d 01 00 00 00 00 00 01 00 00 00 00 00 29 00 00")
    assert m.written == [(1, H("00 00 00 25 08 06 01 00 20") + b"LTA001L9".ljust(32))]


# --- partitioning -----------------------------------------------------------------------------------------

def test_partition_two_for_ltfs():
    dev, drive = device({cdb.REWIND: good(), cdb.MODE_SENSE_10: good(ex.LTO_PARTITION_PAGE_SENSE),
                         cdb.MODE_SELECT_10: good(), cdb.FORMAT_MEDIUM: good()})
    dev.partition(2)
    assert drive.opcodes == [cdb.REWIND, cdb.MODE_SENSE_10, cdb.MODE_SELECT_10, cdb.FORMAT_MEDIUM]
    assert drive.sent[1].cdb == H("5a 00 11 00 00 00 00 04 00 00")
    select = drive.sent[2]
    assert select.data_out == ex.LTO_PARTITION_PAGE_SELECT_2
    assert select.cdb == H("55 10 00 00 00 00 00 00 1c 00")
    assert drive.sent[3].cdb == H("04 00 01 00 00 00") and drive.sent[3].timeout_s == 3600.0


def test_partition_sizes_in_mb_round_up_to_gb():
    dev, drive = device({cdb.REWIND: good(), cdb.MODE_SENSE_10: good(ex.LTO_PARTITION_PAGE_SENSE),
                         cdb.MODE_SELECT_10: good(), cdb.FORMAT_MEDIUM: good()})
    dev.partition(2, [None, 2500])
    assert drive.sent[2].data_out[-4:] == H("ff ff 00 03")
    dev.partition(1)
    assert drive.sent[6].data_out[-9:] == H("00 3c 03 09 00 ff ff 00 00")


def test_partition_refused_by_an_old_cartridge_sends_no_format():
    one_partition = ex.LTO_PARTITION_PAGE_SENSE[:18] + b"\x00" + ex.LTO_PARTITION_PAGE_SENSE[19:]  # max 0
    dev, drive = device({cdb.REWIND: good(), cdb.MODE_SENSE_10: good(one_partition)})
    with pytest.raises(GenerationError, match="at most 1 partition"):
        dev.partition(2)
    assert cdb.MODE_SELECT_10 not in drive.opcodes and cdb.FORMAT_MEDIUM not in drive.opcodes


def test_partition_on_a_drive_without_page_0x11_sends_no_format():
    # what tgt answers: MODE SENSE(10) page 0x11 -> ILLEGAL REQUEST, invalid field in CDB
    dev, drive = device({cdb.REWIND: good(), cdb.MODE_SENSE_10: INVALID_FIELD})
    with pytest.raises(ScsiUnsupported):
        dev.partition(2)
    assert drive.opcodes == [cdb.REWIND, cdb.MODE_SENSE_10]


def test_partition_write_protected():
    dev, drive = device({cdb.REWIND: good(), cdb.MODE_SENSE_10: good(ex.LTO_PARTITION_PAGE_SENSE),
                         cdb.MODE_SELECT_10: good(), cdb.FORMAT_MEDIUM: check(0x7, 0x27, 0x00)})
    with pytest.raises(WriteProtected):
        dev.partition(2)


@pytest.mark.parametrize("count,sizes", [(0, None), (5, None), (2, [100]), (2, [100, 200]), (2, [None, None]),
                                         (2, [None, 0]), (2, [None, 70_000_000])])
def test_partition_bad_arguments_send_nothing(count, sizes):
    dev, drive = device({})
    with pytest.raises(UsageError):
        dev.partition(count, sizes)
    assert drive.sent == []


# --- status handling ----------------------------------------------------------------------------------------

def test_busy_reservation_host_errors_and_missing_sense():
    for r, words in [(Response(status=BUSY), "busy"), (Response(status=RESERVATION_CONFLICT), "reserved"),
                     (Response(host_status=0x01), "no connection"), (Response(status=CHECK_CONDITION),
                                                                      "without saying which"),
                     (Response(status=CHECK_CONDITION, sense=H("7f 00 00")), "cannot read"),
                     (Response(status=0x22), "unexpected SCSI status 0x22"),
                     (Response(driver_status=0x06), "did not answer within 60 s")]:
        dev, _ = device({cdb.INQUIRY: r})
        with pytest.raises(ScsiError, match=words) as e:
            dev.inquiry()
        assert e.value.message.startswith("/dev/nst0: INQUIRY: ")


def test_recovered_error_succeeds_and_is_kept():
    dev, _ = device({cdb.MODE_SENSE_6: Response(status=CHECK_CONDITION, data=ex.TGT_MODE_SENSE6,
                                                  sense=check(0x1, 0x00, 0x17).sense)})
    assert dev.density_code() == 0
    assert dev.last_sense is not None and "cleaning" in dev.last_sense.message


def test_early_warning_on_a_command_is_end_of_medium():
    dev, _ = device({cdb.LOCATE_16: check(0x0, 0x00, 0x02, eom=True)})
    with pytest.raises(EndOfMedium):
        dev.locate(0, 1)


# --- the real ioctl on things that are not tape drives --------------------------------------------------

def test_sg_io_on_a_non_scsi_file_is_unsupported(tmp_path):
    p = tmp_path / "not-a-drive"
    p.write_bytes(b"x")
    with ScsiDevice.open(str(p)) as dev:
        with pytest.raises(ScsiUnsupported, match="does not take SCSI commands"):
            dev.inquiry()
        fd = dev.fd
    with pytest.raises(OSError):
        os.fstat(fd)                                   # open() made the fd, close() closed it


def test_open_missing_device():
    with pytest.raises(DeviceNotFound):
        ScsiDevice.open("/dev/nst-does-not-exist")


def test_given_fd_is_left_open(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"")
    fd = os.open(p, os.O_RDONLY)
    try:
        with ScsiDevice(fd, name=str(p)):
            pass
        os.fstat(fd)
    finally:
        os.close(fd)


def test_medium_partitions_from_page_0x11():
    dev, drive = device({cdb.MODE_SENSE_10: good(ex.LTO_PARTITION_PAGE_SENSE)})
    assert dev.medium_partitions() == (ex.LTO_PARTITION_PAGE_SENSE[19] + 1, ex.LTO_PARTITION_PAGE_SENSE[18] + 1)
    assert drive.opcodes == [cdb.MODE_SENSE_10]                 # reading the page changes nothing
    assert drive.sent[0].cdb == H("5a 00 11 00 00 00 00 04 00 00")
    dev, drive = device({cdb.MODE_SENSE_10: INVALID_FIELD})     # tgt: the StTape falls back to 1
    with pytest.raises(ScsiUnsupported):
        dev.medium_partitions()


# --- a medium changer: READ ELEMENT STATUS -----------------------------------------------------------------

def test_read_element_status_of_the_drives():
    dev, changer = device({cdb.READ_ELEMENT_STATUS: good(ex.TGT_ELEMENT_STATUS_DVCID)})
    d2, d3 = dev.read_element_status()
    assert (d2.address, d2.identifier.serial, d3.address, d3.identifier.complete) == (2, "beaf11", 3, False)
    assert changer.sent[0].cdb == H("b8 04 00 00 ff ff 03 00 10 00 00 00") and changer.sent[0].data_in == 4096


def test_read_element_status_without_curdata_then_with_more_room():
    big = ex.element_status(4, [ex.drive_element(0x100 + i, identifier=f"SER{i:04d}".encode()) for i in range(300)])
    assert len(big) > 4096

    def answer(c: bytes, _out: object):
        if c[6] & 0x02:
            return INVALID_FIELD          # an older changer: CURDATA is a field it does not know
        return good(big)

    dev, changer = device({cdb.READ_ELEMENT_STATUS: answer})
    elements = dev.read_element_status()
    assert len(elements) == 300 and elements[-1].identifier.serial == "SER0299"
    assert [(s.cdb[6], s.data_in) for s in changer.sent] == [(0x03, 4096), (0x01, 4096), (0x01, len(big))]


def test_read_element_status_refused_or_malformed():
    dev, _ = device({})                                  # no such command: a tape drive asked by mistake
    with pytest.raises(ScsiUnsupported):
        dev.read_element_status()
    dev, changer = device({cdb.READ_ELEMENT_STATUS: INVALID_FIELD})   # DVCID refused, with or without CURDATA
    with pytest.raises(ScsiUnsupported):
        dev.read_element_status()
    assert len(changer.sent) == 2
    dev, _ = device({cdb.READ_ELEMENT_STATUS: good(H("0002 0001 00 000010" "04 00 0004 00 000008") + bytes(8))})
    with pytest.raises(ScsiError, match="READ ELEMENT STATUS: the drive's answer is malformed"):
        dev.read_element_status()
