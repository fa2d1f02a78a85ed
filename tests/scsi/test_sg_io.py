"""The sg_io_hdr layout matches <scsi/sg.h> on this platform."""

from __future__ import annotations

import ctypes

import pytest

from lto_archive.tape.scsi.sg_io import sg_io_hdr


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="offsets written out for 64-bit Linux")
def test_sg_io_hdr_offsets_64bit():
    expected = {"interface_id": 0, "dxfer_direction": 4, "cmd_len": 8, "mx_sb_len": 9, "iovec_count": 10,
                "dxfer_len": 12, "dxferp": 16, "cmdp": 24, "sbp": 32, "timeout": 40, "flags": 44, "pack_id": 48,
                "usr_ptr": 56, "status": 64, "masked_status": 65, "msg_status": 66, "sb_len_wr": 67,
                "host_status": 68, "driver_status": 70, "resid": 72, "duration": 76, "info": 80}
    assert {name: getattr(sg_io_hdr, name).offset for name in expected} == expected
    assert ctypes.sizeof(sg_io_hdr) == 88
