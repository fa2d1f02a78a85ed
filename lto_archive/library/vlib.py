"""A virtual tape library: a folder with slots and drives, each cartridge a virtual tape folder.

Layout (the folders ARE the state; there is no other state to lose):

    DIR/lto-archive-vlib.json        what the library is: drives, slots, import/export slots
    DIR/.changer.lock                held with flock while the robot moves (ChangerBusy)
    DIR/slots/<n>/<BARCODE>/         a cartridge (vtape folder) in slot n (1..slots+import_export)
    DIR/drives/<n>/<BARCODE>/        a cartridge loaded in drive n (0..drives-1)
    DIR/drives/<n>/.source           the slot it came from (written before the move)

Import/export slots are numbered after the storage slots. The robot moves
cartridges to and from them (Library.export_cartridge / import_cartridge, as
`mtx transfer` does); `insert` and `remove` are the operator's hand at the mail
slot door: a cartridge folder comes in from outside or goes out to a folder.

A move is one rename of the cartridge folder (the robot's hand), so a process
killed at any moment leaves every cartridge in exactly one place. A `.source`
file in an empty drive is left over from an interrupted load and ignored.
Cartridges in use (a VirtualTape holds their folder's flock) are not moved.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from ..errors import ChangerBusy, DeviceError, DeviceNotFound, NoMedium, SlotFull, UsageError
from ..fsutil import atomic_write
from ..generations import Generation, by_name
from ..tape.device import TapeDevice
from ..tape.vtape import VirtualTape, create_vtape
from .base import DriveInfo, Library, LibraryStatus, SlotInfo

CONFIG_NAME = "lto-archive-vlib.json"
LOCK_NAME = ".changer.lock"
SOURCE_NAME = ".source"
FORMAT = "lto-archive-vlib"
_PREFIX = re.compile(r"[A-Z0-9]{1,5}")


def barcode_for(prefix: str, number: int, generation: Generation) -> str:
    """LTO label: six characters (prefix + zero-padded number) and the generation's
    two-character media id (L5..L9, LA for LTO-10, M8), e.g. LTA001L9."""
    digits = 6 - len(prefix)
    if number >= 10 ** digits:
        raise UsageError(f"prefix {prefix!r} leaves {digits} digit(s): cartridge {number} has no label",
                         prefix=prefix)
    return f"{prefix}{number:0{digits}d}{generation.cart_type}"


def create_vlib(path: str | os.PathLike[str], *, drives: int = 2, slots: int = 8,
                generation: Generation | str = "LTO-9", capacity: int | None = None,
                cartridges: int | None = None, import_export: int = 0, prefix: str = "LTA",
                partitions: int = 1) -> "VirtualLibrary":
    """Make a library at `path` (new or empty folder): `cartridges` (default: one per
    storage slot) blank cartridges labelled PREFIX001L9, PREFIX002L9, ... in slots
    1, 2, ...; drives and import/export slots empty."""
    gen = generation if isinstance(generation, Generation) else by_name(generation)
    cartridges = slots if cartridges is None else cartridges
    prefix = prefix.upper()
    if not _PREFIX.fullmatch(prefix):
        raise UsageError(f"barcode prefix {prefix!r}: 1 to 5 letters or digits", prefix=prefix)
    if drives < 1 or slots < 1 or import_export < 0:
        raise UsageError("a library needs at least one drive and one storage slot "
                         f"(asked: {drives} drives, {slots} slots, {import_export} import/export)")
    if not 0 <= cartridges <= slots:
        raise UsageError(f"{cartridges} cartridges do not fit in {slots} storage slots", cartridges=cartridges)
    root = Path(path)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise UsageError(f"cannot create a library at {root}: it exists and is not an empty folder",
                         path=str(root))
    labels = [barcode_for(prefix, i, gen) for i in range(1, cartridges + 1)]
    root.mkdir(parents=True, exist_ok=True)
    for n in range(drives):
        (root / "drives" / str(n)).mkdir(parents=True)
    for n in range(1, slots + import_export + 1):
        (root / "slots" / str(n)).mkdir(parents=True)
    for n, label in enumerate(labels, start=1):
        create_vtape(root / "slots" / str(n) / label, gen, capacity, barcode=label, partitions=partitions).close()
    config = {"format": FORMAT, "version": 1, "drives": drives, "slots": slots,
              "import_export": import_export, "generation": gen.name, "capacity": capacity,
              "partitions": partitions}
    # last: a half-made library is not a library (no fsync: a virtual library is as durable as its folders)
    atomic_write(root / CONFIG_NAME, json.dumps(config, indent=2) + "\n", fsync=False)
    return VirtualLibrary(root)


class VirtualLibrary(Library):
    """A Library over a vlib folder (see the module docstring for the layout)."""

    name = "vlib"
    swaps_idle_cartridges = True     # a cartridge a job has open holds its flock: never moved

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout: float = 0.0) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        config_path = self.path / CONFIG_NAME
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DeviceNotFound(f"no virtual library at {self.path} (no {CONFIG_NAME}); make one with "
                                 f"`lto-archive vlib create {self.path}`", path=str(self.path)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DeviceError(f"{config_path} is damaged: {exc}", path=str(config_path)) from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise DeviceError(f"{config_path} does not describe a virtual library", path=str(config_path))
        try:
            self.drive_count = int(config["drives"])
            self.slot_count = int(config["slots"])
            self.import_export_count = int(config.get("import_export", 0))
        except (KeyError, TypeError, ValueError):
            raise DeviceError(f"{config_path} lacks drives/slots counts", path=str(config_path)) from None
        self.generation = str(config.get("generation") or "LTO-9")
        self.capacity = config.get("capacity") if isinstance(config.get("capacity"), int) else None
        parts = config.get("partitions")
        self.partitions: int = parts if isinstance(parts, int) and parts in (1, 2) else 1
        self.name = f"vlib:{self.path}"

    # --- places -----------------------------------------------------------------
    def _drive_dir(self, drive: int) -> Path:
        return self.path / "drives" / str(drive)

    def _slot_dir(self, slot: int) -> Path:
        return self.path / "slots" / str(slot)

    def _content(self, place: Path, what: str) -> str | None:
        """The barcode (cartridge folder name) in a slot or drive folder, or None."""
        try:
            names = [n for n in os.listdir(place) if not n.startswith(".")]
        except FileNotFoundError:
            raise DeviceError(f"{what} of {self.name} is missing its folder {place}: the library folder "
                              f"was changed by hand", path=str(place)) from None
        if len(names) > 1:
            raise DeviceError(f"{what} of {self.name} holds {len(names)} cartridges ({', '.join(sorted(names))}): "
                              f"the library folder was changed by hand; move all but one out of {place}",
                              path=str(place))
        return names[0] if names else None

    def _source_slot(self, drive: int) -> int | None:
        try:
            return int((self._drive_dir(drive) / SOURCE_NAME).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def status(self) -> LibraryStatus:
        drives = []
        for n in range(self.drive_count):
            label = self._content(self._drive_dir(n), f"drive {n}")
            device = f"vtape:{self._drive_dir(n) / label}" if label else None
            drives.append(DriveInfo(n, label is not None, label, self._source_slot(n) if label else None, device))
        slots = []
        for n in range(1, self.slot_count + self.import_export_count + 1):
            label = self._content(self._slot_dir(n), f"slot {n}")
            slots.append(SlotInfo(n, label, label is not None, import_export=n > self.slot_count))
        return LibraryStatus(drives, slots)

    # --- the robot --------------------------------------------------------------
    def _locked(self) -> "_ChangerLock":
        return _ChangerLock(self.path / LOCK_NAME, self.name, self.lock_timeout)

    def _check_idle(self, cartridge: Path, where: str) -> None:
        """Refuse to move a cartridge some process has open (its VirtualTape holds the flock)."""
        fd = os.open(cartridge, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ChangerBusy(f"cartridge {cartridge.name} in {where} of {self.name} is in use by a "
                                  f"running job (or open device): close it before moving it",
                                  barcode=cartridge.name, library=self.name) from None
        finally:
            os.close(fd)   # drops the probe lock

    def _move(self, src: Path, dst: Path) -> None:
        """The robot's hand: one atomic rename."""
        try:
            os.rename(src, dst)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise SlotFull(f"cannot move {src.name}: {dst.parent} already holds a cartridge",
                               barcode=src.name) from None
            raise DeviceError(f"the robot of {self.name} could not move {src.name}: {exc.strerror}",
                              barcode=src.name) from None

    def load(self, slot: int, drive: int) -> None:
        with self._locked():
            s = self.status().check_load(slot, drive)
            assert s.barcode is not None     # a vlib cartridge is its folder's name
            src = self._slot_dir(slot) / s.barcode
            self._check_idle(src, f"slot {slot}")
            atomic_write(self._drive_dir(drive) / SOURCE_NAME, f"{slot}\n", fsync=False)
            self._move(src, self._drive_dir(drive) / s.barcode)

    def unload(self, drive: int, slot: int | None = None) -> None:
        with self._locked():
            d, slot = self.status().check_unload(drive, slot)
            assert d.barcode is not None
            src = self._drive_dir(drive) / d.barcode
            self._check_idle(src, f"drive {drive}")
            self._move(src, self._slot_dir(slot) / d.barcode)
            try:
                os.unlink(self._drive_dir(drive) / SOURCE_NAME)
            except FileNotFoundError:
                pass

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        with self._locked():
            s = self.status().check_transfer(source_slot, dest_slot)
            assert s.barcode is not None
            if source_slot == dest_slot:
                return
            src = self._slot_dir(source_slot) / s.barcode
            self._check_idle(src, f"slot {source_slot}")
            self._move(src, self._slot_dir(dest_slot) / s.barcode)

    # --- the operator at the import/export slots (a real library's mail slot door: no mtx command) ---------
    def insert(self, ie_slot: int | None = None, *, cartridge: str | os.PathLike[str] | None = None,
               barcode: str | None = None) -> tuple[str, int]:
        """Put a cartridge into an empty import/export slot (default: the first): a virtual cartridge
        folder from outside (moved in, named by its barcode), or with `barcode` a new blank one like
        the library's own (generation, capacity, partitions). `import_cartridge` then stores it.
        Returns (barcode, slot)."""
        if (cartridge is None) == (barcode is None):
            raise UsageError("insert either a cartridge folder or a new cartridge's barcode (not both)")
        with self._locked():
            st = self.status()
            ie_slot = self._mail_slot(st, ie_slot, "cannot insert a cartridge", empty=True)
            if cartridge is not None:
                src = Path(cartridge)
                with VirtualTape(src) as vt:          # a virtual cartridge, and nobody else has it open
                    label = vt.barcode or src.name
            else:
                label = (barcode or "").strip()      # barcode is given (checked above)
                if not label or "/" in label or label.startswith("."):
                    raise UsageError(f"barcode {barcode!r} cannot name a cartridge", barcode=barcode)
            if (place := st.locate(label)) is not None:
                where = f"drive {place.number}" if isinstance(place, DriveInfo) else f"slot {place.number}"
                raise UsageError(f"cannot insert {label}: library {self.name} already holds a cartridge with that "
                                 f"barcode (in {where})", barcode=label)
            dest = self._slot_dir(ie_slot) / label
            if cartridge is not None:
                self._move(Path(cartridge), dest)
            else:
                create_vtape(dest, self.generation, self.capacity, barcode=label, partitions=self.partitions).close()
        return label, ie_slot

    def remove(self, to: str | os.PathLike[str], ie_slot: int | None = None) -> Path:
        """Take the cartridge out of an import/export slot (default: the first full one) into the folder
        `to`, as an operator takes it out of the mail slot; return its new place (vtape:TO/BARCODE)."""
        with self._locked():
            st = self.status()
            ie_slot = self._mail_slot(st, ie_slot, "cannot take a cartridge out", empty=False)
            label = st.slot(ie_slot).barcode
            assert label is not None
            dest = Path(to) / label
            if dest.exists():
                raise UsageError(f"cannot take {label} out into {to}: {dest} exists", path=str(dest))
            src = self._slot_dir(ie_slot) / label
            self._check_idle(src, f"slot {ie_slot}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            self._move(src, dest)
        return dest

    def open_drive(self, drive: int) -> TapeDevice:
        d = self.status().drive(drive)
        if not d.full or d.barcode is None:
            raise NoMedium(f"drive {drive} of {self.name} is empty: load a cartridge "
                           f"(`lto-archive library load --library {self.name} BARCODE`)", drive=drive)
        return VirtualTape(self._drive_dir(drive) / d.barcode)

    def __repr__(self) -> str:
        return f"<VirtualLibrary {self.path} {self.drive_count} drives {self.slot_count} slots>"


class _ChangerLock:
    """flock on the library's lock file for the duration of one move."""

    def __init__(self, path: Path, name: str, timeout: float) -> None:
        self.path, self.name, self.timeout = path, name, timeout
        self.fd: int | None = None

    def __enter__(self) -> "_ChangerLock":
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise ChangerBusy(f"the changer of {self.name} is busy: another lto-archive process is "
                                      f"moving a cartridge; try again when it is done", library=self.name) from None
                time.sleep(0.05)
        self.fd = fd
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

