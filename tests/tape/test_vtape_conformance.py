"""The TapeDevice conformance suite on VirtualTape, single- and two-partition."""

from __future__ import annotations

import pytest

from lto_archive.tape import VirtualTape, create_vtape

from .conformance import DeviceFactory, TapeConformance


class VTapeFactory(DeviceFactory):
    def __init__(self, root, partitions: int = 1) -> None:
        self.root = root
        self.partitions = partitions
        self.count = 0

    def _path(self):
        self.count += 1
        return self.root / f"cart{self.count}"

    def blank(self) -> VirtualTape:
        return create_vtape(self._path(), "LTO-9", capacity=10**9, barcode=f"VT{self.count:04d}L9",
                            partitions=self.partitions)

    def two_partitions(self) -> VirtualTape:
        return create_vtape(self._path(), "LTO-9", capacity=10**9, partitions=2)

    def small(self, capacity: int) -> VirtualTape:
        return create_vtape(self._path(), "LTO-9", capacity=capacity)

    def write_protected(self) -> VirtualTape:
        return create_vtape(self._path(), "LTO-9", capacity=10**9, write_protected=True)

    def max_record(self) -> int:
        return 4 * 1024 * 1024


class TestVirtualTapeOnePartition(TapeConformance):
    @pytest.fixture
    def factory(self, tmp_path):
        return VTapeFactory(tmp_path, partitions=1)


class TestVirtualTapeTwoPartitions(TapeConformance):
    @pytest.fixture
    def factory(self, tmp_path):
        return VTapeFactory(tmp_path, partitions=2)


class TestVirtualTapeReopened(TapeConformance):
    """Every test again, with each device closed and reopened before use (a loaded cartridge)."""

    @pytest.fixture
    def factory(self, tmp_path):
        class Reopening(VTapeFactory):
            def blank(self):
                vt = super().blank()
                vt.close()
                return VirtualTape(vt.path)
        return Reopening(tmp_path)
