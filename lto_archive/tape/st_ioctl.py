"""The Linux st driver's ioctls (linux/mtio.h), from Python: no compiled code.

`MTIOCTOP` runs one tape operation (struct mtop), `MTIOCGET` returns the
driver's status (struct mtget: block size and density in `mt_dsreg`, the
status flags in `mt_gstat`, file and block numbers the driver counts itself),
`MTIOCPOS` the drive's own block address (READ POSITION; fails on drives that
do not answer it). Structures are built with `struct` for the native ABI
(`long` is 8 bytes on 64-bit Linux, 4 on 32-bit: the `l` format follows it).
"""

from __future__ import annotations

import fcntl
import struct
from dataclasses import dataclass

# --- ioctl request numbers: _IOW('m', 1, mtop), _IOR('m', 2, mtget), _IOR('m', 3, mtpos) ---
_IOC_WRITE = 1
_IOC_READ = 2


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (ord("m") << 8) | nr


MTOP = struct.Struct("@hi")            # short mt_op; int mt_count
MTGET = struct.Struct("@lllllii")      # mt_type, mt_resid, mt_dsreg, mt_gstat, mt_erreg; daddr_t fileno, blkno
MTPOS = struct.Struct("@l")            # long mt_blkno

MTIOCTOP = _ioc(_IOC_WRITE, 1, MTOP.size)
MTIOCGET = _ioc(_IOC_READ, 2, MTGET.size)
MTIOCPOS = _ioc(_IOC_READ, 3, MTPOS.size)

# --- mt_op codes ---
MTRESET, MTFSF, MTBSF, MTFSR, MTBSR, MTWEOF, MTREW, MTOFFL, MTNOP = 0, 1, 2, 3, 4, 5, 6, 7, 8
MTEOM, MTERASE = 12, 13
MTSETBLK, MTSETDENSITY, MTSEEK, MTTELL, MTSETDRVBUFFER = 20, 21, 22, 23, 24
MTLOCK, MTUNLOCK, MTLOAD, MTUNLOAD, MTCOMPRESSION, MTSETPART, MTMKPART, MTWEOFI = 28, 29, 30, 31, 32, 33, 34, 35

OP_NAMES = {MTRESET: "MTRESET", MTFSF: "MTFSF", MTBSF: "MTBSF", MTFSR: "MTFSR", MTBSR: "MTBSR",
            MTWEOF: "MTWEOF", MTREW: "MTREW", MTOFFL: "MTOFFL", MTNOP: "MTNOP", MTEOM: "MTEOM",
            MTERASE: "MTERASE", MTSETBLK: "MTSETBLK", MTSEEK: "MTSEEK", MTLOCK: "MTLOCK",
            MTUNLOCK: "MTUNLOCK", MTLOAD: "MTLOAD", MTUNLOAD: "MTUNLOAD", MTSETPART: "MTSETPART",
            MTMKPART: "MTMKPART", MTWEOFI: "MTWEOFI"}

# --- mt_gstat flags ---
GMT_EOF = 0x80000000
GMT_BOT = 0x40000000
GMT_EOT = 0x20000000
GMT_SM = 0x10000000
GMT_EOD = 0x08000000
GMT_WR_PROT = 0x04000000
GMT_ONLINE = 0x01000000
GMT_DR_OPEN = 0x00040000
GMT_IM_REP_EN = 0x00010000
GMT_CLN = 0x00008000

# --- mt_dsreg fields ---
MT_ST_BLKSIZE_MASK = 0xFFFFFF
MT_ST_DENSITY_SHIFT = 24


@dataclass(frozen=True)
class DriveStatus:
    """MTIOCGET, decoded. `file_number`/`block_number` are -1 when the driver lost count."""

    drive_type: int
    partition: int          # the driver puts the current partition in mt_resid
    block_size: int         # 0: variable block mode
    density_code: int       # 0: the drive did not say
    gstat: int
    file_number: int
    block_number: int

    @property
    def bot(self) -> bool:
        return bool(self.gstat & GMT_BOT)

    @property
    def eot(self) -> bool:
        """Early warning (or past it): the driver's end-of-tape flag."""
        return bool(self.gstat & GMT_EOT)

    @property
    def eod(self) -> bool:
        return bool(self.gstat & GMT_EOD)

    @property
    def eof(self) -> bool:
        return bool(self.gstat & GMT_EOF)

    @property
    def write_protected(self) -> bool:
        return bool(self.gstat & GMT_WR_PROT)

    @property
    def online(self) -> bool:
        """A cartridge is loaded and ready."""
        return bool(self.gstat & GMT_ONLINE)

    @property
    def door_open(self) -> bool:
        return bool(self.gstat & GMT_DR_OPEN)

    @property
    def cleaning(self) -> bool:
        return bool(self.gstat & GMT_CLN)


def mt_op(fd: int, op: int, count: int = 1) -> None:
    """One MTIOCTOP; raises OSError with the driver's errno."""
    fcntl.ioctl(fd, MTIOCTOP, MTOP.pack(op, count))


def mt_status(fd: int) -> DriveStatus:
    raw = fcntl.ioctl(fd, MTIOCGET, bytes(MTGET.size))
    mt_type, resid, dsreg, gstat, _erreg, fileno, blkno = MTGET.unpack(raw)
    dsreg &= 0xFFFFFFFF
    return DriveStatus(drive_type=mt_type, partition=resid, block_size=dsreg & MT_ST_BLKSIZE_MASK,
                       density_code=(dsreg >> MT_ST_DENSITY_SHIFT) & 0xFF, gstat=gstat & 0xFFFFFFFF,
                       file_number=fileno, block_number=blkno)


def mt_pos(fd: int) -> int:
    """The drive's logical block address (READ POSITION through the driver)."""
    raw = fcntl.ioctl(fd, MTIOCPOS, bytes(MTPOS.size))
    return MTPOS.unpack(raw)[0]
