"""The TapeDevice conformance suite on a real st device: set LTO_ARCHIVE_TEST_TAPE=/dev/nstN.

Everything on that cartridge is overwritten. CI runs this inside tapevm (tests/test_tapevm.py).
Tests that need what a drive cannot be asked for from here (a tiny capacity, a write-protected
cartridge, two partitions on the emulator) skip through the base DeviceFactory, with the reason.
"""

from __future__ import annotations

import os

import pytest

from lto_archive.tape.st import StTape, parse_spec

from .conformance import DeviceFactory, TapeConformance

SPEC = os.environ.get("LTO_ARCHIVE_TEST_TAPE", "")

pytestmark = pytest.mark.skipif(not SPEC, reason="no real tape: set LTO_ARCHIVE_TEST_TAPE=/dev/nstN "
                                                   "(its cartridge is overwritten)")


class StFactory(DeviceFactory):
    def __init__(self) -> None:
        self.path, self.options = parse_spec(SPEC)

    def blank(self) -> StTape:
        """The cartridge at its beginning: the tests write from block 0, which discards the rest."""
        dev = StTape(self.path, self.options)
        dev.rewind()
        return dev

    def min_record(self) -> int:
        return 4 if os.environ.get("TAPEVM") == "1" else 1   # the emulator's READ BLOCK LIMITS


class TestStTape(TapeConformance):
    @pytest.fixture
    def factory(self):
        return StFactory()

    def test_blank_device_is_at_bop_and_eod(self, dev):
        # only a blank cartridge is at EOD at block 0; the emulator cannot erase, so after the first
        # test wrote to it the cartridge is no longer blank
        if not dev.position().eod:
            pytest.skip("the cartridge is not blank (the drive cannot erase it): checked on the first run only")
        super().test_blank_device_is_at_bop_and_eod(dev)
