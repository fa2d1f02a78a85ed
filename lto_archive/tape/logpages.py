"""SCSI log pages a tape drive keeps (LOG SENSE, SPC-4 7.3 / SSC-4 8.2), parsed and built with `construct`.

The pages read for cartridge and drive health (docs/health.md):

- 0x02 / 0x03 write and read error counters (SPC-4): corrected, rewritten or reread, uncorrected;
- 0x2E TapeAlert (SSC-4 annex): 64 flags, each with its name and severity;
- 0x17 volume statistics (SSC-4): the cartridge's mounts, lifetime and last-mount counters;
- 0x14 device statistics (SSC-4): the drive's loads, cleaning, hours, hard errors.

Every page is a 4-byte header (page code, subpage, page length) and parameters (code, control byte,
length, value). `parse_page(data)` gives a `LogPage` whose `values` are named after the tables
below (numbers as int, ASCII fields as str, per-partition lists as {partition: int}); parameters
we do not name stay in `unknown`. `build_page(code, values)` makes the bytes (the virtual tape
answers LOG SENSE with them; tests parse what it builds). Malformed bytes raise LogPageError and
nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from construct import (BitsInteger, BitStruct, Bytes, Const, ConstructError, Flag, Int8ub, Int16ub, Padding,
                       Struct, this)

from ..errors import DeviceError

LOG_SENSE = 0x4D
SUPPORTED_PAGES = 0x00
WRITE_ERRORS = 0x02
READ_ERRORS = 0x03
DEVICE_STATISTICS = 0x14
VOLUME_STATISTICS = 0x17
TAPE_ALERT = 0x2E
HEALTH_PAGES = (WRITE_ERRORS, READ_ERRORS, TAPE_ALERT, VOLUME_STATISTICS, DEVICE_STATISTICS)
PAGE_NAMES = {SUPPORTED_PAGES: "supported log pages", WRITE_ERRORS: "write error counters",
              READ_ERRORS: "read error counters", DEVICE_STATISTICS: "device statistics",
              VOLUME_STATISTICS: "volume statistics", TAPE_ALERT: "TapeAlert"}

# The format-and-linking bits of a parameter's control byte (SPC-4 table 354)
FORMAT_COUNTER = 0b00      # bounded data counter
FORMAT_ASCII = 0b01        # ASCII format list
FORMAT_LIST = 0b11         # binary format list


class LogPageError(DeviceError, ValueError):
    """The bytes are not a log page (or not the page asked for): the drive's answer is malformed."""


# --- structures -------------------------------------------------------------------------------------

LogSenseCdb = Struct(
    "opcode" / Const(LOG_SENSE, Int8ub),
    "flags" / BitStruct(Padding(6), "ppc" / Flag, "sp" / Flag),
    "page" / BitStruct("pc" / BitsInteger(2), "page_code" / BitsInteger(6)),
    "subpage_code" / Int8ub,
    Padding(1),
    "parameter_pointer" / Int16ub,
    "allocation_length" / Int16ub,
    "control" / Const(0, Int8ub),
)

PageHeader = Struct(
    "flags" / BitStruct("ds" / Flag, "spf" / Flag, "page_code" / BitsInteger(6)),
    "subpage_code" / Int8ub,
    "page_length" / Int16ub,
)

Parameter = Struct(
    "code" / Int16ub,
    "control" / BitStruct("du" / Flag, "obsolete" / Flag, "tsd" / Flag, "etc" / Flag, "tmc" / BitsInteger(2),
                          "format" / BitsInteger(2)),
    "length" / Int8ub,
    "value" / Bytes(this.length),
)

PartitionRecord = Struct(
    "length" / Const(7, Int8ub),     # bytes after this one
    Padding(1),
    "partition" / Int16ub,
    "value" / Bytes(4),
)

HEADER_SIZE = 4
PARAMETER_HEADER_SIZE = 4


def log_sense(page: int, *, allocation_length: int = 0xFFFF, subpage: int = 0, pc: int = 1) -> bytes:
    """The LOG SENSE CDB for `page` (PC 1: the current cumulative values)."""
    return bytes(LogSenseCdb.build({"flags": {"ppc": False, "sp": False}, "page": {"pc": pc, "page_code": page},
                              "subpage_code": subpage, "parameter_pointer": 0,
                              "allocation_length": allocation_length}))


def read_log_page(scsi: Any, page: int, *, allocation_length: int = 1024) -> bytes:
    """Page `page` from a drive through `scsi.execute` (a tape.scsi ScsiDevice: SG_IO), asked again with
    room for all of it when the first answer says it holds more. The drive's refusal is its error
    (ScsiUnsupported when it does not keep the page)."""
    alloc = allocation_length
    for _ in range(2):
        data = bytes(scsi.execute(log_sense(page, allocation_length=alloc), data_in=alloc))
        want = HEADER_SIZE + int.from_bytes(data[2:4], "big") if len(data) >= HEADER_SIZE else 0
        if want <= len(data) or alloc >= 0xFFFF:
            break
        alloc = min(0xFFFF, want)
    return data


# --- what the parameters of each page are called -------------------------------------------------------

INT, ASCII, PARTITIONS = "int", "ascii", "partitions"

_COUNTERS = {
    0x0000: "corrected_without_delay", 0x0001: "corrected_with_delay", 0x0002: "total_rewrites_or_rereads",
    0x0003: "total_corrected", 0x0004: "correction_algorithm_processed", 0x0005: "total_bytes_processed",
    0x0006: "total_uncorrected",
}

_VOLUME = {
    0x0001: "volume_mounts", 0x0002: "datasets_written", 0x0003: "recovered_write_errors",
    0x0004: "unrecovered_write_errors", 0x0005: "write_servo_errors", 0x0006: "unrecovered_write_servo_errors",
    0x0007: "datasets_read", 0x0008: "recovered_read_errors", 0x0009: "unrecovered_read_errors",
    0x000C: "last_mount_unrecovered_write_errors", 0x000D: "last_mount_unrecovered_read_errors",
    0x000E: "last_mount_mb_written", 0x000F: "last_mount_mb_read", 0x0010: "lifetime_mb_written",
    0x0011: "lifetime_mb_read", 0x0012: "last_load_write_compression_ratio",
    0x0013: "last_load_read_compression_ratio", 0x0014: "medium_mount_time", 0x0015: "medium_ready_time",
    0x0016: "total_native_capacity_mb", 0x0017: "total_used_native_capacity_mb",
    0x0040: "volume_serial_number", 0x0041: "tape_lot_identifier", 0x0042: "volume_barcode",
    0x0043: "volume_manufacturer", 0x0044: "volume_license_code", 0x0045: "volume_personality",
    0x0080: "write_protect", 0x0081: "worm", 0x0082: "temperature_exceeded",
    0x0101: "beginning_of_medium_passes", 0x0102: "middle_of_tape_passes",
    0x0202: "partition_native_capacity_mb", 0x0203: "partition_used_native_capacity_mb",
    0x0204: "partition_remaining_to_early_warning_mb",
}
_VOLUME_KINDS = {**{c: ASCII for c in range(0x0040, 0x0046)}, **{c: PARTITIONS for c in (0x0202, 0x0203, 0x0204)}}

_DEVICE = {
    0x0000: "lifetime_volume_loads", 0x0001: "lifetime_cleaning_operations", 0x0002: "lifetime_power_on_hours",
    0x0003: "lifetime_medium_motion_hours", 0x0004: "lifetime_meters_of_tape_processed",
    0x0005: "motion_hours_at_last_incompatible_load", 0x0006: "power_on_hours_at_last_temperature_condition",
    0x0007: "power_on_hours_at_last_power_condition", 0x0008: "motion_hours_since_last_cleaning",
    0x0009: "motion_hours_since_second_to_last_cleaning", 0x000A: "motion_hours_since_third_to_last_cleaning",
    0x000B: "power_on_hours_at_last_forced_eject", 0x000C: "lifetime_power_cycles",
    0x000D: "volume_loads_since_last_reset", 0x000E: "hard_write_errors", 0x000F: "hard_read_errors",
    0x0040: "drive_manufacturer_serial_number", 0x0041: "drive_serial_number",
    0x0080: "medium_removal_prevented", 0x0081: "mechanism_temperature_exceeded",
}
_DEVICE_KINDS = {0x0040: ASCII, 0x0041: ASCII}

# TapeAlert flags (SSC-4 annex A / the T10 TapeAlert table): number -> (name, severity)
CRITICAL, WARNING, INFORMATION = "critical", "warning", "information"
_C, _W, _I = CRITICAL, WARNING, INFORMATION
TAPEALERT: dict[int, tuple[str, str]] = {
    1: ("read warning", _W), 2: ("write warning", _W), 3: ("hard error", _W), 4: ("media", _C),
    5: ("read failure", _C), 6: ("write failure", _C), 7: ("media life", _W), 8: ("not data grade", _W),
    9: ("write protect", _C), 10: ("volume removal prevented", _I), 11: ("cleaning volume", _I),
    12: ("unsupported format", _I), 13: ("recoverable mechanical cartridge failure", _C),
    14: ("unrecoverable mechanical cartridge failure", _C), 15: ("memory chip in cartridge failure", _W),
    16: ("forced eject", _C), 17: ("read only format", _W), 18: ("tape directory corrupted on load", _W),
    19: ("nearing media life", _I), 20: ("clean now", _C), 21: ("clean periodic", _W),
    22: ("expired cleaning volume", _C), 23: ("invalid cleaning volume", _C), 24: ("retension requested", _W),
    25: ("multi-port interface error", _W), 26: ("cooling fan failure", _W), 27: ("power supply failure", _W),
    28: ("power consumption", _W), 29: ("drive preventive maintenance required", _W), 30: ("hardware A", _C),
    31: ("hardware B", _C), 32: ("primary interface", _W), 33: ("eject volume", _C),
    34: ("microcode update fail", _W), 35: ("drive humidity", _W), 36: ("drive temperature", _W),
    37: ("drive voltage", _W), 38: ("predictive failure", _C), 39: ("diagnostics required", _W),
    **{n: ("obsolete (changer)", _I) for n in range(40, 47)},
    **{n: ("reserved", _I) for n in range(47, 50)},
    50: ("lost statistics", _W), 51: ("tape directory invalid at unload", _W),
    52: ("tape system area write failure", _C), 53: ("tape system area read failure", _C),
    54: ("no start of data", _C), 55: ("loading or threading failure", _C), 56: ("unrecoverable unload failure", _C),
    57: ("automation interface failure", _C), 58: ("microcode failure", _W),
    59: ("WORM volume integrity check failed", _W), 60: ("WORM volume overwrite attempted", _W),
    **{n: ("reserved", _I) for n in range(61, 65)},
}
MEDIA_FLAGS = frozenset({4, 5, 6, 7, 8, 13, 14, 15, 17, 18, 19, 51, 52, 53, 54, 55, 59})   # the cartridge's
CLEANING_FLAGS = frozenset({20, 21})                                                     # the drive wants a clean

_NAMES: dict[int, dict[int, str]] = {
    WRITE_ERRORS: _COUNTERS, READ_ERRORS: _COUNTERS, VOLUME_STATISTICS: _VOLUME, DEVICE_STATISTICS: _DEVICE,
    TAPE_ALERT: {n: f"flag_{n}" for n in range(1, 65)},
}
_KINDS: dict[int, dict[int, str]] = {VOLUME_STATISTICS: _VOLUME_KINDS, DEVICE_STATISTICS: _DEVICE_KINDS}
_CODES = {page: {name: code for code, name in names.items()} for page, names in _NAMES.items()}


def parameter_kind(page: int, code: int) -> str:
    """int, ascii or partitions: how parameter `code` of `page` is encoded."""
    return _KINDS.get(page, {}).get(code, INT)


def parameter_names(page: int) -> dict[int, str]:
    """Parameter code -> the name `LogPage.values` uses, for a page we know (else {})."""
    return dict(_NAMES.get(page, {}))


@dataclass
class LogPage:
    """One parsed log page: named values, and the raw bytes of parameters we do not name."""

    page: int
    subpage: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    unknown: dict[int, bytes] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    @property
    def tapealert_flags(self) -> list[int]:
        """TapeAlert: the numbers of the active flags (page 0x2E only)."""
        return sorted(int(k[5:]) for k, v in self.values.items() if k.startswith("flag_") and v & 1)

    def to_dict(self) -> dict[str, Any]:
        return {"page": self.page, "name": PAGE_NAMES.get(self.page, f"page 0x{self.page:02X}"),
                "values": dict(self.values), "unknown": {f"0x{k:04X}": v.hex() for k, v in self.unknown.items()}}


def tapealert_flag(number: int) -> dict[str, Any]:
    """A TapeAlert flag as data: number, name, severity, and whether it is the cartridge's or a cleaning call."""
    name, severity = TAPEALERT.get(number, ("unknown", INFORMATION))
    return {"flag": number, "name": name, "severity": severity, "media": number in MEDIA_FLAGS,
            "cleaning": number in CLEANING_FLAGS}


# --- parsing --------------------------------------------------------------------------------------------

def parse_page(data: bytes, page: int | None = None) -> LogPage:
    """The log page in `data` (what LOG SENSE returned); `page`: the code it must have."""
    data = bytes(data)
    if len(data) < HEADER_SIZE:
        raise LogPageError(f"a log page has a 4-byte header; got {len(data)} bytes")
    header = PageHeader.parse(data)
    code = header.flags.page_code
    if page is not None and code != page:
        raise LogPageError(f"asked for log page 0x{page:02X}, the drive answered page 0x{code:02X}")
    end = HEADER_SIZE + header.page_length
    if end > len(data):
        raise LogPageError(f"log page 0x{code:02X} says it holds {header.page_length} bytes, only "
                           f"{len(data) - HEADER_SIZE} came")
    out = LogPage(code, header.subpage_code)
    if code == SUPPORTED_PAGES:
        out.values["pages"] = list(data[HEADER_SIZE:end])
        return out
    names = _NAMES.get(code, {})
    pos = HEADER_SIZE
    while pos < end:
        if end - pos < PARAMETER_HEADER_SIZE:
            raise LogPageError(f"log page 0x{code:02X}: {end - pos} stray byte(s) after the last parameter")
        # `Parameter`'s layout, sliced (a construct parse per parameter cost a tape load ~10 ms)
        pcode, length = int.from_bytes(data[pos:pos + 2], "big"), data[pos + 3]
        value = data[pos + PARAMETER_HEADER_SIZE:min(pos + PARAMETER_HEADER_SIZE + length, end)]
        if len(value) < length:
            raise LogPageError(f"log page 0x{code:02X}: the parameter at byte {pos} runs past the page's end")
        pos += PARAMETER_HEADER_SIZE + length
        if pcode in names:
            out.values[names[pcode]] = _decode(code, pcode, value)
        else:
            out.unknown[pcode] = value
    return out


def _decode(page: int, code: int, raw: bytes) -> Any:
    kind = parameter_kind(page, code)
    if kind == ASCII:
        return raw.decode("ascii", "replace").rstrip(" \x00")
    if kind == PARTITIONS:
        parts: dict[int, int] = {}
        pos = 0
        while pos < len(raw):
            try:
                rec = PartitionRecord.parse(raw[pos:])
            except ConstructError:
                raise LogPageError(f"log page 0x{page:02X} parameter 0x{code:04X}: a malformed partition "
                                   f"record at byte {pos}") from None
            parts[rec.partition] = int.from_bytes(rec.value, "big")
            pos += PartitionRecord.sizeof()
        return parts
    return int.from_bytes(raw, "big")


def supported_pages(data: bytes) -> list[int]:
    """The page codes page 0x00 lists."""
    return list(parse_page(data, SUPPORTED_PAGES).values["pages"])


# --- building ---------------------------------------------------------------------------------------

def _encode(page: int, code: int, value: Any) -> tuple[bytes, int]:
    """(value bytes, format bits) of one parameter."""
    kind = parameter_kind(page, code)
    if kind == ASCII:
        return str(value).encode("ascii", "replace"), FORMAT_ASCII
    if kind == PARTITIONS:
        return b"".join(PartitionRecord.build({"partition": p, "value": int(v).to_bytes(4, "big")})
                        for p, v in sorted(dict(value).items())), FORMAT_LIST
    n = int(value)
    if n < 0:
        raise LogPageError(f"log page 0x{page:02X} parameter 0x{code:04X}: a counter cannot be negative ({n})")
    if page == TAPE_ALERT:
        return bytes([n & 0xFF]), FORMAT_LIST
    width = 4 if n < 2 ** 32 else 8
    if n >= 2 ** 64:
        raise LogPageError(f"log page 0x{page:02X} parameter 0x{code:04X}: {n} does not fit 8 bytes")
    return n.to_bytes(width, "big"), FORMAT_COUNTER if page in (WRITE_ERRORS, READ_ERRORS) else FORMAT_LIST


def build_page(page: int, values: Mapping[str, Any] | None = None, *, unknown: Mapping[int, bytes] | None = None,
               subpage: int = 0) -> bytes:
    """The bytes of log page `page` holding `values` (named as `parse_page` names them; for page 0x00
    `{"pages": [...]}`) and raw `unknown` parameters, in parameter-code order."""
    values = dict(values or {})
    if page == SUPPORTED_PAGES:
        body = bytes(values.get("pages", []))
    else:
        codes = _CODES.get(page, {})
        params: dict[int, tuple[bytes, int]] = {}
        for name, value in values.items():
            if name not in codes:
                raise LogPageError(f"log page 0x{page:02X} has no parameter named {name!r}")
            params[codes[name]] = _encode(page, codes[name], value)
        for code, raw in (unknown or {}).items():
            params[code] = (bytes(raw), FORMAT_LIST)
        body = b""
        for code, (raw, fmt) in sorted(params.items()):
            if len(raw) > 0xFF:
                raise LogPageError(f"log page 0x{page:02X} parameter 0x{code:04X} is {len(raw)} bytes (255 at most)")
            if not 0 <= code <= 0xFFFF:
                raise LogPageError(f"log page 0x{page:02X}: parameter code {code} does not fit 2 bytes")
            # `Parameter`'s layout: code, control (du, ds, tsd, etc, tmc all 0; the format in the low bits), length
            body += code.to_bytes(2, "big") + bytes((fmt & 3, len(raw))) + raw
    if len(body) > 0xFFFF:
        raise LogPageError(f"log page 0x{page:02X} would be {len(body)} bytes long (65535 at most)")
    header = PageHeader.build({"flags": {"ds": False, "spf": bool(subpage), "page_code": page},
                               "subpage_code": subpage, "page_length": len(body)})
    return bytes(header) + body


def build_tapealert(active: set[int] | list[int] | frozenset[int]) -> bytes:
    """Page 0x2E with all 64 flags, those in `active` set."""
    on = set(active)
    return build_page(TAPE_ALERT, {f"flag_{n}": int(n in on) for n in range(1, 65)})
