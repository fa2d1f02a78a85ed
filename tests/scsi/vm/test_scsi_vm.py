"""ScsiDevice through SG_IO on a real kernel st node.

Inside tapevm (TAPEVM=1) the drive is Debian's tgt emulating an IBM ULT3580-TD9; these
tests check what it really answers (measured on 2026-11-23, see docs/scsi.md): INQUIRY, READ
BLOCK LIMITS and MODE SENSE work; LOCATE(16), REPORT DENSITY SUPPORT and READ ATTRIBUTE are
refused with ILLEGAL REQUEST 05/20/00, the medium partition page with 05/24/00, and READ
POSITION's long form is a stub: all must come out as ScsiUnsupported, never as data.

    TAPEVM_PORT=... ../shared/tools/tapevm run --workdir /tmp/tvm-x -- \\
        sh -c 'cd /work/main && python3 -m pytest -q tests/scsi/vm'

With LTO_ARCHIVE_TEST_TAPE=/dev/nstN (and no TAPEVM) the non-destructive checks of a real
LTO drive run instead (nothing is written).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from lto_archive.errors import DeviceError, NoMedium
from lto_archive.generations import GENERATIONS, by_density_code
from lto_archive.tape.scsi import ScsiDevice, ScsiUnsupported

from ...bad_input_helpers import run

IN_VM = os.environ.get("TAPEVM") == "1"
DRIVES = os.environ.get("TAPEVM_DRIVES", "").split()
CHANGER = os.environ.get("TAPEVM_CHANGER", "")
REAL = os.environ.get("LTO_ARCHIVE_TEST_TAPE", "").removeprefix("st:").split("?")[0]

vm_only = pytest.mark.skipif(not (IN_VM and DRIVES), reason="runs inside tapevm (TAPEVM=1)")
real_only = pytest.mark.skipif(IN_VM or not REAL, reason="needs a real drive: LTO_ARCHIVE_TEST_TAPE=/dev/nstN")


def mt(dev: str, *args: str) -> None:
    proc = subprocess.run([shutil.which("mt") or "mt", "-f", dev, *args], capture_output=True, text=True)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)


@pytest.fixture
def dev():
    if IN_VM:
        ensure_loaded()
    with ScsiDevice.open(DRIVES[0] if IN_VM else REAL) as d:
        yield d


def unsupported_code(call) -> str:
    with pytest.raises(ScsiUnsupported) as e:
        call()
    assert e.value.message.startswith(e.value.data.get("device", ""))
    return e.value.sense.code if e.value.sense else "no sense"


@vm_only
def test_tgt_identity_limits_and_density(dev):
    inq = dev.inquiry()
    assert (inq.vendor, inq.product) == ("IBM", "ULT3580-TD9")
    assert inq.is_tape and inq.generation is GENERATIONS["LTO-9"]
    assert dev.serial_number()                               # tgt makes one up per LUN
    assert dev.read_block_limits() == (4, 1024 * 1024)       # the limits tapevm's README states
    dev.test_unit_ready()                                    # a cartridge is loaded
    mode = dev.mode_sense()
    assert (mode.density_code, mode.write_protected, mode.buffered_mode) == (0, False, 1)
    assert dev.density_code() == 0


@vm_only
def test_tgt_commands_it_lacks_are_unsupported(dev):
    assert unsupported_code(dev.read_position) == "no sense"            # the stub answer, refused by us
    assert unsupported_code(lambda: dev.locate(0, 1)) == "05/20/00"
    assert unsupported_code(dev.report_density_support) == "05/20/00"
    assert unsupported_code(lambda: dev.report_density_support(media=False)) == "05/20/00"
    assert unsupported_code(lambda: dev.read_attribute(0, 0x0806)) == "05/20/00"
    assert unsupported_code(dev.cartridge_memory) == "05/20/00"
    assert unsupported_code(lambda: dev.write_attribute(0, 0x0806, b"X".ljust(32), 1)) == "05/20/00"


@vm_only
def test_tgt_partition_is_refused_and_the_tape_keeps_its_data():
    path = DRIVES[0]
    ensure_loaded()
    record = os.urandom(64 * 1024)
    mt(path, "rewind")
    fd = os.open(path, os.O_WRONLY)
    try:
        assert os.write(fd, record) == len(record)
    finally:
        os.close(fd)                        # st writes a filemark on close after writing
    with ScsiDevice.open(path) as d:
        with pytest.raises(ScsiUnsupported) as e:
            d.partition(2)
    assert e.value.sense.code == "05/24/00"  # MODE SENSE(10) page 0x11: invalid field in CDB
    mt(path, "rewind")                       # partition() rewound through SG_IO: let st agree
    fd = os.open(path, os.O_RDONLY)
    try:
        assert os.read(fd, 1024 * 1024) == record
    finally:
        os.close(fd)


@vm_only
def test_tgt_drive_info_cli():
    ensure_loaded()
    proc = run("drive", "info", DRIVES[0], "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["vendor"], d["product"], d["drive_generation"], d["loaded"]) == ("IBM", "ULT3580-TD9", "LTO-9", True)
    assert d["block_limits"] == {"minimum": 4, "maximum": 1024 * 1024}
    assert d["position"] is None and d["cartridge_memory"] is None and d["medium_generation"] is None
    assert set(d["not_reported"]) == {"position (READ POSITION)", "medium densities (REPORT DENSITY SUPPORT)",
                                      "cartridge memory (READ ATTRIBUTE)", "medium generation"}
    text = run("drive", "info", DRIVES[0])
    assert text.returncode == 0 and "IBM ULT3580-TD9" in text.stdout
    print(text.stdout)


def mtx(*args: str) -> str:
    proc = subprocess.run([shutil.which("mtx") or "mtx", "-f", CHANGER, *args], capture_output=True, text=True)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


def drive0_full() -> bool:
    line = next(ln for ln in mtx("status").splitlines() if "Data Transfer Element 0:" in ln)
    return ":Full" in line


def ensure_loaded() -> None:
    """With a changer (drives start empty) put a cartridge in drive 0; without one it is loaded.
    Variable block mode, whatever tests before these left (tgt's block limits follow the mode)."""
    if CHANGER and not drive0_full():
        mtx("load", "1", "0")
    mt(DRIVES[0], "setblk", "0")


@pytest.mark.skipif(not (IN_VM and DRIVES and CHANGER), reason="runs inside tapevm with a changer (--changer)")
def test_tgt_empty_drive_says_no_medium_then_loads():
    """Without a changer tgt keeps the cartridge online whatever mt offline says: this needs --changer."""
    path = DRIVES[0]
    if drive0_full():
        mtx("unload")
    with ScsiDevice.open(path) as d:
        assert d.inquiry().generation is GENERATIONS["LTO-9"]   # INQUIRY needs no cartridge
        with pytest.raises(NoMedium, match="no cartridge") as e:
            d.test_unit_ready()
        assert e.value.sense.code == "02/3A/00"
    mtx("load", "1", "0")
    seen = []
    with ScsiDevice.open(path) as d:
        for _ in range(5):
            try:
                d.test_unit_ready()
                break
            except DeviceError as exc:              # a unit attention first, as after any load
                seen.append(exc.sense.code if getattr(exc, "sense", None) else exc.message)
        else:
            pytest.fail(f"the drive never became ready after mtx load: {seen}")
    print("TEST UNIT READY after mtx load:", seen or "ready at once")


@real_only
def test_real_drive_reports_what_tgt_cannot(dev):
    inq = dev.inquiry()
    assert inq.is_tape and inq.generation is not None, str(inq)
    mt(REAL, "rewind")
    pos = dev.read_position()
    assert pos.bop and pos.block == 0
    dev.locate(0, 0)
    code = dev.density_code()
    medium = by_density_code(code)
    assert any(d.primary_density_code == code for d in dev.report_density_support(media=True))
    cm = dev.cartridge_memory()
    assert cm.medium_serial and cm.max_capacity_mb
    assert cm.generation in (None, medium)
