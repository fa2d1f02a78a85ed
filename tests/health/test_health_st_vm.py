"""Health on a real st drive: inside tapevm (tgt's emulated drive answers few log pages) or on the drive
LTO_ARCHIVE_TEST_TAPE names. Skipped anywhere else. Run by the integrator:

    ../shared/tools/tapevm run -- python3 -m pytest -q tests/health/test_health_st_vm.py
"""

from __future__ import annotations

import pytest

from lto_archive.tape import logpages as lp
from lto_archive.tape import open_device
from lto_archive.tape.drive_health import read_health, take_pending
from tests.st.conftest import tape_device

pytestmark = pytest.mark.tapevm


@pytest.fixture
def nst() -> str:
    return tape_device() or pytest.skip("no tape device: runs inside tapevm or with LTO_ARCHIVE_TEST_TAPE=/dev/nstN")


def test_a_real_drive_gives_a_reading_or_notes_never_an_error(nst: str) -> None:
    take_pending()
    with open_device(nst) as dev:
        at_load = take_pending()
        assert len(at_load) == 1 and at_load[0].device == dev.name      # read when the drive was opened
        h = read_health(dev)
    answered = {lp.WRITE_ERRORS: h.write_errors, lp.READ_ERRORS: h.read_errors, lp.VOLUME_STATISTICS: h.volume,
                lp.DEVICE_STATISTICS: h.device_stats}
    for page, values in answered.items():
        noted = any(n.startswith(f"log page 0x{page:02X}") for n in h.notes)
        assert values or noted, (page, h.notes)       # a page is either read or said to be missing
    assert all(1 <= f <= 64 for f in h.tapealert)
    assert h.to_dict()["device"] == dev.name
