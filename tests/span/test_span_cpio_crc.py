"""cpio-crc sets (the round trip with GNU cpio -H crc: test_span_cpio.py): every member, parts included, carries the byte sum of its data in its header
(GNU cpio -H crc checks it on extraction); a part is summed before its header, then compared
with the bytes that went to tape."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lto_archive.formats.cpio_writer import CpioWriter
from lto_archive.jobs.write import WriteOptions
from lto_archive.manifest import OK, READ_ERROR
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span
from tests.conftest import require_tool
from tests.span.helpers import MiB, RS, make_card, make_library, volume_bytes
from tests.span.test_span_read import SIZES


def _crc_set(tmp_path: Path):  # type: ignore[no-untyped-def]
    card = make_card(tmp_path, SIZES)
    lib = make_library(tmp_path / "lib", cartridges=3, capacity=8 * MiB)
    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(format="cpio-crc", record_size=RS))
    return card, lib, result


def test_gnu_cpio_notices_a_damaged_part(tmp_path: Path) -> None:
    """The sums are real: one byte changed in a part's data makes GNU cpio report a checksum error."""
    require_tool("cpio")
    card, lib, result = _crc_set(tmp_path)
    result.raise_for_status()
    vol = bytearray(volume_bytes(lib, result.barcodes[1]))
    at = vol.index(b"card/CLIPS/big.mov.part0002") + 4096
    vol[at] ^= 0xFF
    out = tmp_path / "gnu"
    out.mkdir()
    proc = subprocess.run(["cpio", "-idm", "-H", "crc", "-F", "/dev/stdin"], cwd=out, input=bytes(vol),
                          capture_output=True)
    assert b"checksum error" in proc.stderr, proc.stderr


def test_a_part_whose_bytes_differ_from_its_sum_is_not_called_good(tmp_path: Path, monkeypatch) -> None:
    """The file changed between the checksum pass and the copy: the part's header sum is wrong,
    so the file is reported (read error), never verified as a good copy."""
    real = CpioWriter._presum_fd

    def presum(self, fd, size):  # type: ignore[no-untyped-def]
        total, err = real(self, fd, size)
        big = os.readlink(f"/proc/self/fd/{fd}").endswith("big.mov")
        return (total + 1 if big else total), err                  # the big file's parts only
    monkeypatch.setattr(CpioWriter, "_presum_fd", presum)
    card, lib, result = _crc_set(tmp_path)
    big = [f for v in result.volumes for f in v.files if f.path == "card/CLIPS/big.mov"]
    assert big and big[-1].status == READ_ERROR and "checksum pass" in big[-1].message
    others = [f for f in result.files if f.path != "card/CLIPS/big.mov" and f.kind == "file"]
    assert others and all(f.status == OK for f in others)
    assert result.status == "incomplete"
