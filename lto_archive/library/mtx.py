"""A real tape library (medium changer) through the `mtx` program.

`mtx -f /dev/sgN status|load S D|unload S D|transfer A B`, run as a
subprocess; its text is parsed here and its error messages become our
changer errors (EmptySlot, DriveFull, SlotFull, ChangerBusy). Slot and drive
numbers are mtx's own (slots from 1, drives from 0), so `library status`
and `mtx status` agree.

Which /dev/nstN is changer drive N? See drive_map.py and docs/library.md:
1. what the user says: `drive_devices={0: "/dev/nst0"}` (`--drive-device 0=/dev/nst0`),
   or LTO_ARCHIVE_DRIVE_DEVICES="0=/dev/nst0,1=/dev/nst1";
2. the serial numbers: the changer's device identifier of each drive (READ ELEMENT
   STATUS with DVCID) against each st drive's unit serial number (VPD page 0x80);
3. for drives the serials do not place, and only where they agree with the drives
   the serials did place: under tapevm (TAPEVM=1 and TAPEVM_CHANGER is this
   changer) TAPEVM_DRIVES in order; else the st drives on the changer's SCSI host in
   SCSI address order (H:C:T:L), when they are as many as the changer's drives.
Otherwise a drive's device is unknown and open_drive() says how to name it; what
could not be matched by serial is said once (logging).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import (ChangerBusy, DeviceError, DeviceNotFound, DriveFull, EmptySlot, LtoArchiveError, NoMedium,
                      SlotFull, ToolFailed, ToolMissing, UsageError)
from ..tape import open_device
from ..tape.device import TapeDevice
from ..tape.scsi.device import ScsiDevice
from .base import DriveInfo, Library, LibraryStatus, SlotInfo
from .drive_map import SYSFS, DriveMapping, OpenScsi, map_drives

STATUS_TIMEOUT = 300.0     # a library may inventory first
MOVE_TIMEOUT = 900.0       # a robot move plus a drive's unload can take minutes
READY_TIMEOUT = 180.0      # a freshly loaded LTO drive threads the tape for ~15-60 s before it is ready

log = logging.getLogger(__name__)

_HEADER = re.compile(r"\s*Storage Changer\s+(?P<dev>.*?):\s*(?P<drives>\d+)\s+Drives?,\s*(?P<slots>\d+)\s+Slots?"
                     r"\s*\(\s*(?P<ie>\d+)\s+Import/Export\s*\)")
_DRIVE = re.compile(r"\s*Data Transfer Element\s+(?P<n>\d+)\s*:\s*(?P<state>Empty|Full)"
                    r"(?:\s*\((?:Storage Element\s+(?P<src>\d+)|Unknown Storage Element)\s+Loaded\))?"
                    r"(?P<tags>.*)")
_SLOT = re.compile(r"\s*Storage Element\s+(?P<n>\d+)(?P<ie>\s+IMPORT/EXPORT)?\s*:\s*(?P<state>Empty|Full)"
                   r"(?P<tags>.*)")
_TAG = re.compile(r":\s*VolumeTag\s*=\s*(?P<tag>.*?)\s*(?=:\s*AlternateVolumeTag|$)")


@dataclass(frozen=True)
class MtxStatus:
    """`mtx status` parsed: the library status plus what the header says."""

    status: LibraryStatus
    changer: str | None
    import_export: int


def _volume_tag(tags: str) -> str | None:
    m = _TAG.search(tags)
    if not m:
        return None
    return m.group("tag").strip() or None


def parse_status(text: str, drive_devices: dict[int, str] | None = None) -> MtxStatus:
    """Parse `mtx status` (with or without barcodes, either VolumeTag spacing).

    Raises ToolFailed when the text holds no drive or slot lines at all.
    """
    devices = drive_devices or {}
    drives: list[DriveInfo] = []
    slots: list[SlotInfo] = []
    changer, ie = None, 0
    for line in text.splitlines():
        if m := _HEADER.match(line):
            changer, ie = m.group("dev"), int(m.group("ie"))
        elif m := _DRIVE.match(line):
            n, full = int(m.group("n")), m.group("state") == "Full"
            src = int(m.group("src")) if m.group("src") else None
            drives.append(DriveInfo(n, full, _volume_tag(m.group("tags")) if full else None,
                                    src if full else None, devices.get(n)))
        elif m := _SLOT.match(line):
            full = m.group("state") == "Full"
            slots.append(SlotInfo(int(m.group("n")), _volume_tag(m.group("tags")) if full else None, full,
                                  import_export=bool(m.group("ie"))))
    if not drives and not slots:
        raise ToolFailed("mtx status printed no drives and no slots: is this device a medium changer? "
                         f"(it printed: {text.strip()[:200]!r})", output=text[:2000])
    return MtxStatus(LibraryStatus(drives, slots), changer, ie)


# --- errors -----------------------------------------------------------------------

def _sense(stderr: str) -> tuple[str | None, int | None, int | None]:
    key = re.search(r"Sense Key\s*=\s*(.+)", stderr)
    asc = re.search(r"Additional Sense Code\s*=\s*([0-9A-Fa-f]+)", stderr)
    ascq = re.search(r"Additional Sense Qualifier\s*=\s*([0-9A-Fa-f]+)", stderr)
    return (key.group(1).strip() if key else None, int(asc.group(1), 16) if asc else None,
            int(ascq.group(1), 16) if ascq else None)


def mtx_error(stderr: str, *, what: str, device: str, slot: int | None = None, drive: int | None = None,
              dest: int | None = None, returncode: int | None = None) -> LtoArchiveError:
    """The error a failed mtx command means, in our words (slot and drive numbers
    from the request, since mtx names element addresses)."""
    err = stderr.strip()
    data = {"changer": device, "slot": slot, "drive": drive, "mtx_stderr": err, "returncode": returncode}
    last = err.splitlines()[-1] if err else "no message"
    if re.search(r"Source Element Address \d+ is Empty", err):
        where = f"slot {slot}" if slot is not None else "the source"
        return EmptySlot(f"{what}: {where} is empty", **data)
    if m := re.search(r"Drive (\d+) Full \(Storage Element (\d+) loaded\)", err):
        return DriveFull(f"{what}: drive {m.group(1)} already holds the cartridge from slot {m.group(2)}; "
                         f"unload it first", **data)
    if re.search(r"Data Transfer Element \d+ is Empty", err):
        return EmptySlot(f"{what}: drive {drive} is empty", **data)
    if m := re.search(r"Storage Element (\d+) is Already Full", err):
        return SlotFull(f"{what}: slot {m.group(1)} already holds a cartridge", **data)
    if re.search(r"Destination Element Address \d+ is Already Full", err):
        return SlotFull(f"{what}: slot {dest} already holds a cartridge", **data)
    if re.search(r"(Invalid|illegal) <storage-element-number>", err):
        return UsageError(f"{what}: the library has no slot {slot if dest is None else f'{slot} or {dest}'}", **data)
    if re.search(r"illegal <drive-number>", err):
        return UsageError(f"{what}: the library has no drive {drive}", **data)
    if "cannot open SCSI device" in err:
        if "No such file" in err:
            return DeviceNotFound(f"{what}: no changer at {device}: the device does not exist "
                                  f"(`lsscsi -g` lists changers as 'mediumx')", **data)
        if "Permission denied" in err:
            return DeviceError(f"{what}: no permission to open the changer {device}: add yourself to its group "
                               f"(usually 'tape' or 'disk') or run as root", **data)
        if "busy" in err.lower():
            return ChangerBusy(f"{what}: the changer {device} is busy (another program holds it)", **data)
    key, asc, ascq = _sense(err)
    if asc == 0x53 and ascq == 0x02:
        return ChangerBusy(f"{what}: the drive refuses to give up its cartridge (medium removal prevented): a "
                           f"program has it open or locked; close it or run `mt -f /dev/nstN unlock`", **data)
    if asc == 0x3B and ascq in (0x0E, 0x0D):
        return EmptySlot(f"{what}: the source is empty", **data) if ascq == 0x0E else \
            SlotFull(f"{what}: the destination is full", **data)
    if key == "Not Ready" or "Device or resource busy" in err or re.search(r"\bBusy\b", err):
        return ChangerBusy(f"{what}: the changer {device} is busy or not ready ({last}); try again", **data)
    return ToolFailed(f"{what}: mtx failed: {last}", **data)


# --- drive devices ------------------------------------------------------------------

def parse_drive_devices(items: str | list[str] | tuple[str, ...]) -> dict[int, str]:
    """"0=/dev/nst0,1=/dev/nst1" (or a list of "N=DEV") -> {0: "/dev/nst0", 1: "/dev/nst1"}."""
    parts = items.split(",") if isinstance(items, str) else [p for item in items for p in item.split(",")]
    out: dict[int, str] = {}
    for part in (p.strip() for p in parts):
        if not part:
            continue
        num, sep, dev = part.partition("=")
        if not sep or not num.strip().isdigit() or not dev.strip():
            raise UsageError(f"drive device {part!r}: write DRIVE=DEVICE, as in 0=/dev/nst0", value=part)
        out[int(num)] = dev.strip()
    return out


def _scsi_address(path: Path) -> tuple[int, ...] | None:
    m = re.fullmatch(r"(\d+):(\d+):(\d+):(\d+)", path.resolve().name)
    return tuple(int(x) for x in m.groups()) if m else None


def sysfs_drive_devices(changer: str, drive_count: int, sysfs: Path = Path("/sys/class")) -> dict[int, str]:
    """The st drives on the changer's SCSI host, in address order, if they are as many as its drives."""
    chg = _scsi_address(sysfs / "scsi_generic" / Path(changer).name / "device")
    if chg is None:
        return {}
    tapes = []
    for entry in (sysfs / "scsi_tape").glob("nst*"):
        if re.fullmatch(r"nst\d+", entry.name):
            addr = _scsi_address(entry / "device")
            if addr is not None and addr[0] == chg[0]:
                tapes.append((addr, f"/dev/{entry.name}"))
    tapes.sort()
    return {i: dev for i, (_, dev) in enumerate(tapes)} if len(tapes) == drive_count else {}


def default_drive_devices(changer: str) -> dict[int, str]:
    """What the environment says the user wants (LTO_ARCHIVE_DRIVE_DEVICES), step 1."""
    env = os.environ.get("LTO_ARCHIVE_DRIVE_DEVICES", "").strip()
    return parse_drive_devices(env) if env else {}


def tapevm_drive_devices(changer: str) -> dict[int, str]:
    """Under tapevm, its drives in order when this is its changer (a fallback of step 3)."""
    if os.environ.get("TAPEVM") == "1" and os.environ.get("TAPEVM_CHANGER") and \
            os.path.realpath(os.environ["TAPEVM_CHANGER"]) == os.path.realpath(changer):
        return dict(enumerate(os.environ.get("TAPEVM_DRIVES", "").split()))
    return {}


# --- the library ---------------------------------------------------------------------

class MtxLibrary(Library):
    """A changer driven by `mtx -f DEVICE`."""

    def __init__(self, device: str, *, drive_devices: dict[int, str] | None = None, mtx: str = "mtx",
                 status_timeout: float = STATUS_TIMEOUT, move_timeout: float = MOVE_TIMEOUT,
                 eject_before_unload: bool = True, ready_timeout: float = READY_TIMEOUT,
                 sleep: Callable[[float], None] = time.sleep, sysfs: Path = SYSFS,
                 open_scsi: OpenScsi = ScsiDevice.open) -> None:
        self.device = device
        self.name = device
        self.mtx = mtx
        self.status_timeout = status_timeout
        self.move_timeout = move_timeout
        self.eject_before_unload = eject_before_unload
        self.ready_timeout = ready_timeout
        self._sleep = sleep
        self._given = dict(drive_devices or {}) or default_drive_devices(device)
        self._sysfs = sysfs
        self._open_scsi = open_scsi
        self._mapping: DriveMapping | None = None

    def _run(self, args: list[str], *, what: str, timeout: float, slot: int | None = None,
             drive: int | None = None, dest: int | None = None) -> str:
        exe = shutil.which(self.mtx)
        if exe is None:
            raise ToolMissing(f"{what}: the program '{self.mtx}' is not installed (Debian/Ubuntu: "
                              f"`apt install mtx`)", tool=self.mtx)
        try:
            proc = subprocess.run([exe, "-f", self.device, *args], capture_output=True, text=True,
                                  timeout=timeout, errors="replace")
        except subprocess.TimeoutExpired:
            raise ChangerBusy(f"{what}: the changer {self.device} did not answer within {timeout:.0f} s "
                              f"(another program holds it, or the robot is stuck)",
                              changer=self.device, slot=slot, drive=drive) from None
        if proc.returncode != 0:
            raise mtx_error(proc.stderr or proc.stdout, what=what, device=self.device, slot=slot, drive=drive,
                            dest=dest, returncode=proc.returncode)
        return proc.stdout

    def drive_mapping(self, drive_count: int) -> DriveMapping:
        """Which st device each drive is (drive_map.py), worked out once per MtxLibrary; what
        could not be matched by serial number is said then, once."""
        if self._mapping is None:
            fallbacks = [("tapevm", tapevm_drive_devices(self.device)),
                         ("sysfs", sysfs_drive_devices(self.device, drive_count, self._sysfs))]
            self._mapping = map_drives(self.device, drive_count, given=self._given, fallbacks=fallbacks,
                                       sysfs=self._sysfs, open_scsi=self._open_scsi)
            if self._mapping.notes:
                log.warning("%s: drives not all matched to their st devices by serial number: %s", self.device,
                            "; ".join(self._mapping.notes))
        return self._mapping

    def mtx_status(self) -> MtxStatus:
        text = self._run(["status"], what=f"reading the status of {self.device}", timeout=self.status_timeout)
        parsed = parse_status(text)
        m = self.drive_mapping(len(parsed.status.drives))
        drives = [DriveInfo(d.number, d.full, d.barcode, d.source_slot, m.devices.get(d.number),
                            serial=m.serials.get(d.number), device_source=m.sources.get(d.number))
                  for d in parsed.status.drives]
        return MtxStatus(LibraryStatus(drives, parsed.status.slots), parsed.changer, parsed.import_export)

    def status(self) -> LibraryStatus:
        return self.mtx_status().status

    def load(self, slot: int, drive: int) -> None:
        self.status().check_load(slot, drive)
        what = f"loading slot {slot} into drive {drive}"
        self._run(["load", str(slot), str(drive)], what=what, timeout=self.move_timeout, slot=slot, drive=drive)

    def unload(self, drive: int, slot: int | None = None) -> None:
        d, slot = self.status().check_unload(drive, slot)
        what = f"unloading drive {drive} ({d.barcode or 'no label'}) into slot {slot}"
        if self.eject_before_unload and d.device:
            self._eject(d.device)
        self._run(["unload", str(slot), str(drive)], what=what, timeout=self.move_timeout, slot=slot, drive=drive)

    def _eject(self, device: str) -> None:
        """Many libraries only take a cartridge the drive has ejected (mt offline)."""
        try:
            dev = open_device(device)
        except (UsageError, NoMedium, DeviceNotFound):
            return      # no st backend for it, or nothing to eject: let the changer try
        try:
            dev.unload()
        finally:
            dev.close()

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        self.status().check_transfer(source_slot, dest_slot)
        if source_slot == dest_slot:
            return
        what = f"moving slot {source_slot} to slot {dest_slot}"
        self._run(["transfer", str(source_slot), str(dest_slot)], what=what, timeout=self.move_timeout,
                  slot=source_slot, dest=dest_slot)

    def open_drive(self, drive: int) -> TapeDevice:
        d = self.status().drive(drive)
        if not d.full:
            raise NoMedium(f"drive {drive} of the library {self.device} is empty: load a cartridge "
                           f"(`lto-archive library load --library {self.device} BARCODE`)", drive=drive)
        if not d.device:
            raise UsageError(f"which tape device is drive {drive} of {self.device}? Name it: "
                             f"--drive-device {drive}=/dev/nstN (see docs/library.md)", drive=drive)
        waited = 0.0
        while True:   # the changer says the drive holds it: NoMedium means it is still threading
            try:
                return open_device(d.device)
            except NoMedium:
                if waited >= self.ready_timeout:
                    raise
            self._sleep(2.0)
            waited += 2.0

    def __repr__(self) -> str:
        return f"<MtxLibrary {self.device}>"
