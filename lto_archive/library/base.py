"""The one interface every tape library (medium changer) implements.

A library has numbered drives and numbered slots (storage and import/export),
each empty or holding one cartridge known by its barcode. The robot moves a
cartridge slot -> drive (load), drive -> slot (unload) and slot -> slot
(transfer); export and import are transfers to and from an import/export
(mail) slot, where an operator takes a cartridge out or puts one in. Numbers are the changer's own: drives from 0 (mtx's "Data Transfer
Element N"), slots from 1 (mtx's "Storage Element N"), so what we print is
what `mtx status` prints.

Implementations: `VirtualLibrary` (vlib:DIR, folders and renames) and
`MtxLibrary` (a real changer through `mtx`). Jobs use only this module.
"""

from __future__ import annotations

import abc
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CartridgeNotFound, ChangerBusy, DriveFull, EmptySlot, LtoArchiveError, SlotFull, UsageError

if TYPE_CHECKING:
    from ..tape.device import TapeDevice

LIBRARY_KINDS = ("vlib:DIR", "/dev/sgN", "mtx:/dev/sgN")


@dataclass(frozen=True)
class SlotInfo:
    """A storage (or import/export) slot."""

    number: int
    barcode: str | None
    full: bool
    import_export: bool = False


@dataclass(frozen=True)
class DriveInfo:
    """A drive; `device` is the spec open_device() accepts for it (None when unknown).
    `serial`: the drive's serial number when the changer or the drive says it;
    `device_source`: how `device` was found ("given", "serial", "tapevm", "sysfs"; None for vlib)."""

    number: int
    full: bool
    barcode: str | None
    source_slot: int | None
    device: str | None
    serial: str | None = None
    device_source: str | None = None


@dataclass(frozen=True)
class LibraryStatus:
    """A snapshot of where every cartridge is."""

    drives: list[DriveInfo]
    slots: list[SlotInfo]

    def locate(self, barcode: str) -> SlotInfo | DriveInfo | None:
        """Where the cartridge with this barcode is (drive first), or None."""
        for place in (*self.drives, *self.slots):
            if place.full and place.barcode == barcode:
                return place
        return None

    def free_drive(self) -> int | None:
        """The lowest-numbered empty drive, or None when every drive is full."""
        return next((d.number for d in self.drives if not d.full), None)

    def empty_slot(self, *, import_export: bool = False) -> int | None:
        """The lowest-numbered empty storage slot (or import/export slot), or None."""
        return next((s.number for s in self.slots if not s.full and s.import_export == import_export), None)

    def barcodes(self) -> list[str]:
        """Every barcode in the library: drives first, then slots in order."""
        return [p.barcode for p in (*self.drives, *self.slots) if p.full and p.barcode]

    def drive(self, number: int) -> DriveInfo:
        for d in self.drives:
            if d.number == number:
                return d
        raise UsageError(f"the library has no drive {number} (drives: "
                         f"{', '.join(str(d.number) for d in self.drives) or 'none'})", drive=number)

    def slot(self, number: int) -> SlotInfo:
        for s in self.slots:
            if s.number == number:
                return s
        numbers = [s.number for s in self.slots]
        span = f"{min(numbers)}-{max(numbers)}" if numbers else "none"
        raise UsageError(f"the library has no slot {number} (slots: {span})", slot=number)

    def to_dict(self) -> dict[str, Any]:
        return {"drives": [asdict(d) for d in self.drives], "slots": [asdict(s) for s in self.slots]}

    # --- the checks before a move (every Library makes them, so refusals read the same) ---
    def check_load(self, slot: int, drive: int) -> SlotInfo:
        """The slot to load from; DriveFull / EmptySlot (naming both) when the move cannot be made."""
        s, d = self.slot(slot), self.drive(drive)
        what = f"cannot load slot {slot} into drive {drive}"
        if d.full:
            src = f" (from slot {d.source_slot})" if d.source_slot is not None else ""
            raise DriveFull(f"{what}: drive {drive} already holds {d.barcode or 'a cartridge'}{src}; unload it "
                            f"first", slot=slot, drive=drive, barcode=d.barcode)
        if not s.full:
            raise EmptySlot(f"{what}: slot {slot} is empty", slot=slot, drive=drive)
        return s

    def check_unload(self, drive: int, slot: int | None = None) -> tuple[DriveInfo, int]:
        """The drive and the slot to unload into: `slot`, else the source slot if empty, else the
        first empty storage slot. EmptySlot / SlotFull when the move cannot be made."""
        d = self.drive(drive)
        if not d.full:
            raise EmptySlot(f"cannot unload drive {drive}: it is empty", drive=drive)
        label = d.barcode or "the cartridge"
        if slot is None:
            home = d.source_slot
            slot = home if home is not None and any(s.number == home and not s.full for s in self.slots)                 else self.empty_slot()
            if slot is None:
                raise SlotFull(f"cannot unload {label} from drive {drive}: every storage slot is full",
                               drive=drive, barcode=d.barcode)
        dest = self.slot(slot)
        if dest.full:
            raise SlotFull(f"cannot unload {label} from drive {drive} into slot {slot}: it holds "
                           f"{dest.barcode or 'a cartridge'}", drive=drive, slot=slot, barcode=d.barcode)
        return d, slot

    def check_transfer(self, source_slot: int, dest_slot: int) -> SlotInfo:
        """The slot to move from; EmptySlot / SlotFull when the move cannot be made."""
        s, dest = self.slot(source_slot), self.slot(dest_slot)
        if not s.full:
            raise EmptySlot(f"cannot transfer from slot {source_slot}: it is empty", slot=source_slot)
        if dest.full and dest_slot != source_slot:
            raise SlotFull(f"cannot transfer {s.barcode or 'the cartridge'} from slot {source_slot} to slot "
                           f"{dest_slot}: it holds {dest.barcode or 'a cartridge'}", slot=dest_slot,
                           barcode=s.barcode)
        return s


class Library(abc.ABC):
    """A medium changer with its drives. Every move raises a ChangerError subclass
    (EmptySlot, DriveFull/SlotFull, ChangerBusy, CartridgeNotFound) naming the
    slot, drive and barcode; nothing is moved when a move fails."""

    name: str = "library"

    @abc.abstractmethod
    def status(self) -> LibraryStatus:
        """Where every cartridge is now."""

    @abc.abstractmethod
    def load(self, slot: int, drive: int) -> None:
        """Move the cartridge in `slot` into `drive`."""

    @abc.abstractmethod
    def unload(self, drive: int, slot: int | None = None) -> None:
        """Move the cartridge in `drive` to `slot` (default: back to its source slot,
        else the first empty storage slot)."""

    @abc.abstractmethod
    def transfer(self, source_slot: int, dest_slot: int) -> None:
        """Move a cartridge from one slot to another (e.g. to an import/export slot)."""

    @abc.abstractmethod
    def open_drive(self, drive: int) -> "TapeDevice":
        """The cartridge loaded in `drive` as a TapeDevice."""

    # A library that can tell a cartridge no job has open (vlib: the cartridge's flock) can put such a one back
    # in its slot when a job's load finds every drive full; a changer that cannot tell (mtx) refuses instead.
    swaps_idle_cartridges = False

    def load_barcode(self, barcode: str, drive: int | None = None, *, put_back_idle: bool = False) -> int:
        """Load the cartridge labelled `barcode` into `drive` (default: a free drive)
        and return the drive number. Already in a drive: that drive, nothing moves
        (with `drive` given and different, it is moved there). `put_back_idle` (a job's --barcode): when
        every drive is full, a cartridge no job has open goes back to its slot first, where the library
        can tell (`swaps_idle_cartridges`)."""
        st = self.status()
        place = st.locate(barcode)
        if place is None:
            known = ", ".join(st.barcodes()) or "none"
            raise CartridgeNotFound(f"no cartridge with barcode {barcode} in library {self.name} "
                                    f"(it holds: {known})", barcode=barcode, library=self.name)
        if isinstance(place, DriveInfo):
            if drive is None or drive == place.number:
                return place.number
            target = st.drive(drive)
            if target.full:     # checked before anything moves: a refused request moves nothing
                raise DriveFull(f"cannot move {barcode} from drive {place.number} to drive {drive}: drive {drive} "
                                f"already holds {target.barcode or 'a cartridge'}; unload it first",
                                barcode=barcode, drive=drive)
            self.unload(place.number)
            st = self.status()
            place = st.locate(barcode)
            assert isinstance(place, SlotInfo)
        if drive is None:
            drive = st.free_drive()
            if drive is None and put_back_idle and self.swaps_idle_cartridges:
                drive = self._put_back_an_idle_cartridge(st)
            if drive is None:
                held = ", ".join(f"drive {d.number}: {d.barcode or 'no label'}" for d in st.drives)
                raise DriveFull(f"cannot load {barcode}: every drive of library {self.name} is full "
                                f"({held}); put one back in its slot first, e.g. "
                                f"`lto-archive library unload --library {self.name} --drive {st.drives[0].number}`",
                                barcode=barcode, library=self.name)
        self.load(place.number, drive)
        return drive

    def loaded_drive(self) -> int:
        """The first drive that holds a cartridge (a job on "whatever is loaded"); UsageError when none does."""
        loaded = [d.number for d in self.status().drives if d.full]
        if not loaded:
            raise UsageError(f"no drive of {self.name} holds a cartridge: load one "
                             f"(`lto-archive library load --library {self.name} BARCODE`) or pass --barcode",
                             library=self.name)
        return loaded[0]

    def _put_back_an_idle_cartridge(self, st: "LibraryStatus") -> int | None:
        """Every drive is full: return the first cartridge no job has open to its slot; that drive, or None."""
        for d in st.drives:
            try:
                self.unload(d.number)
            except (ChangerBusy, SlotFull):
                continue
            return d.number
        return None

    # --- the import/export (mail) slots: what `mtx transfer` does with them --------------------------
    def export_cartridge(self, barcode: str, ie_slot: int | None = None) -> int:
        """Move the cartridge labelled `barcode` (from its slot, or out of a drive) to an import/export
        slot (default: the first empty one), where an operator takes it out of the library; return
        that slot. The robot's move is `mtx transfer S IE` (from a drive: `mtx unload IE D`)."""
        st = self.status()
        place = st.locate(barcode)
        if place is None:
            raise CartridgeNotFound(f"cannot export {barcode}: no cartridge with that barcode in library {self.name} "
                                    f"(it holds: {', '.join(st.barcodes()) or 'none'})", barcode=barcode)
        if isinstance(place, SlotInfo) and place.import_export and ie_slot in (None, place.number):
            return place.number          # already in the mail slot: nothing moves
        ie_slot = self._mail_slot(st, ie_slot, f"cannot export {barcode}", empty=True)
        if isinstance(place, DriveInfo):
            self.unload(place.number, ie_slot)
        else:
            self.transfer(place.number, ie_slot)
        return ie_slot

    def import_cartridge(self, ie_slot: int | None = None, slot: int | None = None) -> tuple[str | None, int, int]:
        """Move the cartridge an operator put in an import/export slot (default: the first full one)
        into a storage slot (default: the first empty one): `mtx transfer IE S`.
        Returns (barcode, import/export slot, storage slot)."""
        st = self.status()
        ie_slot = self._mail_slot(st, ie_slot, "cannot import", empty=False)
        label = st.slot(ie_slot).barcode
        what = f"cannot import {label or 'the cartridge'} from slot {ie_slot}"
        if slot is None:
            slot = st.empty_slot()
            if slot is None:
                raise SlotFull(f"{what}: every storage slot of library {self.name} is full; export one first",
                               slot=ie_slot, barcode=label)
        elif st.slot(slot).import_export:
            raise UsageError(f"{what}: slot {slot} is an import/export slot too; name a storage slot", slot=slot)
        self.transfer(ie_slot, slot)
        return label, ie_slot, slot

    def _mail_slot(self, st: LibraryStatus, ie_slot: int | None, what: str, *, empty: bool) -> int:
        """The import/export slot to use: `ie_slot` checked, or the first empty (export) / full (import) one."""
        mail = [s for s in st.slots if s.import_export]
        if not mail:
            raise UsageError(f"{what}: library {self.name} has no import/export slot (mail slot); use "
                             f"`library transfer` or `library unload --slot S` to move it within the library")
        if ie_slot is None:
            found = next((s.number for s in mail if s.full != empty), None)
            if found is None:
                if empty:
                    raise SlotFull(f"{what}: every import/export slot of library {self.name} is full; take the "
                                   f"cartridges out first", slots=[s.number for s in mail])
                raise EmptySlot(f"{what}: every import/export slot of library {self.name} is empty; put the "
                                f"cartridge in first", slots=[s.number for s in mail])
            return found
        chosen = st.slot(ie_slot)
        if not chosen.import_export:
            raise UsageError(f"{what}: slot {ie_slot} is a storage slot, not an import/export slot (those are "
                             f"{', '.join(str(s.number) for s in mail)})", slot=ie_slot)
        if empty and chosen.full:
            raise SlotFull(f"{what}: import/export slot {ie_slot} holds {chosen.barcode or 'a cartridge'}; take it "
                           f"out first", slot=ie_slot, barcode=chosen.barcode)
        if not empty and not chosen.full:
            raise EmptySlot(f"{what}: import/export slot {ie_slot} is empty", slot=ie_slot)
        return ie_slot

    def read_health(self, drive: int) -> str | None:
        """The cartridge just loaded in `drive`, asked about its health: opening the drive takes the reading
        (tape/drive_health.py; it waits for the catalog). None when done; else why the drive could not be
        opened (a real changer's drive whose device is not known, ...): never an error, the load stands."""
        try:
            self.open_drive(drive).close()
        except LtoArchiveError as exc:
            return exc.message
        return None

    def close(self) -> None:
        """Release whatever the library object holds (not the cartridges)."""

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_library(spec: str, *, drive_devices: dict[int, str] | None = None) -> Library:
    """Open the library a spec names: "vlib:DIR", "/dev/sgN" or "mtx:/dev/sgN".

    `drive_devices` maps changer drive numbers to tape device specs for real
    changers (see docs/library.md); the virtual library knows its own drives.
    """
    from .leases import leased        # a queue worker's job leases what it uses (library/leases.py)

    return leased(_open(spec.strip(), drive_devices))


def _open(spec: str, drive_devices: dict[int, str] | None) -> Library:
    kind, sep, rest = spec.partition(":")
    if sep and kind.lower() == "vlib":
        if not rest:
            raise UsageError("library 'vlib:' needs the library folder, as in vlib:/srv/vlib", spec=spec)
        from .vlib import VirtualLibrary
        return VirtualLibrary(rest)
    if sep and kind.lower() == "mtx":
        if not rest:
            raise UsageError("library 'mtx:' needs the changer's device, as in mtx:/dev/sg3", spec=spec)
        from .mtx import MtxLibrary
        return MtxLibrary(rest, drive_devices=drive_devices)
    if spec.startswith("/dev/"):
        if any(spec.startswith(p) for p in ("/dev/nst", "/dev/st", "/dev/tape")):
            raise UsageError(f"{spec} is a tape drive, not a changer: a library is its changer's device "
                             f"(/dev/sgN; `lsscsi -g` lists it as 'mediumx')", spec=spec)
        from .mtx import MtxLibrary
        return MtxLibrary(spec, drive_devices=drive_devices)
    raise UsageError(f"unknown library {spec!r}; use one of {', '.join(LIBRARY_KINDS)}", spec=spec)
