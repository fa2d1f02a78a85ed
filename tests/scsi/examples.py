"""Example answers, byte for byte.

TGT_*: what the tapevm drive (Debian tgt 1.0.85, identifying as IBM ULT3580-TD9)
answered to sg_raw on 2026-11-23 (see docs/scsi.md). The others are hand-built
from the SPC-4 / SSC-4 layouts, each field written out so a layout mistake in
the parsers shows.
"""

H = bytes.fromhex

# INQUIRY, 36 bytes: tape (0x01), removable, SPC-3, "IBM", "ULT3580-TD9", "Q3F0"
TGT_INQUIRY = H("01 80 05 12 3d 00 00 02"
                "49 42 4d 20 20 20 20 20"
                "55 4c 54 33 35 38 30 2d 54 44 39 20 20 20 20 20"
                "51 33 46 30")
# INQUIRY VPD 0x80 (unit serial number), page length 0x24, serial right-aligned in spaces
TGT_UNIT_SERIAL = H("01 80 00 24") + b" " * 30 + b"beaf11" + bytes(24)
# READ POSITION long form: a stub, byte 0 = 0x20 (a reserved bit) then zeros
TGT_READ_POSITION_LONG = H("20") + bytes(31)
# READ BLOCK LIMITS: granularity 9, max 0x100000 (1 MiB), min 4
TGT_BLOCK_LIMITS = H("09 10 00 00 00 04")
# MODE SENSE(6) page 0, allocation 12: length 0x0d, medium type 0, buffered mode 1, 8-byte descriptor, density 0
TGT_MODE_SENSE6 = H("0d 00 10 08 00 00 00 00 00 00 00 00")
# MODE SENSE(10) page 0, allocation 16
TGT_MODE_SENSE10 = H("00 10 00 10 00 00 00 08 00 00 00 00 00 00 00 00")
# Fixed sense tgt sends for every command it does not implement: ILLEGAL REQUEST 20/00
TGT_INVALID_OPCODE_SENSE = H("70 00 05 00 00 00 00 0a 00 00 00 00 20 00 00 00 00 00")

# READ POSITION long form on a real drive: partition 1, block 0x1234, 3 filemarks, BPEW set
LONG_POSITION_P1 = H("01 00 00 00"               # BPEW (bit 0); bytes 1-3 reserved
                     "00 00 00 01"               # partition 1
                     "00 00 00 00 00 00 12 34"   # logical object number
                     "00 00 00 00 00 00 00 03"   # logical file identifier
                     "00 00 00 00 00 00 00 00")  # set number (obsolete)
LONG_POSITION_BOP = H("80 00 00 00" "00 00 00 00") + bytes(24)      # BOP, partition 0, block 0
LONG_POSITION_LONU = H("04 00 00 00") + bytes(28)                   # LONU: position unknown
LONG_POSITION_EOP_MPU = H("48 00 00 00" "00 00 00 00" "00 00 00 00 00 01 00 00") + bytes(16)

# MODE SENSE(6) on a loaded LTO-9 cartridge, write-protected: medium type 0x00, WP + buffered mode 1,
# block descriptor: density 0x60, 0 blocks, block length 0 (variable)
LTO9_MODE_SENSE6_WP = H("0b 00 90 08" "60 00 00 00 00 00 00 00")
# same in fixed-block mode, 256 KiB records, not protected, LTO-8 medium
LTO8_MODE_SENSE6_FIXED = H("0b 00 10 08" "5e 00 00 00 00 04 00 00")

# REPORT DENSITY SUPPORT: one LTO-9 descriptor (52 bytes); header length = 52 + 2
LTO9_DENSITY_DESCRIPTOR = H("60 60 a0 00 00"          # primary, secondary, WRTOK|DEFLT, length 0
                            "00 52 08"                # 21000 bits per mm
                            "00 7f"                   # 12.7 mm
                            "23 00"                   # 8960 tracks
                            "01 12 a8 80") + (        # 18 000 000 MB
                            b"LTO-CVE " + b"U-832   " + b"Ultrium 9/16T".ljust(20))
LTO8_DENSITY_DESCRIPTOR = H("5e 5e 80 00 00" "00 4e 20" "00 7f" "1a 00" "00 b7 1b 00") + (
                            b"LTO-CVE " + b"U-732   " + b"Ultrium 8/12T".ljust(20))
DENSITY_SUPPORT_TWO = H("00 6a 00 00") + LTO8_DENSITY_DESCRIPTOR + LTO9_DENSITY_DESCRIPTOR

# READ ATTRIBUTE, first attribute 0x0806 (barcode): available 37 bytes, id 0806, ASCII, 32 bytes
BARCODE_ATTRIBUTE = H("00 00 00 25" "08 06 01 00 20") + b"LTA001L9".ljust(32)

# MODE SENSE(10) page 0x11 on an LTO drive with a single-partition cartridge: header (8), block
# descriptor (density 0x60), page 11h length 0x0a: max additional 1, defined 0, PSUM 11b POFM,
# MFR 3, units 9, sizes FFFF 0000
LTO_PARTITION_PAGE_SENSE = H("00 1a 00 10 00 00 00 08"
                             "60 00 00 00 00 00 00 00"
                             "11 0a 01 00 1c 03 09 00 ff ff 00 00")
# What partition(2) must send with MODE SELECT(10): mode data length 0, same medium type, buffered
# mode kept, descriptor kept; page: PS clear, 1 additional partition, IDP + PSUM 11b + POFM kept,
# units 9, partition 0 = 1 GB (the drive rounds up to its minimum), partition 1 = the rest
LTO_PARTITION_PAGE_SELECT_2 = H("00 00 00 10 00 00 00 08"
                                "60 00 00 00 00 00 00 00"
                                "11 0a 01 01 3c 03 09 00 00 01 ff ff")

# READ ELEMENT STATUS of the data transfer elements (b8 14 0000 ffff 01 001000 00 00: VOLTAG, DVCID), tapevm's
# changer (tgt 1.0.85 smc) with two drives, drive 1 (element 3) holding LTA001L9 from slot 1000. Each drive
# is named by a T10 vendor identifier "IBM     ULT3580-TD9     " + its VPD 0x80 serial, padded to 34 bytes.
# tgt sends 8 bytes fewer than it announces (180 of 188): the last drive's identifier ends after "be".
TGT_ELEMENT_STATUS_VOLTAG_DVCID = H(
    "0002 0002 00 0000b4"                       # first element 2, 2 elements, 180 bytes of pages
    "04 80 0056 00 0000ac"                      # data transfer page, PVOLTAG, 86-byte descriptors, 172 bytes
    "0002 00 00 00 00 00 00 00 00 0000"         # element 2: empty
    + "20" * 32 + "0000 0000"                   # primary volume tag: blank
    + "02 01 00 22" + (b"IBM     ULT3580-TD9     beaf11" + bytes(4)).hex()
    + "0003 01 00 00 00 00 00 00 80 03e8"       # element 3: full, SVALID, from element 1000
    + (b"LTA001L9".ljust(32)).hex() + "0000 0000"
    + "02 01 00 22" + b"IBM     ULT3580-TD9     be".hex())
# the same without VOLTAG, drives empty (b8 04 ... 03: CURDATA, DVCID): 50-byte descriptors, cut the same way
TGT_ELEMENT_STATUS_DVCID = H(
    "0002 0002 00 00006c" "04 00 0032 00 000064"
    "0002 00 00 00 00 00 00 00 00 0000" "02 01 00 22" + (b"IBM     ULT3580-TD9     beaf11" + bytes(4)).hex()
    + "0003 00 00 00 00 00 00 00 00 0000" "02 01 00 22" + b"IBM     ULT3580-TD9     be".hex())
# What arrives through SG_IO under tapevm: the VM's SCSI path reports no residue, so the 8 bytes tgt did not
# send read as zeros and the answer looks whole: drive 1's identifier is "IBM     ULT3580-TD9     be" + NULs.
TGT_ELEMENT_STATUS_DVCID_AS_READ = TGT_ELEMENT_STATUS_DVCID + bytes(8)
TGT_ELEMENT_STATUS_VOLTAG_DVCID_AS_READ = TGT_ELEMENT_STATUS_VOLTAG_DVCID + bytes(8)
# without DVCID (b8 04 ... 00): 16-byte descriptors, 40 of 48 bytes sent: element 3 ends after 8 bytes
TGT_ELEMENT_STATUS_PLAIN = H("0002 0002 00 000028" "04 00 0010 00 000020"
                             "0002 00 00 00 00 00 00 00 00 0000 00000000"
                             "0003 00 00 00 00 00 00")


def element_status(page_type: int, descriptors: list[bytes], *, pvoltag: bool = False, avoltag: bool = False,
                   size: int | None = None) -> bytes:
    """An element status answer with one page, built field by field (SMC-3 6.10)."""
    size = size or max(len(d) for d in descriptors)
    body = b"".join(d.ljust(size, b"\x00") for d in descriptors)
    page = bytes([page_type, (0x80 if pvoltag else 0) | (0x40 if avoltag else 0)]) + size.to_bytes(2, "big") \
        + b"\x00" + len(body).to_bytes(3, "big") + body
    return (2).to_bytes(2, "big") + len(descriptors).to_bytes(2, "big") + b"\x00" + len(page).to_bytes(3, "big") + page


def drive_element(address: int, *, full: bool = False, source: int | None = None, primary: str | None = None,
                  alternate: str | None = None, identifier: bytes = b"", code_set: int = 2, id_type: int = 1,
                  tags: tuple[bool, bool] = (False, False)) -> bytes:
    """A data transfer element descriptor: 12 fixed bytes, the tags the page announces, the identifier."""
    head = address.to_bytes(2, "big") + bytes([0x01 if full else 0x00, 0, 0, 0, 0, 0, 0,
                                              0x80 if source is not None else 0]) + (source or 0).to_bytes(2, "big")
    out = head
    if tags[0]:
        out += (primary or "").encode().ljust(32) + bytes(4)
    if tags[1]:
        out += (alternate or "").encode().ljust(32) + bytes(4)
    return out + bytes([code_set, id_type, 0, len(identifier)]) + identifier
