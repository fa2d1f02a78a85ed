"""Health on the st target: LOG SENSE through SG_IO (a scripted transport), READ ATTRIBUTE, and the
clean fallback when the drive (or tgt) does not answer a page."""

from __future__ import annotations

import pytest

from lto_archive.errors import DeviceError
from lto_archive.tape import logpages as lp
from lto_archive.tape import mam
from lto_archive.tape.drive_health import read_health, take_pending
from lto_archive.tape.scsi.device import ScsiDevice
from lto_archive.tape.scsi.sense import ScsiUnsupported
from lto_archive.tape.st import StTape
from tests.scsi.fake import INVALID_FIELD, FakeDrive, good
from tests.tape.st_fake import FakeStDriver

PAGES = {
    lp.SUPPORTED_PAGES: lp.build_page(lp.SUPPORTED_PAGES, {"pages": [0x00, 0x02, 0x03, 0x2E]}),
    lp.WRITE_ERRORS: lp.build_page(lp.WRITE_ERRORS, {"total_corrected": 9, "total_uncorrected": 0}),
    lp.READ_ERRORS: lp.build_page(lp.READ_ERRORS, {"total_corrected": 4, "total_uncorrected": 2}),
    lp.TAPE_ALERT: lp.build_tapealert({4, 20}),
}


def _answer(cdb: bytes, data_out: bytes | None):  # type: ignore[no-untyped-def]
    page = lp.LogSenseCdb.parse(cdb).page.page_code
    return good(PAGES[page]) if page in PAGES else INVALID_FIELD


def test_log_sense_goes_through_sg_io_and_asks_again_for_a_long_page():
    drive = FakeDrive({lp.LOG_SENSE: _answer})
    scsi = ScsiDevice(-1, name="/dev/nst0", transport=drive)
    data = lp.read_log_page(scsi, lp.TAPE_ALERT, allocation_length=16)
    assert lp.parse_page(data, lp.TAPE_ALERT).tapealert_flags == [4, 20]
    assert drive.opcodes == [lp.LOG_SENSE, lp.LOG_SENSE]
    assert [s.data_in for s in drive.sent] == [16, len(PAGES[lp.TAPE_ALERT])]
    assert drive.sent[0].cdb[2] == 0x40 | lp.TAPE_ALERT          # PC 1: cumulative values


def test_a_page_the_drive_refuses_is_its_error():
    scsi = ScsiDevice(-1, name="/dev/nst0", transport=FakeDrive({lp.LOG_SENSE: _answer}))
    with pytest.raises(ScsiUnsupported):
        lp.read_log_page(scsi, lp.VOLUME_STATISTICS)
    with pytest.raises(ScsiUnsupported):      # no LOG SENSE at all (invalid operation code)
        lp.read_log_page(ScsiDevice(-1, transport=FakeDrive()), lp.WRITE_ERRORS)


class HealthyDriver(FakeStDriver):
    """The st fake with SG_IO health commands: the pages above, and a cartridge memory."""

    def __init__(self, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kw)
        self.scsi_device = ScsiDevice(-1, name="/dev/nst0", transport=FakeDrive({lp.LOG_SENSE: _answer}))
        self.attrs = {mam.LOAD_COUNT: (37).to_bytes(8, "big"), mam.BARCODE: b"ABC123L9".ljust(32),
                      mam.TOTAL_MB_WRITTEN_IN_MEDIUM_LIFE: (5000).to_bytes(8, "big"),
                      mam.MEDIUM_DENSITY_CODE: b"\x60"}

    def log_sense(self, page: int) -> bytes:
        return lp.read_log_page(self.scsi_device, page)

    def read_attribute(self, partition: int, attr_id: int) -> bytes | None:
        return self.attrs.get(attr_id)


def test_st_reads_health_and_notes_the_pages_it_lacks():
    take_pending()
    dev = StTape("/dev/nst0", driver=HealthyDriver())
    at_load = take_pending()
    assert [h.barcode for h in at_load] == ["ABC123L9"]        # read when the drive was opened
    h = read_health(dev)
    assert (h.barcode, h.generation, h.load_count, h.mb_written, h.mb_read) == ("ABC123L9", "LTO-9", 37, 5000, None)
    assert h.write_errors == {"total_corrected": 9, "total_uncorrected": 0}
    assert h.read_errors["total_uncorrected"] == 2 and h.uncorrected_errors == 2
    assert h.tapealert == [4, 20]
    assert h.volume == {} and h.device_stats == {}
    assert sorted(n.split(":")[0] for n in h.notes) == ["log page 0x14 (device statistics)",
                                                       "log page 0x17 (volume statistics)"]
    assert all("does not keep it" in n for n in h.notes)


def test_a_drive_without_the_commands_gives_notes_not_errors():
    take_pending()
    dev = StTape("/dev/nst0", driver=FakeStDriver())
    h = take_pending()[0]
    assert h.write_errors == {} and h.tapealert == [] and h.load_count is None
    assert any("cartridge memory" in n for n in h.notes)
    assert sum("log page" in n for n in h.notes) == len(lp.HEALTH_PAGES)
    with pytest.raises(DeviceError, match="cannot send SCSI commands"):
        dev.log_sense(lp.WRITE_ERRORS)


def test_a_drive_without_the_supported_pages_list_is_asked_page_by_page():
    pages = {k: v for k, v in PAGES.items() if k != lp.SUPPORTED_PAGES}

    def answer(cdb: bytes, data_out: bytes | None):  # type: ignore[no-untyped-def]
        page = lp.LogSenseCdb.parse(cdb).page.page_code
        return good(pages[page]) if page in pages else INVALID_FIELD

    drv = HealthyDriver()
    drv.scsi_device = ScsiDevice(-1, transport=FakeDrive({lp.LOG_SENSE: answer}))
    h = read_health(StTape("/dev/nst0", driver=drv))
    assert h.tapealert == [4, 20] and h.read_errors["total_corrected"] == 4
    assert [n.split(":")[0] for n in h.notes] == ["log page 0x17 (volume statistics)",
                                                  "log page 0x14 (device statistics)"]
