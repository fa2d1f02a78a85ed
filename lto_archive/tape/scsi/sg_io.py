"""The SG_IO transport: one SCSI command through the Linux SG_IO ioctl, pure Python.

SG_IO works on the st driver's own nodes (/dev/nstN) as well as on the sg node
of the same drive (/dev/sgN); on st nodes the kernel lets commands that are
not plain reads through only for CAP_SYS_RAWIO (root). Commands sent this way
bypass the st driver's bookkeeping: a command that moves the tape (LOCATE,
REWIND, FORMAT MEDIUM) leaves st's file/block counters stale.

The structure is `struct sg_io_hdr` from <scsi/sg.h> (interface id 'S'),
laid out by ctypes with the platform's natural alignment, so the same code is
right on 32- and 64-bit Linux.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
from dataclasses import dataclass
from typing import Protocol

SG_IO = 0x2285
SG_DXFER_NONE = -1
SG_DXFER_TO_DEV = -2
SG_DXFER_FROM_DEV = -3
SG_INFO_OK_MASK = 0x1
SENSE_BUFFER = 96          # the kernel's SCSI_SENSE_BUFFERSIZE

# SAM status codes (the low byte of `status`)
GOOD = 0x00
CHECK_CONDITION = 0x02
CONDITION_MET = 0x04
BUSY = 0x08
RESERVATION_CONFLICT = 0x18
TASK_SET_FULL = 0x28
ACA_ACTIVE = 0x30
TASK_ABORTED = 0x40

# host_status values from the kernel's scsi.h that a DIT can act upon
HOST_STATUS = {
    0x01: "no connection to the drive (cable, adapter or iSCSI session down)",
    0x02: "the bus was busy",
    0x03: "the command timed out",
    0x04: "the drive is not answering (bad target)",
    0x05: "the command was aborted",
    0x06: "parity error on the bus",
    0x07: "internal error in the host adapter",
    0x08: "the bus was reset",
    0x0E: "the drive went away (transport failed)",
    0x0F: "the drive went away (transport failed)",
}
DRIVER_TIMEOUT = 0x06


class sg_io_hdr(ctypes.Structure):  # noqa: N801 - the kernel's name
    _fields_ = [
        ("interface_id", ctypes.c_int),
        ("dxfer_direction", ctypes.c_int),
        ("cmd_len", ctypes.c_ubyte),
        ("mx_sb_len", ctypes.c_ubyte),
        ("iovec_count", ctypes.c_ushort),
        ("dxfer_len", ctypes.c_uint),
        ("dxferp", ctypes.c_void_p),
        ("cmdp", ctypes.c_void_p),
        ("sbp", ctypes.c_void_p),
        ("timeout", ctypes.c_uint),        # milliseconds
        ("flags", ctypes.c_uint),
        ("pack_id", ctypes.c_int),
        ("usr_ptr", ctypes.c_void_p),
        ("status", ctypes.c_ubyte),
        ("masked_status", ctypes.c_ubyte),
        ("msg_status", ctypes.c_ubyte),
        ("sb_len_wr", ctypes.c_ubyte),
        ("host_status", ctypes.c_ushort),
        ("driver_status", ctypes.c_ushort),
        ("resid", ctypes.c_int),
        ("duration", ctypes.c_uint),
        ("info", ctypes.c_uint),
    ]


@dataclass(frozen=True)
class Response:
    """What came back from one command, before anyone judged it."""

    status: int = GOOD         # SAM status byte
    data: bytes = b""          # data-in actually transferred (allocation minus residue)
    sense: bytes = b""         # sense bytes the drive wrote (CHECK CONDITION)
    host_status: int = 0
    driver_status: int = 0


class Transport(Protocol):
    """Sends one command block. Tests replace the SG_IO transport with a fake."""

    def execute(self, cdb: bytes, *, data_in: int = 0, data_out: bytes | None = None,
                timeout_s: float = 60.0) -> Response:
        """Run `cdb`; `data_in` is the allocation length to read, `data_out` the bytes to send."""


class SgIoError(OSError):
    """The ioctl itself failed (not a SCSI device, no permission, device gone)."""


class SgIoTransport:
    """SG_IO on an already-open file descriptor (st or sg node)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def execute(self, cdb: bytes, *, data_in: int = 0, data_out: bytes | None = None,
                timeout_s: float = 60.0) -> Response:
        if data_in and data_out is not None:
            raise ValueError("a command either reads or writes data, not both")
        cmd = ctypes.create_string_buffer(bytes(cdb), len(cdb))
        sense = ctypes.create_string_buffer(SENSE_BUFFER)
        hdr = sg_io_hdr()
        hdr.interface_id = ord("S")
        hdr.cmd_len = len(cdb)
        hdr.cmdp = ctypes.addressof(cmd)
        hdr.mx_sb_len = SENSE_BUFFER
        hdr.sbp = ctypes.addressof(sense)
        hdr.timeout = max(1, int(timeout_s * 1000))
        if data_out is not None:
            buf = ctypes.create_string_buffer(bytes(data_out), len(data_out))
            hdr.dxfer_direction = SG_DXFER_TO_DEV
            hdr.dxfer_len = len(data_out)
            hdr.dxferp = ctypes.addressof(buf)
        elif data_in:
            buf = ctypes.create_string_buffer(data_in)
            hdr.dxfer_direction = SG_DXFER_FROM_DEV
            hdr.dxfer_len = data_in
            hdr.dxferp = ctypes.addressof(buf)
        else:
            buf = None
            hdr.dxfer_direction = SG_DXFER_NONE
        try:
            fcntl.ioctl(self.fd, SG_IO, hdr, True)
        except OSError as exc:
            raise SgIoError(exc.errno, _ioctl_message(exc.errno)) from exc
        got = b""
        if buf is not None and data_out is None:
            got = buf.raw[:max(0, data_in - max(0, hdr.resid))]
        return Response(status=hdr.status & 0xFF, data=got, sense=sense.raw[:hdr.sb_len_wr],
                        host_status=hdr.host_status, driver_status=hdr.driver_status)


def _ioctl_message(err: int | None) -> str:
    if err in (errno.ENOTTY, errno.EINVAL, errno.ENOSYS):
        return "this device does not take SCSI commands (SG_IO); it is not a SCSI tape drive"
    if err in (errno.EPERM, errno.EACCES):
        return ("sending SCSI commands to this device needs more rights (root or CAP_SYS_RAWIO "
                "for the st node, or read-write access to its sg node)")
    if err in (errno.ENODEV, errno.ENXIO):
        return "the drive went away (unplugged, powered off or its connection dropped)"
    if err == errno.EBUSY:
        return "the device is busy (another program has it open)"
    return f"SG_IO failed: {errno.errorcode.get(err or 0, err)}"
