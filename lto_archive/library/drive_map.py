"""Which /dev/nstN is each drive of a changer: by serial number, else by the older rules.

In a library with several drives the kernel numbers its st devices in the
order it found them, which need not be the changer's drive order; writing to
the wrong one writes to the wrong cartridge. So, where both sides answer:

- the changer names each drive (READ ELEMENT STATUS of its data transfer
  elements with DVCID: a device identifier, in practice "VENDOR  PRODUCT  SERIAL");
  mtx numbers the drives in element address order, and so do we;
- each st drive gives its serial (the unit serial number page, VPD 0x80: the
  kernel's copy in sysfs, else INQUIRY through SG_IO on its sg node, else on
  /dev/nstN);
- drive N is the st device whose serial is the one the changer gives for N.

What the user names (`--drive-device`, LTO_ARCHIVE_DRIVE_DEVICES) wins. A drive
the serials do not place (the changer or the drive does not answer, an
identifier cut short or binary) takes the older rules (TAPEVM_DRIVES under
tapevm, then the SCSI address order on the changer's host), a rule being used
only when no serial contradicts it: not for a drive another device's serial
names, nor on a device whose serial differs from the one the changer gives
(one that merely begins with it does not count: tgt's last identifier is cut
short). What could not be matched is said once. See docs/library.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DeviceError
from ..tape.scsi import cdb
from ..tape.scsi.device import ScsiDevice
from ..tape.scsi.responses import DeviceIdentifier, parse_unit_serial

OpenScsi = Callable[..., ScsiDevice]
SYSFS = Path("/sys/class")


@dataclass(frozen=True)
class ChangerDrives:
    """What the changer says about its drives, in mtx's numbering (None: it did not say)."""

    identifiers: list[DeviceIdentifier | None] | None
    why_not: str | None = None        # why `identifiers` is None


@dataclass
class DriveMapping:
    """The answer: drive number -> device, its serial, how the device was found, what was not matched."""

    devices: dict[int, str] = field(default_factory=dict)
    serials: dict[int, str] = field(default_factory=dict)
    sources: dict[int, str] = field(default_factory=dict)   # "given", "serial", "tapevm" or "sysfs"
    notes: list[str] = field(default_factory=list)


def changer_drives(changer: str, *, open_scsi: OpenScsi = ScsiDevice.open) -> ChangerDrives:
    """The device identifiers of the changer's drives (READ ELEMENT STATUS, DVCID), by element address."""
    try:
        try:
            dev = open_scsi(changer, writable=True)        # what mtx opens; a read-only sg fd may not send 0xB8
        except DeviceError:
            dev = open_scsi(changer)
        with dev:
            elements = dev.read_element_status(cdb.ELEMENT_DATA_TRANSFER, dvcid=True)
    except DeviceError as exc:
        return ChangerDrives(None, exc.message)
    drives = sorted((e for e in elements if e.element_type == cdb.ELEMENT_DATA_TRANSFER), key=lambda e: e.address)
    return ChangerDrives([e.identifier for e in drives])


def st_devices(sysfs: Path = SYSFS) -> list[str]:
    """The st drives of this machine (/dev/nstN), in number order."""
    names = [e.name for e in (sysfs / "scsi_tape").glob("nst*") if re.fullmatch(r"nst\d+", e.name)]
    return [f"/dev/{n}" for n in sorted(names, key=lambda n: int(n[3:]))]


def drive_serial(device: str, *, sysfs: Path = SYSFS, open_scsi: OpenScsi = ScsiDevice.open) -> tuple[str | None, str]:
    """(serial, where it came from or why not) of an st drive: the kernel's copy of VPD page 0x80
    (sysfs, no open needed: works while a job holds the drive), else INQUIRY on its sg node, else
    on the st node itself."""
    node = sysfs / "scsi_tape" / Path(device).name / "device"
    try:
        serial = parse_unit_serial((node / "vpd_pg80").read_bytes())
        if serial:
            return serial, "sysfs vpd_pg80"
    except (OSError, ValueError):
        pass
    paths = [f"/dev/{g.name}" for g in sorted((node / "scsi_generic").glob("sg*"))] + [device]
    why = "no answer"
    for path in paths:
        try:
            with open_scsi(path) as dev:
                serial = dev.serial_number()
        except DeviceError as exc:
            why = exc.message
            continue
        if serial:
            return serial, path
        why = f"{path}: the drive reports no serial number (VPD page 0x80)"
    return None, why


def same_serial(changer_says: str, drive_says: str) -> bool:
    """The changer's serial for a drive names this drive's serial: equal, or its last word
    (an identifier like "IBM ULT3580-TD9 1013000123" of a vendor-specific type)."""
    a, b = changer_says.strip().upper(), drive_says.strip().upper()
    return bool(b) and (a == b or (a.split() or [""])[-1] == b)


def cut_short(changer_says: str, drive_says: str) -> bool:
    """The changer's serial is the start of this drive's: an identifier the changer cut short (tgt
    sends 8 bytes fewer than it announces, the end of the last drive's identifier) names no drive,
    but does not say the drive is another one either."""
    a, b = changer_says.strip().upper(), drive_says.strip().upper()
    return bool(a) and len(a) < len(b) and b.startswith(a)


def resolve(drive_count: int, *, given: dict[int, str], changer: ChangerDrives, serials: dict[str, str | None],
            serial_errors: dict[str, str] | None = None,
            fallbacks: Sequence[tuple[str, dict[int, str]]] = ()) -> DriveMapping:
    """Put the pieces together (pure: every input already asked).

    `serials` maps each st device to its serial (None when unknown, the reason in
    `serial_errors`); `fallbacks` are the older rules as (name, map), in order.
    """
    out = DriveMapping()
    ev = _Evidence(_changer_serials(drive_count, changer, out.notes), {dev: s for dev, s in serials.items() if s})
    by_serial = ev.match(out.notes)
    if ev.changer_serial and len(ev.known) < len(serials):
        for dev in sorted(set(serials) - set(ev.known)):
            out.notes.append(f"{dev}: serial unknown ({(serial_errors or {}).get(dev, 'no answer')})")
    if given:
        _take_given(out, drive_count, given, by_serial, ev)
    else:
        out.devices.update(by_serial)
        out.sources.update({n: "serial" for n in by_serial})
        if len(by_serial) < drive_count:
            _take_fallback(out, drive_count, fallbacks, by_serial, ev)
    for n, dev in out.devices.items():
        s = ev.known.get(dev) or ev.changer_serial.get(n)
        if s:
            out.serials[n] = s
    for n, s in ev.changer_serial.items():
        out.serials.setdefault(n, s)
    return out


def _changer_serials(drive_count: int, changer: ChangerDrives, notes: list[str]) -> dict[int, str]:
    """The serial number the changer gives for each drive it names by one (the rest said in `notes`)."""
    idents = changer.identifiers
    if idents is not None and len(idents) != drive_count:
        notes.append(f"the changer reports {len(idents)} drive(s) with identifiers where mtx lists "
                     f"{drive_count}: serials not used")
        idents = None
    if idents is None and changer.why_not:
        notes.append(f"the changer does not name its drives ({changer.why_not})")
    changer_serial: dict[int, str] = {}
    for n, ident in enumerate(idents or ()):
        if ident is None:
            notes.append(f"drive {n}: the changer gives no identifier")
        elif not ident.complete:
            notes.append(f"drive {n}: the changer's identifier is cut short ({ident.text or ident.value.hex()!r})")
        elif ident.serial is None:
            notes.append(f"drive {n}: the changer's identifier is binary ({ident.value.hex()}), not a serial number")
        else:
            changer_serial[n] = ident.serial
    return changer_serial


@dataclass(frozen=True)
class _Evidence:
    """The serials the changer gives its drives (by number) and the st drives give (by device)."""

    changer_serial: dict[int, str]
    known: dict[str, str]

    def match(self, notes: list[str]) -> dict[int, str]:
        """Drive number -> the one st device with its serial (what does not match is said in `notes`)."""
        known = self.known
        matches = {n: [dev for dev, ds in known.items() if same_serial(s, ds)] for n, s in self.changer_serial.items()}
        by_serial = {n: devs[0] for n, devs in matches.items() if len(devs) == 1}
        for n, devs in matches.items():
            s = self.changer_serial[n]
            if len(devs) > 1:
                notes.append(f"drive {n} (serial {s}): several st devices have that serial ({', '.join(devs)})")
            elif not devs:
                start = [dev for dev, ds in known.items() if cut_short(s, ds) and dev not in by_serial.values()]
                notes.append(f"drive {n} (serial {s}): no st drive on this machine has that serial"
                             + (f"; it may be cut short (it begins the serial of {', '.join(start)})" if start else ""))
        return by_serial

    def agrees(self, n: int, dev: str) -> bool:
        """Nothing in the serials says drive n is not `dev`."""
        ds = self.known.get(dev)
        if ds is None:        # a device whose serial we could not read: nothing says otherwise
            return True
        if n in self.changer_serial:
            return same_serial(self.changer_serial[n], ds) or cut_short(self.changer_serial[n], ds)
        return not any(same_serial(cs, ds) for m, cs in self.changer_serial.items() if m != n)


def _take_given(out: DriveMapping, drive_count: int, given: dict[int, str], by_serial: dict[int, str],
                ev: _Evidence) -> None:
    """The user's --drive-device map first, then the serials for the drives it leaves out."""
    if all(n in given for n in range(drive_count)):
        out.notes.clear()     # the user named every drive: only a contradiction is worth saying
    for n, dev in given.items():
        out.devices[n], out.sources[n] = dev, "given"
        if n < drive_count and not ev.agrees(n, dev):
            out.notes.append(f"drive {n} is {dev} as you said, but its serial number says otherwise "
                             f"(the changer: {ev.changer_serial.get(n, '?')}, {dev}: {ev.known.get(dev, '?')})")
    for n, dev in by_serial.items():
        if n not in given and dev not in given.values():
            out.devices[n], out.sources[n] = dev, "serial"


def _take_fallback(out: DriveMapping, drive_count: int, fallbacks: Sequence[tuple[str, dict[int, str]]],
                   by_serial: dict[int, str], ev: _Evidence) -> None:
    """The first older rule that the serials do not contradict, for the drives serials left unmapped."""
    for name, mapping in fallbacks:
        mapping = {n: d for n, d in mapping.items() if n < drive_count}
        if not mapping:
            continue
        if not all(ev.agrees(n, d) for n, d in mapping.items()):
            out.notes.append(f"the {name} order disagrees with the serial numbers: not used")
            continue
        for n, dev in sorted(mapping.items()):
            if n not in out.devices and dev not in out.devices.values():
                out.devices[n], out.sources[n] = dev, name
                if by_serial:
                    out.notes.append(f"drive {n}: {dev} from the {name} order")
        break


def map_drives(changer: str, drive_count: int, *, given: dict[int, str],
               fallbacks: Sequence[tuple[str, dict[int, str]]] = (), sysfs: Path = SYSFS,
               open_scsi: OpenScsi = ScsiDevice.open) -> DriveMapping:
    """Ask the changer and the st drives, then `resolve`."""
    chg = changer_drives(changer, open_scsi=open_scsi)
    serials: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    devices = st_devices(sysfs)
    for dev in devices:
        serials[dev], where = drive_serial(dev, sysfs=sysfs, open_scsi=open_scsi)
        if serials[dev] is None:
            errors[dev] = where
    mapping = resolve(drive_count, given=given, changer=chg, serials=serials, serial_errors=errors,
                      fallbacks=fallbacks)
    if not devices and chg.identifiers is not None and drive_count and not given:
        mapping.notes.append(f"no st drive on this machine ({sysfs / 'scsi_tape'} lists none)")
    return mapping
