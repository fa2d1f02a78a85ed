"""What an audit run can reach: the cartridges loaded in the drives given, and those a library's robot loads."""

from __future__ import annotations

from typing import Protocol

from ..catalog.store import Catalog
from ..jobs.catalog_restore import loaded_labels
from ..library import Library
from ..tape.device import TapeDevice
from .plan import Place


def catalog_label(cat: Catalog, name: str) -> str:
    """The catalog's label for a barcode or LTFS volume UUID (the name itself when it knows none)."""
    row = cat.find_destination(barcode=name, volume_uuid=name, label=name)
    return str(row["label"]) if row else name


class Reach(Protocol):
    name: str

    def places(self, cat: Catalog) -> dict[str, Place]:
        """The cartridges it holds, by catalog label."""
        ...

    def open(self, label: str) -> TapeDevice:
        """A device with that cartridge loaded."""
        ...

    def done(self, device: TapeDevice) -> None:
        """The audit of the cartridge in `device` is over."""
        ...


class DriveReach:
    """Drives with a cartridge loaded: each audits the cartridge it holds (nothing is moved)."""

    def __init__(self, name: str, device: TapeDevice) -> None:
        self.name, self.device = name, device

    def places(self, cat: Catalog) -> dict[str, Place]:
        return {catalog_label(cat, n): Place(self.name, True) for n in loaded_labels([self.device])}

    def open(self, label: str) -> TapeDevice:
        return self.device

    def done(self, device: TapeDevice) -> None:
        """The drive stays open for the caller, who opened it."""


class LibraryReach:
    """A library: its robot loads each cartridge (an idle one in a drive goes back to its slot first)."""

    def __init__(self, name: str, library: Library) -> None:
        self.name, self.library = name, library

    def places(self, cat: Catalog) -> dict[str, Place]:
        st = self.library.status()
        in_drives = {d.barcode for d in st.drives if d.full and d.barcode}
        return {catalog_label(cat, b): Place(self.name, b in in_drives) for b in st.barcodes()}

    def open(self, label: str) -> TapeDevice:
        return self.library.open_drive(self.library.load_barcode(label, put_back_idle=True))

    def done(self, device: TapeDevice) -> None:
        device.close()      # the cartridge stays in its drive: the next load puts it back if the drive is needed


__all__ = ["Reach", "DriveReach", "LibraryReach", "catalog_label"]
