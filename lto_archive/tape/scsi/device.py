"""ScsiDevice: the SCSI commands the st driver does not expose, on an open fd.

Every method sends one or a few commands through a Transport (SG_IO by
default) and turns the answer into data or into an error of our hierarchy:
ScsiUnsupported when the drive does not know the command (callers fall back),
NoMedium / WriteProtected / MediumError / EndOfMedium / GenerationError for
the conditions they name, ScsiError otherwise.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
from dataclasses import dataclass
from typing import Any, Callable

from ...errors import DeviceError, DeviceNotFound, GenerationError, UsageError
from ...generations import Generation, by_density_code
from .. import mam
from . import cdb
from .mode import (MEDIUM_PARTITION_PAGE, SIZE_REST, MediumPartitionPage, ModeData, ModeParameters, find_page,
                   mode_select_header10, parse_mode_data, partition_page)
from .responses import (DENSITY_DESCRIPTOR_SIZE, BlockLimits, DensityDescriptor, ElementStatus, Inquiry,
                        LongPosition, build_attribute_list, parse_attributes, parse_block_limits,
                        parse_density_support, parse_element_status, parse_inquiry, parse_long_position,
                        parse_unit_serial)
from .sense import ScsiError, ScsiUnsupported, Sense, decode_sense, sense_to_error
from .sg_io import (BUSY, CHECK_CONDITION, CONDITION_MET, DRIVER_TIMEOUT, GOOD, HOST_STATUS,
                    RESERVATION_CONFLICT, TASK_SET_FULL, SgIoError, SgIoTransport, Transport)

DEFAULT_TIMEOUT_S = 60.0      # the LTFS reference's figure for quick commands on LTO
MAX_ALLOCATION_16 = 0xFFFF
MAX_ELEMENT_ALLOCATION = 0x10000     # a large library's drives with identifiers fit many times over

MEDIUM_TYPES = {0x00: "data", 0x01: "cleaning", 0x80: "WORM"}


@dataclass(frozen=True)
class CartridgeMemoryInfo:
    """What the cartridge memory (MAM) says; a field the cartridge lacks is None."""

    barcode: str | None                  # 0x0806
    medium_serial: str | None            # 0x0401
    medium_type: int | None              # 0x0408: 0 data, 1 cleaning, 0x80 WORM
    manufacture_date: _dt.date | None    # 0x0406 (YYYYMMDD)
    load_count: int | None               # 0x0003
    remaining_capacity_mb: int | None    # 0x0000, of the partition read, MiB as the drive counts
    max_capacity_mb: int | None          # 0x0001, of the partition read
    manufacturer: str | None = None      # 0x0400
    density_code: int | None = None      # 0x0405: the medium's density code

    @property
    def medium_type_name(self) -> str | None:
        if self.medium_type is None:
            return None
        return MEDIUM_TYPES.get(self.medium_type, f"type 0x{self.medium_type:02X}")

    @property
    def generation(self) -> Generation | None:
        """The medium's generation from its density code, when the MAM has one we know."""
        if not self.density_code:
            return None
        try:
            return by_density_code(self.density_code)
        except GenerationError:
            return None


class ScsiDevice:
    """SG_IO on an already-open fd (an st node /dev/nstN or the drive's sg node).

    `name` is used in messages ("/dev/nst0"). `transport` replaces SG_IO (tests).
    `last_sense` keeps the sense of the last command that succeeded with a note
    (RECOVERED ERROR, cleaning requested), None otherwise.
    """

    def __init__(self, fd: int, *, timeout_s: float = DEFAULT_TIMEOUT_S, name: str | None = None,
                 transport: Transport | None = None) -> None:
        self.fd = fd
        self.timeout_s = timeout_s
        self.name = name or f"fd {fd}"
        self.transport: Transport = transport if transport is not None else SgIoTransport(fd)
        self.last_sense: Sense | None = None
        self._owns_fd = False

    @classmethod
    def open(cls, path: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, writable: bool = False) -> "ScsiDevice":
        """Open `path` non-blocking (no cartridge needed, no rewind on close), read-only unless
        `writable`: the kernel lets a read-only sg fd send only the commands it deems harmless
        (INQUIRY, MODE SENSE...), so a changer's READ ELEMENT STATUS needs a read-write fd, as mtx opens."""
        try:
            fd = os.open(path, (os.O_RDWR if writable else os.O_RDONLY) | os.O_NONBLOCK)
        except FileNotFoundError as exc:
            raise DeviceNotFound(f"no device at {path}", path=path) from exc
        except OSError as exc:
            if exc.errno == errno.EBUSY:
                raise DeviceError(f"{path} is busy: another program has the drive open", path=path) from exc
            raise DeviceError(f"cannot open {path}: {exc.strerror}", path=path) from exc
        dev = cls(fd, timeout_s=timeout_s, name=path)
        dev._owns_fd = True
        return dev

    def close(self) -> None:
        """Close the fd if `open` opened it; an fd given to the constructor stays open."""
        if self._owns_fd:
            self._owns_fd = False
            os.close(self.fd)

    def __enter__(self) -> "ScsiDevice":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one command ---------------------------------------------------------------
    def execute(self, command: bytes, *, data_in: int = 0, data_out: bytes | None = None,
                timeout_s: float | None = None) -> bytes:
        """Send one CDB; return the data-in bytes, or raise the error the answer means."""
        name = cdb.NAMES.get(command[0], f"SCSI command 0x{command[0]:02X}")
        timeout = timeout_s if timeout_s is not None else max(self.timeout_s,
                                                               cdb.LONG_TIMEOUTS_S.get(command[0], 0.0))
        try:
            r = self.transport.execute(command, data_in=data_in, data_out=data_out, timeout_s=timeout)
        except SgIoError as exc:
            cls = ScsiUnsupported if exc.errno in (errno.ENOTTY, errno.EINVAL, errno.ENOSYS) else ScsiError
            raise cls(f"{self.name}: {name}: {exc.strerror}", command=name, device=self.name,
                      errno=exc.errno) from exc
        if r.host_status:
            what = HOST_STATUS.get(r.host_status, f"transport error (host status 0x{r.host_status:02X})")
            raise ScsiError(f"{self.name}: {name}: {what}", command=name, device=self.name,
                            host_status=r.host_status)
        if r.driver_status & 0x0F == DRIVER_TIMEOUT:
            raise ScsiError(f"{self.name}: {name}: the drive did not answer within {timeout:.0f} s",
                            command=name, device=self.name)
        if r.status == CHECK_CONDITION:
            if not r.sense:
                raise ScsiError(f"{self.name}: {name}: the drive reported an error without saying which "
                                f"(CHECK CONDITION without sense data)", command=name, device=self.name)
            try:
                sense = decode_sense(r.sense)
            except ValueError as exc:
                raise ScsiError(f"{self.name}: {name}: the drive reported an error in a form we cannot read "
                                f"({exc}; sense bytes {r.sense.hex()})", command=name, device=self.name) from exc
            if sense.is_good:
                self.last_sense = sense
                return r.data
            raise sense_to_error(sense, command=name, device=self.name)
        if r.status in (BUSY, TASK_SET_FULL):
            raise ScsiError(f"{self.name}: {name}: the drive is busy: try again in a moment",
                            command=name, device=self.name, status=r.status)
        if r.status == RESERVATION_CONFLICT:
            raise ScsiError(f"{self.name}: {name}: the drive is reserved by another host or program "
                            f"(reservation conflict)", command=name, device=self.name, status=r.status)
        if r.status not in (GOOD, CONDITION_MET):
            raise ScsiError(f"{self.name}: {name}: unexpected SCSI status 0x{r.status:02X}",
                            command=name, device=self.name, status=r.status)
        self.last_sense = decode_sense(r.sense) if r.sense and r.sense[0] & 0x7F in (0x70, 0x71, 0x72, 0x73) \
            else None
        return r.data

    def _malformed(self, command: int, exc: Exception) -> ScsiError:
        name = cdb.NAMES.get(command, f"0x{command:02X}")
        return ScsiError(f"{self.name}: {name}: the drive's answer is malformed ({exc})",
                         command=name, device=self.name)

    # --- identity ----------------------------------------------------------------
    def inquiry(self) -> Inquiry:
        """Vendor, product, revision and the drive's LTO generation (from the product id)."""
        data = self.execute(cdb.inquiry(96), data_in=96)
        try:
            return parse_inquiry(data)
        except ValueError as exc:
            raise self._malformed(cdb.INQUIRY, exc) from exc

    def serial_number(self) -> str | None:
        """The drive's serial number (VPD page 0x80), None when it does not report one."""
        try:
            data = self.execute(cdb.inquiry(255, page=0x80), data_in=255)
            return parse_unit_serial(data) or None
        except (ScsiUnsupported, ValueError):
            return None

    def read_element_status(self, element_type: int = cdb.ELEMENT_DATA_TRANSFER, *,
                            dvcid: bool = True, voltag: bool = False) -> list[ElementStatus]:
        """A medium changer's elements of one type (default: its drives, each with the device
        identifier the changer knows it by). Asks with CURDATA (no robot motion) and again
        without it when the changer refuses the bit; a changer that refuses DVCID (or the
        command) raises ScsiUnsupported."""
        def ask(curdata: bool) -> bytes:
            return self._ask_growing(
                lambda alloc: cdb.read_element_status(element_type, allocation_length=alloc, dvcid=dvcid,
                                                      voltag=voltag, curdata=curdata),
                cdb.READ_ELEMENT_STATUS, alloc=4096, limit=MAX_ELEMENT_ALLOCATION, header=8,
                needed=lambda data: 8 + int.from_bytes(data[5:8], "big"))
        try:
            data = ask(curdata=True)
        except ScsiUnsupported as exc:
            if exc.sense is None or (exc.sense.asc, exc.sense.ascq) != (0x24, 0x00):
                raise
            data = ask(curdata=False)     # an older changer: CURDATA is a field it does not know
        try:
            return parse_element_status(data)
        except ValueError as exc:
            raise self._malformed(cdb.READ_ELEMENT_STATUS, exc) from exc

    def _ask_growing(self, build: Callable[[int], bytes], opcode: int, *, alloc: int, limit: int, header: int,
                     needed: Callable[[bytes], int]) -> bytes:
        """Send `build(alloc)`; when the answer says it holds more than fitted, once more with room for it all."""
        for _ in range(2):
            data = self.execute(build(alloc), data_in=alloc)
            if len(data) < header:
                raise self._malformed(opcode, ValueError(f"{len(data)} bytes"))
            want = needed(data)
            if want <= len(data) or alloc >= limit:
                break
            alloc = min(limit, want)
        return data

    def test_unit_ready(self) -> None:
        """Return when a cartridge is loaded and ready; raise NoMedium (or why not) otherwise."""
        self.execute(cdb.test_unit_ready())

    def read_block_limits(self) -> tuple[int, int]:
        """(minimum, maximum) record length in bytes the drive accepts."""
        limits = self.block_limits()
        return limits.minimum, limits.maximum

    def block_limits(self) -> BlockLimits:
        data = self.execute(cdb.read_block_limits(), data_in=6)
        try:
            return parse_block_limits(data)
        except ValueError as exc:
            raise self._malformed(cdb.READ_BLOCK_LIMITS, exc) from exc

    # --- position ------------------------------------------------------------------
    def read_position(self) -> LongPosition:
        """READ POSITION long form: partition, block (logical object), file number, flags.

        Raises ScsiUnsupported when the drive refuses the long form, or when its
        answer sets bits SSC-4 reserves (byte 0 bits 5, 4, 1): the tgt emulator's
        stub answers 0x20 followed by zeros whatever the position, and such an
        answer must not be taken for "block 0". Raises ScsiError when the drive
        says it does not know its position (LONU).
        """
        data = self.execute(cdb.read_position(cdb.LONG_FORM), data_in=32)
        try:
            pos, reserved = parse_long_position(data)
        except ValueError as exc:
            raise self._malformed(cdb.READ_POSITION, exc) from exc
        if reserved:
            raise ScsiUnsupported(f"{self.name}: READ POSITION: the drive's answer sets reserved bits "
                                  f"(byte 0 = 0x{data[0]:02X}): it does not really report its position",
                                  command="READ POSITION", device=self.name)
        if pos.lonu:
            raise ScsiError(f"{self.name}: READ POSITION: the drive does not know where it is on the tape "
                            f"(after an error or a reset): rewind before going on",
                            command="READ POSITION", device=self.name)
        return pos

    def locate(self, partition: int, block: int) -> None:
        """LOCATE(16) to `block` (logical object) of `partition`.

        The change-partition bit is always set: SSC-4 lets CP=1 name the current
        partition, so one command serves both cases without asking where we are.
        """
        if not 0 <= partition <= 0xFF or not 0 <= block < 2 ** 64:
            raise UsageError(f"cannot locate to partition {partition} block {block}",
                             partition=partition, block=block)
        self.execute(cdb.locate16(partition, block, change_partition=True))

    def _rewind(self) -> None:
        self.execute(cdb.rewind())

    # --- density and media ----------------------------------------------------------------
    def mode_sense(self) -> ModeParameters:
        """The mode parameter header and block descriptor: density code, write protect,
        medium type, block length. MODE SENSE(6) page 0 as the st driver asks, then
        MODE SENSE(10) when the drive refuses the 6-byte form."""
        try:
            data = self.execute(cdb.mode_sense6(0x00, allocation_length=12), data_in=12)
            ten = False
        except ScsiUnsupported:
            data = self.execute(cdb.mode_sense10(0x00, allocation_length=16), data_in=16)
            ten = True
        try:
            return parse_mode_data(data, ten=ten).header
        except ValueError as exc:
            raise self._malformed(cdb.MODE_SENSE_10 if ten else cdb.MODE_SENSE_6, exc) from exc

    def density_code(self) -> int:
        """The block descriptor's density code: the loaded medium's format (0 = default/unknown)."""
        return self.mode_sense().density_code

    def report_density_support(self, media: bool = True) -> list[DensityDescriptor]:
        """Densities of the loaded medium (`media`) or every density the drive supports."""
        data = self._ask_growing(lambda alloc: cdb.report_density_support(media=media, allocation_length=alloc),
                                 cdb.REPORT_DENSITY_SUPPORT, alloc=4 + DENSITY_DESCRIPTOR_SIZE * 32,
                                 limit=MAX_ALLOCATION_16, header=4,
                                 needed=lambda data: 2 + int.from_bytes(data[:2], "big"))
        try:
            return parse_density_support(data)
        except ValueError as exc:
            raise self._malformed(cdb.REPORT_DENSITY_SUPPORT, exc) from exc

    # --- cartridge memory (MAM) -----------------------------------------------------------------
    def read_attribute_full(self, partition: int, attr_id: int) -> mam.Attribute | None:
        """One MAM attribute with its format byte, None when the cartridge lacks it.

        Drives answer a missing attribute with ILLEGAL REQUEST / invalid field in
        CDB (IBM; the LTFS reference treats it so) or by listing the next
        attribute up (SPC-4 returns attributes from FIRST ATTRIBUTE on): both
        mean None. An unknown READ ATTRIBUTE (invalid operation code) raises
        ScsiUnsupported.
        """
        alloc = 1024
        for _ in range(2):
            try:
                data = self.execute(cdb.read_attribute(partition, attr_id, allocation_length=alloc),
                                    data_in=alloc)
            except ScsiUnsupported as exc:
                if exc.sense is not None and (exc.sense.asc, exc.sense.ascq) == (0x24, 0x00):
                    return None
                raise
            try:
                attrs, available = parse_attributes(data)
            except ValueError as exc:
                raise self._malformed(cdb.READ_ATTRIBUTE, exc) from exc
            if attrs or available + 4 <= len(data) or alloc >= MAX_ALLOCATION_16:
                break
            alloc = min(MAX_ALLOCATION_16, available + 4)
        if attrs and attrs[0].id == attr_id:
            return attrs[0]
        return None

    def read_attribute(self, partition: int, attr_id: int) -> bytes | None:
        """The raw value of a MAM attribute, None when absent (CartridgeMemory protocol)."""
        attr = self.read_attribute_full(partition, attr_id)
        return attr.value if attr is not None else None

    def write_attribute(self, partition: int, attr_id: int, value: bytes, fmt: int) -> None:
        """Write one MAM attribute (fmt: 0 binary, 1 ASCII, 2 text), write-through."""
        params = build_attribute_list([(attr_id, fmt & 0x03, value)])
        self.execute(cdb.write_attribute(partition, len(params)), data_out=params)

    def cartridge_memory(self, partition: int = 0) -> CartridgeMemoryInfo:
        """Barcode, medium serial and type, manufacture date, load count and capacities.

        Raises ScsiUnsupported when the drive has no READ ATTRIBUTE at all;
        attributes the cartridge lacks are None.
        """
        def read(attr_id: int) -> mam.Attribute | None:
            return self.read_attribute_full(partition, attr_id)

        def text(attr: mam.Attribute | None) -> str | None:
            return (attr.text() or None) if attr is not None else None

        def number(attr: mam.Attribute | None) -> int | None:
            return attr.number() if attr is not None and attr.value else None

        return CartridgeMemoryInfo(
            barcode=text(read(mam.BARCODE)),
            medium_serial=text(read(mam.MEDIUM_SERIAL_NUMBER)),
            medium_type=number(read(mam.MEDIUM_TYPE)),
            manufacture_date=_date(text(read(mam.MEDIUM_MANUFACTURE_DATE))),
            load_count=number(read(mam.LOAD_COUNT)),
            remaining_capacity_mb=number(read(mam.REMAINING_CAPACITY_IN_PARTITION)),
            max_capacity_mb=number(read(mam.MAXIMUM_CAPACITY_IN_PARTITION)),
            manufacturer=text(read(mam.MEDIUM_MANUFACTURER)),
            density_code=number(read(mam.MEDIUM_DENSITY_CODE)),
        )

    # --- partitioning ----------------------------------------------------------------------------
    def partition(self, count: int, sizes_mb: list[int | None] | None = None) -> None:
        """Erase the cartridge and make `count` partitions (LTFS: 2).

        `sizes_mb` gives each partition's size in MB (10**6 bytes) with exactly one None
        for "the rest"; sizes are rounded up to whole GB, the unit the LTFS reference
        uses, and the drive rounds up again to its own minimum partition size.
        Default: one partition; or for 2 the LTFS layout, a minimum-size partition 0
        (the index partition) and the rest in partition 1.

        Rewinds, reads the medium partition page (MODE SENSE(10) page 0x11), sends it
        back changed (MODE SELECT(10)), then FORMAT MEDIUM (partition). ALL DATA ON THE
        CARTRIDGE IS LOST. The commands bypass the st driver: on an st fd, rewind
        through st afterwards (MTREW) so its counters agree with the drive.
        """
        sizes = _partition_sizes(count, sizes_mb)
        self._rewind()
        md, current = self._partition_page()
        if count - 1 > current.max_additional_partitions:
            raise GenerationError(
                f"{self.name}: this drive and cartridge take at most {current.max_additional_partitions + 1} "
                f"partition(s), not {count} (two partitions need LTO-5 or newer media)",
                device=self.name, partitions=count)
        h = md.header
        params = mode_select_header10(
            h.medium_type, {"wp": False, "buffered_mode": h.buffered_mode, "speed": h.speed},
            md.block_descriptors) + partition_page(current, count, sizes)
        self.execute(cdb.mode_select10(len(params)), data_out=params)
        self.execute(cdb.format_medium(cdb.FORMAT_PARTITION))

    def medium_partitions(self) -> tuple[int, int]:
        """(partitions defined on the cartridge, most the drive and cartridge take), from page 0x11."""
        _, page = self._partition_page()
        return page.additional_partitions_defined + 1, page.max_additional_partitions + 1

    def _partition_page(self) -> tuple[ModeData, Any]:
        """MODE SENSE(10) of the medium partition page (0x11): the mode data and the parsed page."""
        data = self.execute(cdb.mode_sense10(MEDIUM_PARTITION_PAGE, allocation_length=1024), data_in=1024)
        try:
            md = parse_mode_data(data, ten=True)
            page = find_page(md.pages, MEDIUM_PARTITION_PAGE)
            if page is None:
                raise ValueError("the answer has no medium partition page")
            return md, MediumPartitionPage.parse(page)
        except ValueError as exc:
            raise self._malformed(cdb.MODE_SENSE_10, exc) from exc


def _partition_sizes(count: int, sizes_mb: list[int | None] | None) -> list[int]:
    """Partition sizes in GB for the page (SIZE_REST for the rest)."""
    if not 1 <= count <= 4:
        raise UsageError(f"a cartridge takes 1 to 4 partitions (LTO: 1 or 2), not {count}", count=count)
    if sizes_mb is None:
        return [SIZE_REST] if count == 1 else [1] * (count - 1) + [SIZE_REST]
    if len(sizes_mb) != count:
        raise UsageError(f"{count} partitions need {count} sizes, got {len(sizes_mb)}", sizes=list(sizes_mb))
    if sum(s is None for s in sizes_mb) != 1:
        raise UsageError("exactly one partition size must be None (the rest of the cartridge)",
                         sizes=list(sizes_mb))
    out = []
    for s in sizes_mb:
        if s is None:
            out.append(SIZE_REST)
            continue
        if s <= 0:
            raise UsageError(f"partition size {s} MB is not positive", size=s)
        gb = -(-s // 1000)
        if gb >= SIZE_REST:
            raise UsageError(f"partition size {s} MB is too large for the medium partition page", size=s)
        out.append(gb)
    return out


def _date(text: str | None) -> _dt.date | None:
    """A MAM date (YYYYMMDD); None when absent or not a date."""
    if not text or len(text) != 8 or not text.isdigit():
        return None
    try:
        return _dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
