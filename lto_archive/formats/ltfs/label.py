"""The two LTFS volume labels at the start of each partition: VOL1 and the XML label.

Block 0 of each partition is an 80-byte ANSI VOL1 record, block 2 the LTFS
label XML (at most 4096 bytes); see docs ltfs-format.md. We write both byte
for byte as the LTFS reference implementation does, and read what it reads:
it checks only the "LTFS" identifier and the serial of a VOL1; its XML label
parser takes the elements in any order, ignores unknown ones, and accepts
versions 1.0 and 1.0.0 - 2.99.99.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from xml.sax.saxutils import escape

from construct import Bytes, Padding, Struct

from ...errors import CorruptArchive, UsageError
from .times import TIME_MAX_NS, TIME_MIN_NS, format_time, parse_time

VOL1_SIZE = 80
LABEL_MAX_SIZE = 4096            # the reference reads at most this much of block 2
MIN_BLOCKSIZE = 4096             # smallest block size the reference formats with
MAX_BLOCKSIZE = 2**31            # the reference keeps it in 32 bits; a label above is damage
LABEL_VERSION = "2.4.0"

# ANSI X3.27 volume header as LTFS fills it: every field not named here is spaces.
VOL1 = Struct(
    "label_identifier" / Bytes(4),          # b"VOL1"
    "volume_serial" / Bytes(6),             # 0-9/A-Z, or six spaces
    "accessibility" / Bytes(1),             # b"L": LTFS
    Padding(13, pattern=b" "),
    "implementation_identifier" / Bytes(4), # b"LTFS"
    Padding(51, pattern=b" "),
    "label_standard_version" / Bytes(1),    # b"4"
)
assert VOL1.sizeof() == VOL1_SIZE

_SERIAL = re.compile(r"[0-9A-Z]{6}", re.ASCII)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
_VERSION = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})\.([0-9]{1,9})", re.ASCII)
_NOT_XML_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")


# --- partitions ----------------------------------------------------------------

def partition_letter(n: int) -> str:
    """LTFS letter of a SCSI partition number: 0 -> 'a' (index), 1 -> 'b' (data)."""
    if n == 0:
        return "a"
    if n == 1:
        return "b"
    raise ValueError(f"partition {n!r}: an LTFS tape has partitions 0 and 1 only")


def partition_number(letter: str) -> int:
    """SCSI partition number of an LTFS letter: 'a' -> 0, 'b' -> 1."""
    if letter == "a":
        return 0
    if letter == "b":
        return 1
    raise ValueError(f"partition {letter!r}: lto-archive uses LTFS partitions 'a' and 'b' only")


# --- VOL1 ----------------------------------------------------------------------

def build_vol1(serial: str | None) -> bytes:
    """The 80-byte VOL1 record for volume serial `serial` (None: no serial, six spaces)."""
    if serial is None:
        raw = b" " * 6
    elif isinstance(serial, str) and _SERIAL.fullmatch(serial):
        raw = serial.encode("ascii")
    else:
        raise UsageError(
            f"volume serial {serial!r} cannot be used: it must be exactly 6 characters, "
            "digits 0-9 and capital letters A-Z (usually the cartridge barcode without "
            "its 'L5'/'L9' media suffix)", value=serial)
    return VOL1.build(dict(label_identifier=b"VOL1", volume_serial=raw, accessibility=b"L",
                           implementation_identifier=b"LTFS", label_standard_version=b"4"))


def parse_vol1(record: bytes) -> str | None:
    """The volume serial in an LTFS VOL1 record, or None when it is blank.

    CorruptArchive when the record is not an LTFS VOL1 (another format, or
    damaged). Like the reference we do not insist on the filler bytes.
    """
    if len(record) != VOL1_SIZE:
        raise CorruptArchive(
            f"the first record of the partition is {len(record)} bytes, not the 80-byte VOL1 "
            "label an LTFS tape starts with: this is not an LTFS tape, or it is damaged",
            size=len(record))
    fields = VOL1.parse(bytes(record))
    if fields.label_identifier != b"VOL1" or fields.implementation_identifier != b"LTFS":
        raise CorruptArchive(
            "the first record of the partition is not an LTFS VOL1 label "
            f"(it starts {bytes(record[:4])!r} and has {bytes(record[24:28])!r} where LTFS "
            "writes b'LTFS'): this is not an LTFS tape, or it is damaged")
    raw = fields.volume_serial
    if raw == b" " * 6:
        return None
    serial = raw.decode("ascii", "replace")
    if not _SERIAL.fullmatch(serial):
        raise CorruptArchive(
            f"the VOL1 label holds the volume serial {serial!r}, which is not 6 characters "
            "0-9/A-Z: the label is damaged or was written by a tool that breaks the format",
            serial=serial)
    return serial


# --- the XML label -------------------------------------------------------------

def _version_number(version: str) -> int | None:
    """The reference's number for a version string (10000x + 100y + z), None if malformed."""
    if version == "1.0":
        return 10000
    m = _VERSION.fullmatch(version)
    if m is None:
        return None
    x, y, z = (int(g) for g in m.groups())
    return 10000 * x + 100 * y + z


def _version_supported(version: str) -> bool:
    number = _version_number(version)
    return number is not None and 10000 <= number <= 29999


def _check_letter(what: str, value: object) -> None:
    if not (isinstance(value, str) and len(value) == 1 and "a" <= value <= "z"):
        raise ValueError(f"{what} {value!r} is not a partition letter a-z")


def _bad_label(problem: str, **info: object) -> CorruptArchive:
    return CorruptArchive(f"the LTFS label of this tape cannot be read: {problem}", **info)


def _label_root(data: bytes) -> tuple[ET.Element, str]:
    """The label's XML root and its version, checked before any field is read (size, no DTD, UTF-8)."""
    bad = _bad_label
    if len(data) > LABEL_MAX_SIZE:
        raise bad(f"it is {len(data)} bytes long; an LTFS label is at most {LABEL_MAX_SIZE}",
                  size=len(data))
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise bad("it holds a DTD or entity declaration, which LTFS labels never have "
                  "(refused so that a crafted label cannot attack the reader)")
    m = _ENCODING.match(data)
    if m is not None and m.group(1).lower() != b"utf-8":
        raise bad(f"it declares the character encoding {m.group(1).decode('ascii', 'replace')!r}; "
                  "LTFS labels are UTF-8")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad("it is not valid UTF-8 text") from None
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise bad(f"it is not well-formed XML ({e})") from None
    if root.tag != "ltfslabel":
        raise bad(f"its top element is <{root.tag}>, not <ltfslabel>")
    version = root.get("version")
    if version is None:
        raise bad("<ltfslabel> has no version attribute")
    if not _version_supported(version):
        raise bad(f"it is LTFS label version {version!r}, which lto-archive does not read "
                  "(it reads 1.0 and 1.0.0 to 2.99.99, as the LTFS reference does)",
                  version=version)
    return root, version


@dataclass(frozen=True)
class Label:
    """The LTFS label of one partition; both partitions' labels differ only in `partition`."""

    creator: str
    format_time_ns: int
    volume_uuid: str                 # lowercase, 8-4-4-4-12 hex digits
    partition: str                   # 'a' or 'b': the partition this label is on
    index_partition: str = "a"
    data_partition: str = "b"
    blocksize: int = 524288
    compression: bool = True
    version: str = LABEL_VERSION

    def __post_init__(self) -> None:
        # ValueError: a Label our code builds wrongly is a bug; from_xml turns it into CorruptArchive.
        if not isinstance(self.creator, str) or _NOT_XML_TEXT.search(self.creator):
            raise ValueError(f"creator {self.creator!r} holds characters an XML label cannot")
        if not (isinstance(self.format_time_ns, int) and TIME_MIN_NS <= self.format_time_ns <= TIME_MAX_NS):
            raise ValueError(f"format time {self.format_time_ns!r} is outside years 0000-9999")
        if not (isinstance(self.volume_uuid, str) and _UUID.fullmatch(self.volume_uuid)):
            raise ValueError(f"volume UUID {self.volume_uuid!r} is not a lowercase UUID")
        _check_letter("partition", self.partition)
        _check_letter("index partition", self.index_partition)
        _check_letter("data partition", self.data_partition)
        if self.index_partition == self.data_partition:
            raise ValueError(f"index and data partition are both {self.index_partition!r}")
        if self.partition not in (self.index_partition, self.data_partition):
            raise ValueError(f"label partition {self.partition!r} is neither the index nor the data partition")
        if not (isinstance(self.blocksize, int) and not isinstance(self.blocksize, bool) and self.blocksize > 0):
            raise ValueError(f"block size {self.blocksize!r} is not a positive number")
        if not isinstance(self.compression, bool):
            raise ValueError(f"compression {self.compression!r} is not true or false")
        if not (isinstance(self.version, str) and _version_supported(self.version)):
            raise ValueError(f"label version {self.version!r} is not one LTFS readers accept (1.0 - 2.99.99)")

    def with_partition(self, partition: str) -> "Label":
        """This label as written on `partition` (the only field the two labels differ in)."""
        return replace(self, partition=partition)

    def to_xml(self) -> bytes:
        """The label record, byte for byte in the reference's layout (indent, order, final newline)."""
        if self.blocksize < MIN_BLOCKSIZE:
            raise ValueError(f"block size {self.blocksize} is below the LTFS minimum of {MIN_BLOCKSIZE}")
        creator = escape(self.creator).replace("\r", "&#13;")
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ltfslabel version="{self.version}">\n'
            f"    <creator>{creator}</creator>\n"
            f"    <formattime>{format_time(self.format_time_ns)}</formattime>\n"
            f"    <volumeuuid>{self.volume_uuid}</volumeuuid>\n"
            "    <location>\n"
            f"        <partition>{self.partition}</partition>\n"
            "    </location>\n"
            "    <partitions>\n"
            f"        <index>{self.index_partition}</index>\n"
            f"        <data>{self.data_partition}</data>\n"
            "    </partitions>\n"
            f"    <blocksize>{self.blocksize}</blocksize>\n"
            f"    <compression>{'true' if self.compression else 'false'}</compression>\n"
            "</ltfslabel>\n"
        )
        data = text.encode("utf-8")
        if len(data) > LABEL_MAX_SIZE:
            raise ValueError(f"the label would be {len(data)} bytes; LTFS allows {LABEL_MAX_SIZE} "
                             "(the creator text is too long)")
        return data

    @classmethod
    def from_xml(cls, data: bytes) -> "Label":
        """Read a label record; CorruptArchive saying what is wrong when it is not a usable one."""
        bad = _bad_label
        root, version = _label_root(bytes(data))

        def text_of(parent: ET.Element, path: str, strip: bool = True) -> str:
            found = parent.findall(path)
            if not found:
                raise bad(f"the required element <{path}> is missing", element=path)
            if len(found) > 1:
                raise bad(f"the element <{path}> appears {len(found)} times", element=path)
            if len(found[0]):
                raise bad(f"the element <{path}> holds other elements instead of a value", element=path)
            value = found[0].text or ""
            return value.strip() if strip else value

        creator = text_of(root, "creator", strip=False)
        formattime = text_of(root, "formattime")
        uuid = text_of(root, "volumeuuid")
        for path in ("location", "partitions"):
            if len(root.findall(path)) > 1:
                raise bad(f"the element <{path}> appears more than once", element=path)
        partition = text_of(root, "location/partition")
        index_partition = text_of(root, "partitions/index")
        data_partition = text_of(root, "partitions/data")
        blocksize = text_of(root, "blocksize")
        compression = text_of(root, "compression")

        try:
            format_time_ns = parse_time(formattime)
        except ValueError as e:
            raise bad(f"<formattime>: {e}", element="formattime") from None
        if not _UUID.fullmatch(uuid.lower()):
            raise bad(f"<volumeuuid> {uuid!r} is not a UUID", element="volumeuuid")
        if not (blocksize.isascii() and blocksize.isdigit() and len(blocksize) <= 12 and int(blocksize) > 0):
            raise bad(f"<blocksize> {blocksize[:40]!r} is not a positive whole number", element="blocksize")
        if int(blocksize) > MAX_BLOCKSIZE:  # never trust an unchecked size read from a tape
            raise bad(f"<blocksize> {blocksize} is larger than LTFS allows ({MAX_BLOCKSIZE} bytes)",
                      element="blocksize")
        if compression in ("true", "1"):
            compress = True
        elif compression in ("false", "0"):
            compress = False
        else:
            raise bad(f"<compression> {compression!r} is not true or false", element="compression")
        try:
            return cls(creator=creator, format_time_ns=format_time_ns, volume_uuid=uuid.lower(),
                       partition=partition, index_partition=index_partition,
                       data_partition=data_partition, blocksize=int(blocksize),
                       compression=compress, version=version)
        except ValueError as e:
            raise bad(str(e)) from None
