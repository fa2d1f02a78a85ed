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


def test_fresh_cartridge_is_blank() -> None:
    """The interface's blank-device rule, run before the suite writes anything (no erase here).

    Inside tapevm the cartridge is always new, so this must pass there; on a real drive a
    cartridge that already holds data is skipped.
    """
    dev = StFactory().blank()
    try:
        if not dev.position().eod and os.environ.get("TAPEVM") != "1":
            pytest.skip("the cartridge already holds data (lto-archive does not erase it)")
        TapeConformance().test_blank_device_is_at_bop_and_eod(dev)
    finally:
        dev.close()


class TestStTape(TapeConformance):
    @pytest.fixture
    def factory(self):
        return StFactory()

    def test_blank_device_is_at_bop_and_eod(self, dev):
        pytest.skip("checked once on the fresh cartridge by test_fresh_cartridge_is_blank (no erase here)")
