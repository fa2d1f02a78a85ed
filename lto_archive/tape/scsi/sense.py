"""Sense data: decoded, explained in words a DIT understands, mapped to our errors.

Both formats of SPC-4 4.5 are read:

- fixed (response code 0x70 current / 0x71 deferred): byte 2 holds FILEMARK,
  EOM, ILI and the sense key; bytes 3-6 the INFORMATION field (valid when bit 7
  of byte 0 is set); ASC/ASCQ at bytes 12/13;
- descriptor (0x72 / 0x73): key, ASC, ASCQ in bytes 1-3, then descriptors; the
  information descriptor (type 0x00) and the stream commands descriptor
  (type 0x04, FILEMARK/EOM/ILI) are read, others kept raw.

The messages cover the common tape conditions (LTFS reference sense tables,
SPC-4 ASC/ASCQ assignments, the vendors' SCSI references). "Cleaning
requested" is 00/00/17 in SPC; IBM, HPE and Quantum LTO drives also report
their own 00/82/82, included. No 03/82/xx cleaning code was found in any
reference: it is not in the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from construct import BitStruct, BitsInteger, Bytes, Flag, GreedyBytes, Int8ub, Int32ub, Int64ub, Padding, Struct

from ...errors import (DeviceError, EndOfData, EndOfMedium, GenerationError, MediumError, NoMedium,
                       WriteProtected)

# --- sense keys ------------------------------------------------------------
NO_SENSE = 0x0
RECOVERED_ERROR = 0x1
NOT_READY = 0x2
MEDIUM_ERROR = 0x3
HARDWARE_ERROR = 0x4
ILLEGAL_REQUEST = 0x5
UNIT_ATTENTION = 0x6
DATA_PROTECT = 0x7
BLANK_CHECK = 0x8
ABORTED_COMMAND = 0xB
VOLUME_OVERFLOW = 0xD

KEY_NAMES = {
    0x0: "NO SENSE", 0x1: "RECOVERED ERROR", 0x2: "NOT READY", 0x3: "MEDIUM ERROR",
    0x4: "HARDWARE ERROR", 0x5: "ILLEGAL REQUEST", 0x6: "UNIT ATTENTION", 0x7: "DATA PROTECT",
    0x8: "BLANK CHECK", 0x9: "VENDOR SPECIFIC", 0xA: "COPY ABORTED", 0xB: "ABORTED COMMAND",
    0xC: "EQUAL (obsolete)", 0xD: "VOLUME OVERFLOW", 0xE: "MISCOMPARE", 0xF: "COMPLETED",
}

# --- the two layouts ---------------------------------------------------------
FixedSense = Struct(
    "head" / BitStruct("valid" / Flag, "response_code" / BitsInteger(7)),
    "obsolete" / Int8ub,
    "flags" / BitStruct("filemark" / Flag, "eom" / Flag, "ili" / Flag, "sdat_ovfl" / Flag,
                        "sense_key" / BitsInteger(4)),
    "information" / Int32ub,
    "additional_length" / Int8ub,
    "command_specific" / Int32ub,
    "asc" / Int8ub,
    "ascq" / Int8ub,
    "fru" / Int8ub,
    "sense_key_specific" / Bytes(3),
    "additional" / GreedyBytes,
)

DescriptorSenseHeader = Struct(
    "head" / BitStruct(Padding(1), "response_code" / BitsInteger(7)),
    "key" / BitStruct(Padding(4), "sense_key" / BitsInteger(4)),
    "asc" / Int8ub,
    "ascq" / Int8ub,
    "flags" / BitStruct("sdat_ovfl" / Flag, Padding(7)),
    Padding(2),
    "additional_length" / Int8ub,
)

InformationDescriptor = Struct(            # type 0x00, additional length 0x0A
    "flags" / BitStruct("valid" / Flag, Padding(7)),
    Padding(1),
    "information" / Int64ub,
)

StreamCommandsDescriptor = Struct(         # type 0x04, additional length 0x02
    Padding(1),
    "flags" / BitStruct("filemark" / Flag, "eom" / Flag, "ili" / Flag, Padding(5)),
)

FIXED_CODES = (0x70, 0x71)
DESCRIPTOR_CODES = (0x72, 0x73)


@dataclass(frozen=True)
class Sense:
    """Decoded sense data. `information` is None when the drive did not mark it valid."""

    key: int
    asc: int
    ascq: int
    response_code: int = 0x70
    filemark: bool = False
    eom: bool = False
    ili: bool = False
    information: int | None = None
    raw: bytes = field(default=b"", repr=False)

    @property
    def deferred(self) -> bool:
        """The error belongs to an earlier command (buffered data that never reached tape)."""
        return self.response_code in (0x71, 0x73)

    @property
    def key_name(self) -> str:
        return KEY_NAMES.get(self.key, f"sense key {self.key:X}")

    @property
    def code(self) -> str:
        """"02/3A/00": key/ASC/ASCQ as drive manuals print them."""
        return f"{self.key:02X}/{self.asc:02X}/{self.ascq:02X}"

    @property
    def message(self) -> str:
        """What happened, in words a DIT understands, with the codes for the service desk."""
        entry = _lookup(self)
        text = entry[0] if entry else _generic(self)
        if self.deferred:
            text = "an earlier write or filemark failed after the drive had accepted it: " + text
        return f"{text} (sense {self.key_name} {self.code})"

    @property
    def is_unsupported(self) -> bool:
        """ILLEGAL REQUEST: invalid command operation code or invalid field in the CDB."""
        return self.key == ILLEGAL_REQUEST and (self.asc, self.ascq) in ((0x20, 0x00), (0x24, 0x00))

    @property
    def is_good(self) -> bool:
        """The command completed: NO SENSE without a condition, or RECOVERED ERROR."""
        if self.key == RECOVERED_ERROR:
            return True
        return self.key == NO_SENSE and not (self.eom or self.filemark or self.ili)

    def __str__(self) -> str:
        return self.message


def decode_sense(data: bytes) -> Sense:
    """Decode fixed (0x70/0x71) or descriptor (0x72/0x73) sense data.

    Short fixed sense (some drives stop after byte 7 or 13) reads as ASC/ASCQ
    0/0 for the missing bytes. Raises ValueError for empty or non-standard
    data (vendor-specific response code 0x7F, or anything else).
    """
    data = bytes(data)
    if not data:
        raise ValueError("no sense data")
    code = data[0] & 0x7F
    if code in FIXED_CODES:
        padded = data.ljust(18, b"\x00")
        s = FixedSense.parse(padded)
        return Sense(key=s.flags.sense_key, asc=s.asc, ascq=s.ascq, response_code=code,
                     filemark=s.flags.filemark, eom=s.flags.eom, ili=s.flags.ili,
                     information=s.information if s.head.valid else None, raw=data)
    if code in DESCRIPTOR_CODES:
        h = DescriptorSenseHeader.parse(data.ljust(8, b"\x00"))
        filemark = eom = ili = False
        information = None
        end = min(len(data), 8 + h.additional_length)
        pos = 8
        while pos + 2 <= end:
            dtype, dlen = data[pos], data[pos + 1]
            body = data[pos + 2:pos + 2 + dlen]
            if len(body) < dlen:
                break                     # truncated descriptor: keep what was decoded
            if dtype == 0x00 and dlen >= 0x0A:
                info = InformationDescriptor.parse(body)
                if info.flags.valid:
                    information = info.information
            elif dtype == 0x04 and dlen >= 0x02:
                st = StreamCommandsDescriptor.parse(body)
                filemark, eom, ili = st.flags.filemark, st.flags.eom, st.flags.ili
            pos += 2 + dlen
        return Sense(key=h.key.sense_key, asc=h.asc, ascq=h.ascq, response_code=code, filemark=filemark,
                     eom=eom, ili=ili, information=information, raw=data)
    raise ValueError(f"sense data with response code 0x{code:02X} is not in a standard format")


# --- what each condition means -------------------------------------------------
# key (None: any), ASC (None: any), ASCQ (None: any) -> message, error class.
# The first matching row wins: specific rows come before wildcards.
_INCOMPATIBLE = ("cartridge generation not supported by this drive (or not an LTO data cartridge): "
                 "use a cartridge this drive can read and write", GenerationError)
_NO_MEDIUM = ("no cartridge in the drive: load one", NoMedium)
_CLEANING = ("the drive asks for cleaning: run a cleaning cartridge through it before the next job", None)

TABLE: tuple[tuple[int | None, int | None, int | None, str, type[DeviceError] | None], ...] = (
    # not ready
    (NOT_READY, 0x3A, None, *_NO_MEDIUM),
    (NOT_READY, 0x04, 0x01, "the drive is getting ready (loading, threading or calibrating the cartridge; "
                            "a new LTO-9 cartridge can take up to two hours the first time): wait and retry", None),
    (NOT_READY, 0x04, 0x02, "the cartridge is in the drive but not loaded: load it (mt load)", NoMedium),
    (NOT_READY, 0x04, 0x03, "the drive needs someone at it (check its display; eject and reinsert the cartridge)",
     None),
    (NOT_READY, 0x04, 0x04, "the drive is formatting the cartridge: wait until it finishes", None),
    (NOT_READY, 0x04, 0x12, "the drive is offline (set offline at its panel or by the library)", None),
    (NOT_READY, 0x04, None, "the drive is not ready", None),
    (None, 0x30, 0x03, "a cleaning cartridge is in the drive: wait for it to finish and eject it", None),
    (NOT_READY, 0x53, None, "the drive could not load or eject the cartridge", MediumError),
    # cleaning
    (None, 0x00, 0x17, *_CLEANING),
    (None, 0x82, 0x82, *_CLEANING),            # IBM, HPE, Quantum LTO vendor code
    (None, 0x83, 0x83, "the drive has been cleaned", None),
    # write protection and WORM
    (DATA_PROTECT, 0x27, None, "the cartridge is write-protected: slide its write-protect tab to unlocked "
                               "and load it again", WriteProtected),
    (DATA_PROTECT, 0x30, 0x05, "this drive cannot write this cartridge's format (an older generation it "
                               "can only read)", GenerationError),
    (DATA_PROTECT, 0x30, None, "WORM cartridge: what is written on it cannot be overwritten", WriteProtected),
    (DATA_PROTECT, 0x50, 0x01, "WORM cartridge: writing is only allowed at its end of data", WriteProtected),
    (DATA_PROTECT, 0x5A, 0x02, "an operator set the drive to refuse overwriting", WriteProtected),
    (MEDIUM_ERROR, 0x85, None, "the drive write-protected the cartridge after a tape or drive failure", WriteProtected),
    # incompatible media
    (None, 0x30, 0x00, *_INCOMPATIBLE),
    (None, 0x30, 0x01, "the drive cannot read this cartridge: unknown format", GenerationError),
    (None, 0x30, 0x02, "the drive cannot read this cartridge: its format is not one this drive reads",
     GenerationError),
    (ILLEGAL_REQUEST, 0x30, None, *_INCOMPATIBLE),
    # end of medium, end of data
    (VOLUME_OVERFLOW, 0x00, 0x02, "the tape is full (volume overflow): the last record was NOT written",
     EndOfMedium),
    (VOLUME_OVERFLOW, None, None, "the tape is full (volume overflow): the last record was NOT written",
     EndOfMedium),
    (None, 0x00, 0x02, "early warning: the tape is nearly full; close the session now", EndOfMedium),
    (None, 0x00, 0x07, "programmable early warning: the tape is nearly full; close the session now",
     EndOfMedium),
    (None, 0x00, 0x05, "end of data: nothing more is written on this partition", EndOfData),
    (BLANK_CHECK, 0x14, 0x03, "end of data not found: the tape's last write was interrupted", MediumError),
    (BLANK_CHECK, None, None, "blank tape: nothing is written here", EndOfData),
    (None, 0x00, 0x04, "beginning of partition reached", None),
    (None, 0x00, 0x01, "filemark reached", None),
    # medium errors
    (MEDIUM_ERROR, 0x11, None, "unrecovered read error: this part of the tape cannot be read "
                               "(clean the drive and retry; if it repeats, the cartridge is damaged)", MediumError),
    (MEDIUM_ERROR, 0x0C, None, "write error: the drive could not write to this cartridge (clean the drive; "
                               "if it repeats, use another cartridge)", MediumError),
    (MEDIUM_ERROR, 0x03, 0x02, "excessive write errors: use another cartridge and clean the drive", MediumError),
    (MEDIUM_ERROR, 0x14, 0x03, "end of data not found: the tape's last write was interrupted", MediumError),
    (MEDIUM_ERROR, 0x31, None, "the cartridge's format is corrupted", MediumError),
    (MEDIUM_ERROR, 0x52, 0x00, "cartridge fault: retire this cartridge", MediumError),
    (MEDIUM_ERROR, 0x53, None, "the drive could not load or eject the cartridge", MediumError),
    (MEDIUM_ERROR, 0x3B, 0x00, "positioning error: the drive lost its place on the tape", MediumError),
    (MEDIUM_ERROR, 0x50, 0x00, "write append error: the drive could not append here", MediumError),
    (MEDIUM_ERROR, None, None, "medium error: the drive could not read or write the tape here", MediumError),
    # hardware
    (HARDWARE_ERROR, None, None, "the drive reports a hardware failure: power-cycle it; call service if "
                                 "it repeats", None),
    # illegal requests
    (ILLEGAL_REQUEST, 0x20, 0x00, "the drive does not support this command", None),
    (ILLEGAL_REQUEST, 0x24, 0x00, "the drive refused a field of this command (a feature this drive or "
                                  "cartridge does not have)", None),
    (ILLEGAL_REQUEST, 0x26, None, "the drive refused a parameter of this command", None),
    (ILLEGAL_REQUEST, 0x1A, 0x00, "the drive refused the length of this command's parameters", None),
    (ILLEGAL_REQUEST, 0x53, 0x02, "the cartridge is locked in the drive (another program prevents "
                                  "its removal)", None),
    (ILLEGAL_REQUEST, 0x3B, 0x0C, "position past the beginning of the tape", None),
    (ILLEGAL_REQUEST, 0x2C, 0x00, "the drive refused the command in its current state "
                                  "(command sequence error)", None),
    (ILLEGAL_REQUEST, 0x25, 0x00, "no such logical unit on this device", None),
    # unit attentions: something happened since the last command
    (UNIT_ATTENTION, 0x28, 0x00, "the cartridge may have changed (one was loaded): check which tape "
                                 "is in the drive before going on", None),
    (UNIT_ATTENTION, 0x29, None, "the drive was reset (power-on or bus reset): its position is lost; "
                                 "rewind and check the tape before going on", None),
    (UNIT_ATTENTION, 0x2A, None, "another program changed the drive's settings", None),
    (UNIT_ATTENTION, 0x3F, 0x01, "the drive's firmware was changed", None),
    (UNIT_ATTENTION, 0x5A, 0x01, "someone pressed the eject button", None),
    (UNIT_ATTENTION, None, None, "the drive reports a change of state since the last command", None),
    # transport
    (ABORTED_COMMAND, None, None, "the drive aborted the command (a connection problem): try again", None),
)


def _lookup(sense: Sense) -> tuple[str, type[DeviceError] | None] | None:
    for key, asc, ascq, text, cls in TABLE:
        if key is not None and key != sense.key:
            continue
        if (asc is not None and asc != sense.asc) or (ascq is not None and ascq != sense.ascq):
            continue
        return text, cls
    if sense.eom and sense.key in (NO_SENSE, VOLUME_OVERFLOW):
        return ("early warning: the tape is nearly full; close the session now"
                if sense.key == NO_SENSE else "the tape is full: the last record was NOT written"), EndOfMedium
    return None


def _generic(sense: Sense) -> str:
    return f"the drive reported {sense.key_name.lower()} with ASC/ASCQ {sense.asc:02X}/{sense.ascq:02X}"


# --- errors ----------------------------------------------------------------------

class ScsiError(DeviceError):
    """A SCSI command failed. `.sense` is the decoded sense (None for transport failures)."""

    def __init__(self, message: str, *, sense: Sense | None = None, **data: object) -> None:
        if sense is not None:
            data.setdefault("sense", sense.code)
        super().__init__(message, **data)
        self.sense = sense


class ScsiUnsupported(ScsiError):
    """The drive does not do this (invalid operation code, or invalid field in the CDB):
    callers fall back to what the st driver knows, and say once what they could not learn."""


def sense_to_error(sense: Sense, *, command: str | None = None, device: str | None = None) -> DeviceError:
    """The error of our hierarchy for a failed command's sense.

    NoMedium, WriteProtected, MediumError, EndOfMedium, EndOfData and
    GenerationError for the conditions they name; ScsiUnsupported for
    "not supported"; ScsiError otherwise. Every returned error carries
    `.sense` and the key/ASC/ASCQ in its data.
    """
    where = ": ".join(p for p in (device, command) if p)
    message = f"{where}: {sense.message}" if where else sense.message
    data: dict[str, object] = {k: v for k, v in (("command", command), ("device", device)) if v}
    entry = _lookup(sense)
    cls = entry[1] if entry else None
    if sense.is_unsupported:
        return ScsiUnsupported(message, sense=sense, **data)
    if cls is None:
        return ScsiError(message, sense=sense, **data)
    err = cls(message, sense=sense.code, **data)
    err.sense = sense  # type: ignore[attr-defined]
    return err
