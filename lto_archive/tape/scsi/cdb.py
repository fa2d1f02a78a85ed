"""Command descriptor blocks (CDBs) for the commands the st driver does not expose.

Each CDB is a `construct` Struct, so the same definition builds the bytes we
send and parses them back in tests. Field layouts from SPC-4 (INQUIRY, MODE
SENSE/SELECT, READ/WRITE ATTRIBUTE), SSC-4 (READ POSITION, LOCATE(16),
READ BLOCK LIMITS, REPORT DENSITY SUPPORT, FORMAT MEDIUM, REWIND) and SMC-3
(READ ELEMENT STATUS, sent to a medium changer); the control byte is always 0.
"""

from __future__ import annotations

from construct import (BitStruct, BitsInteger, Const, Flag, Int8ub, Int16ub, Int24ub, Int32ub, Int64ub, Padding,
                       Struct)

# --- operation codes ------------------------------------------------------
TEST_UNIT_READY = 0x00
REWIND = 0x01
FORMAT_MEDIUM = 0x04
READ_BLOCK_LIMITS = 0x05
INQUIRY = 0x12
MODE_SELECT_6 = 0x15
MODE_SENSE_6 = 0x1A
READ_POSITION = 0x34
REPORT_DENSITY_SUPPORT = 0x44
MODE_SELECT_10 = 0x55
MODE_SENSE_10 = 0x5A
READ_ATTRIBUTE = 0x8C
WRITE_ATTRIBUTE = 0x8D
LOCATE_16 = 0x92
READ_ELEMENT_STATUS = 0xB8

NAMES = {
    TEST_UNIT_READY: "TEST UNIT READY", REWIND: "REWIND", FORMAT_MEDIUM: "FORMAT MEDIUM",
    READ_BLOCK_LIMITS: "READ BLOCK LIMITS", INQUIRY: "INQUIRY", MODE_SELECT_6: "MODE SELECT(6)",
    MODE_SENSE_6: "MODE SENSE(6)", READ_POSITION: "READ POSITION",
    REPORT_DENSITY_SUPPORT: "REPORT DENSITY SUPPORT", MODE_SELECT_10: "MODE SELECT(10)",
    MODE_SENSE_10: "MODE SENSE(10)", READ_ATTRIBUTE: "READ ATTRIBUTE", WRITE_ATTRIBUTE: "WRITE ATTRIBUTE",
    LOCATE_16: "LOCATE(16)", READ_ELEMENT_STATUS: "READ ELEMENT STATUS",
}

# Commands that move or rewrite the tape take far longer than the default.
# Figures after the LTFS reference's LTO-9 timeout table (ibm_tape.c):
# LOCATE 2940 s, FORMAT MEDIUM 3000-3180 s, REWIND 600 s; rounded up.
LONG_TIMEOUTS_S = {LOCATE_16: 3000.0, FORMAT_MEDIUM: 3600.0, REWIND: 600.0}

# READ POSITION service actions (SSC-4 table "READ POSITION service action codes")
SHORT_FORM_BLOCK_ID = 0x00
LONG_FORM = 0x06
EXTENDED_FORM = 0x08

# READ ATTRIBUTE service actions (SPC-4)
ATTRIBUTE_VALUES = 0x00
ATTRIBUTE_LIST = 0x01

# MODE SENSE page control
PC_CURRENT = 0
PC_CHANGEABLE = 1
PC_DEFAULT = 2
PC_SAVED = 3

# FORMAT MEDIUM format field (SSC-4): 0 default, 1 partition, 2 default then partition
FORMAT_DEFAULT = 0x0
FORMAT_PARTITION = 0x1
FORMAT_DEFAULT_THEN_PARTITION = 0x2

# READ ELEMENT STATUS element type codes (SMC-3)
ELEMENT_ALL = 0
ELEMENT_MEDIUM_TRANSPORT = 1
ELEMENT_STORAGE = 2
ELEMENT_IMPORT_EXPORT = 3
ELEMENT_DATA_TRANSFER = 4

TestUnitReadyCdb = Struct("opcode" / Const(TEST_UNIT_READY, Int8ub), Padding(4), "control" / Const(0, Int8ub))

RewindCdb = Struct(
    "opcode" / Const(REWIND, Int8ub),
    "flags" / BitStruct(Padding(7), "immed" / Flag),
    Padding(3),
    "control" / Const(0, Int8ub),
)

InquiryCdb = Struct(
    "opcode" / Const(INQUIRY, Int8ub),
    "flags" / BitStruct(Padding(7), "evpd" / Flag),
    "page_code" / Int8ub,
    "allocation_length" / Int16ub,
    "control" / Const(0, Int8ub),
)

ReadBlockLimitsCdb = Struct(
    "opcode" / Const(READ_BLOCK_LIMITS, Int8ub),
    "flags" / BitStruct(Padding(7), "mloi" / Flag),
    Padding(3),
    "control" / Const(0, Int8ub),
)

ReadPositionCdb = Struct(
    "opcode" / Const(READ_POSITION, Int8ub),
    "flags" / BitStruct(Padding(3), "service_action" / BitsInteger(5)),
    Padding(5),
    "allocation_length" / Int16ub,   # SSC-4: zero for the short and long forms
    "control" / Const(0, Int8ub),
)

Locate16Cdb = Struct(
    "opcode" / Const(LOCATE_16, Int8ub),
    "flags" / BitStruct(Padding(2), "dest_type" / BitsInteger(3), Padding(1), "cp" / Flag, "immed" / Flag),
    "flags2" / BitStruct(Padding(7), "bam" / Flag),
    "partition" / Int8ub,
    "logical_identifier" / Int64ub,
    Padding(3),
    "control" / Const(0, Int8ub),
)

ModeSense6Cdb = Struct(
    "opcode" / Const(MODE_SENSE_6, Int8ub),
    "flags" / BitStruct(Padding(4), "dbd" / Flag, Padding(3)),
    "page" / BitStruct("pc" / BitsInteger(2), "page_code" / BitsInteger(6)),
    "subpage_code" / Int8ub,
    "allocation_length" / Int8ub,
    "control" / Const(0, Int8ub),
)

ModeSense10Cdb = Struct(
    "opcode" / Const(MODE_SENSE_10, Int8ub),
    "flags" / BitStruct(Padding(3), "llbaa" / Flag, "dbd" / Flag, Padding(3)),
    "page" / BitStruct("pc" / BitsInteger(2), "page_code" / BitsInteger(6)),
    "subpage_code" / Int8ub,
    Padding(3),
    "allocation_length" / Int16ub,
    "control" / Const(0, Int8ub),
)

ModeSelect6Cdb = Struct(
    "opcode" / Const(MODE_SELECT_6, Int8ub),
    "flags" / BitStruct(Padding(3), "pf" / Flag, Padding(3), "sp" / Flag),
    Padding(2),
    "parameter_list_length" / Int8ub,
    "control" / Const(0, Int8ub),
)

ModeSelect10Cdb = Struct(
    "opcode" / Const(MODE_SELECT_10, Int8ub),
    "flags" / BitStruct(Padding(3), "pf" / Flag, Padding(3), "sp" / Flag),
    Padding(5),
    "parameter_list_length" / Int16ub,
    "control" / Const(0, Int8ub),
)

FormatMediumCdb = Struct(
    "opcode" / Const(FORMAT_MEDIUM, Int8ub),
    "flags" / BitStruct(Padding(6), "verify" / Flag, "immed" / Flag),
    "format" / BitStruct(Padding(4), "format" / BitsInteger(4)),
    "transfer_length" / Int16ub,
    "control" / Const(0, Int8ub),
)

ReportDensitySupportCdb = Struct(
    "opcode" / Const(REPORT_DENSITY_SUPPORT, Int8ub),
    "flags" / BitStruct(Padding(6), "medium_type" / Flag, "media" / Flag),
    Padding(5),
    "allocation_length" / Int16ub,
    "control" / Const(0, Int8ub),
)

ReadElementStatusCdb = Struct(
    "opcode" / Const(READ_ELEMENT_STATUS, Int8ub),
    "flags" / BitStruct(Padding(3), "voltag" / Flag, "element_type" / BitsInteger(4)),
    "starting_address" / Int16ub,
    "number_of_elements" / Int16ub,
    "flags2" / BitStruct(Padding(6), "curdata" / Flag, "dvcid" / Flag),
    "allocation_length" / Int24ub,
    Padding(1),
    "control" / Const(0, Int8ub),
)

ReadAttributeCdb = Struct(
    "opcode" / Const(READ_ATTRIBUTE, Int8ub),
    "flags" / BitStruct(Padding(3), "service_action" / BitsInteger(5)),
    Padding(3),                      # restricted (element address, medium changers)
    "logical_volume" / Int8ub,
    Padding(1),
    "partition" / Int8ub,
    "first_attribute" / Int16ub,
    "allocation_length" / Int32ub,
    "flags2" / BitStruct(Padding(7), "cache" / Flag),
    "control" / Const(0, Int8ub),
)

WriteAttributeCdb = Struct(
    "opcode" / Const(WRITE_ATTRIBUTE, Int8ub),
    "flags" / BitStruct(Padding(7), "wtc" / Flag),
    Padding(3),
    "logical_volume" / Int8ub,
    Padding(1),
    "partition" / Int8ub,
    Padding(2),
    "parameter_list_length" / Int32ub,
    Padding(1),
    "control" / Const(0, Int8ub),
)


# --- builders: the bytes each ScsiDevice method sends ----------------------

def test_unit_ready() -> bytes:
    return TestUnitReadyCdb.build({})


def rewind(immed: bool = False) -> bytes:
    return RewindCdb.build({"flags": {"immed": immed}})


def inquiry(allocation_length: int = 96, page: int | None = None) -> bytes:
    """Standard INQUIRY data, or the VPD page `page` (0x80 = unit serial number)."""
    return InquiryCdb.build({"flags": {"evpd": page is not None}, "page_code": page or 0,
                             "allocation_length": allocation_length})


def read_block_limits() -> bytes:
    return ReadBlockLimitsCdb.build({"flags": {"mloi": False}})


def read_position(service_action: int = LONG_FORM) -> bytes:
    return ReadPositionCdb.build({"flags": {"service_action": service_action}, "allocation_length": 0})


def locate16(partition: int, block: int, *, change_partition: bool = True, immed: bool = False) -> bytes:
    """LOCATE(16) to logical object `block` (DEST_TYPE 0: logical object identifier)."""
    return Locate16Cdb.build({"flags": {"dest_type": 0, "cp": change_partition, "immed": immed},
                              "flags2": {"bam": False}, "partition": partition,
                              "logical_identifier": block})


def mode_sense6(page_code: int, *, allocation_length: int = 255, pc: int = PC_CURRENT, subpage: int = 0,
                dbd: bool = False) -> bytes:
    return ModeSense6Cdb.build({"flags": {"dbd": dbd}, "page": {"pc": pc, "page_code": page_code},
                                "subpage_code": subpage, "allocation_length": allocation_length})


def mode_sense10(page_code: int, *, allocation_length: int = 1024, pc: int = PC_CURRENT, subpage: int = 0,
                 dbd: bool = False) -> bytes:
    return ModeSense10Cdb.build({"flags": {"llbaa": False, "dbd": dbd},
                                 "page": {"pc": pc, "page_code": page_code},
                                 "subpage_code": subpage, "allocation_length": allocation_length})


def mode_select6(parameter_list_length: int) -> bytes:
    return ModeSelect6Cdb.build({"flags": {"pf": True, "sp": False},
                                 "parameter_list_length": parameter_list_length})


def mode_select10(parameter_list_length: int) -> bytes:
    """MODE SELECT(10) with PF set (the pages follow SPC's page format), SP clear (not saved)."""
    return ModeSelect10Cdb.build({"flags": {"pf": True, "sp": False},
                                  "parameter_list_length": parameter_list_length})


def format_medium(fmt: int = FORMAT_PARTITION, *, immed: bool = False) -> bytes:
    return FormatMediumCdb.build({"flags": {"verify": False, "immed": immed}, "format": {"format": fmt},
                                  "transfer_length": 0})


def report_density_support(*, media: bool, allocation_length: int = 8192) -> bytes:
    """Densities of the loaded medium (`media`) or of every medium the drive knows."""
    return ReportDensitySupportCdb.build({"flags": {"medium_type": False, "media": media},
                                          "allocation_length": allocation_length})


def read_attribute(partition: int, first_attribute: int, *, allocation_length: int = 1024,
                   service_action: int = ATTRIBUTE_VALUES) -> bytes:
    return ReadAttributeCdb.build({"flags": {"service_action": service_action}, "logical_volume": 0,
                                   "partition": partition, "first_attribute": first_attribute,
                                   "allocation_length": allocation_length, "flags2": {"cache": False}})


def write_attribute(partition: int, parameter_list_length: int, *, write_through: bool = True) -> bytes:
    return WriteAttributeCdb.build({"flags": {"wtc": write_through}, "logical_volume": 0,
                                    "partition": partition, "parameter_list_length": parameter_list_length})


def read_element_status(element_type: int = ELEMENT_DATA_TRANSFER, *, starting_address: int = 0,
                        number_of_elements: int = 0xFFFF, allocation_length: int = 4096, voltag: bool = False,
                        dvcid: bool = True, curdata: bool = True) -> bytes:
    """READ ELEMENT STATUS for a medium changer: with DVCID each data transfer element also names its
    drive (device identifier); CURDATA asks for what the changer knows without moving the robot."""
    return ReadElementStatusCdb.build({"flags": {"voltag": voltag, "element_type": element_type},
                                       "starting_address": starting_address,
                                       "number_of_elements": number_of_elements,
                                       "flags2": {"curdata": curdata, "dvcid": dvcid},
                                       "allocation_length": allocation_length})
