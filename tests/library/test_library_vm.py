"""The mtx library on a real changer: the tapevm VM (real kernel, sg and st drivers, mtx, tgt's changer).

Skipped unless TAPEVM=1 and TAPEVM_CHANGER is set, i.e. inside

    TAPEVM_PORT=... ../shared/tools/tapevm run --workdir /tmp/tvm-x --drives 2 --tapes 6 --tape-size 100 --changer \
        -- sh -c 'cd /work/main && python3 -m pytest -q tests/library/test_library_vm.py'

The tests share the VM's one library, so each starts by putting every cartridge back in a slot.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lto_archive.errors import ChangerBusy, DriveFull, EmptySlot, NoMedium, SlotFull
from lto_archive.library import open_library
from lto_archive.library.mtx import MtxLibrary, sysfs_drive_devices

from ..bad_input_helpers import card_files, make_card, restored_files, run

CHANGER = os.environ.get("TAPEVM_CHANGER", "")
DRIVES = os.environ.get("TAPEVM_DRIVES", "").split()
BARCODES = os.environ.get("TAPEVM_BARCODES", "").split()

pytestmark = pytest.mark.skipif(os.environ.get("TAPEVM") != "1" or not CHANGER,
                                reason="needs the tapevm library (TAPEVM=1, TAPEVM_CHANGER)")


@pytest.fixture
def lib() -> MtxLibrary:
    lib = open_library(CHANGER)
    assert isinstance(lib, MtxLibrary)
    for d in lib.status().drives:
        if d.full:
            lib.unload(d.number)
    return lib


def test_status_lists_the_barcodes_and_the_drives(lib: MtxLibrary) -> None:
    st = lib.status()
    assert sorted(st.barcodes()) == sorted(BARCODES)
    assert [d.number for d in st.drives] == list(range(len(DRIVES)))
    assert [d.device for d in st.drives] == DRIVES              # from TAPEVM_DRIVES
    assert sysfs_drive_devices(CHANGER, len(DRIVES)) == dict(enumerate(DRIVES))   # sysfs pairs them the same
    assert not any(s.import_export for s in st.slots) and st.free_drive() == 0


def test_load_by_barcode_errors_and_unload_home(lib: MtxLibrary) -> None:
    st = lib.status()
    label = BARCODES[1]
    home = st.locate(label).number
    drive = lib.load_barcode(label)
    st = lib.status()
    assert st.drive(drive).barcode == label and st.drive(drive).source_slot == home
    assert st.slot(home).full is False
    assert lib.load_barcode(label) == drive                    # already loaded: no move
    empty = st.empty_slot()
    other = next(d.number for d in st.drives if d.number != drive)
    full_slot = next(s.number for s in st.slots if s.full)
    # our checks, before the robot moves
    with pytest.raises(EmptySlot, match=f"slot {empty} is empty"):
        lib.load(empty, other)
    with pytest.raises(DriveFull, match=f"drive {drive} already holds {label}"):
        lib.load(full_slot, drive)
    # and what the real mtx says when asked anyway
    with pytest.raises(EmptySlot, match=f"slot {empty} is empty"):
        lib._run(["load", str(empty), str(other)], what="load", timeout=60, slot=empty, drive=other)
    with pytest.raises(DriveFull):
        lib._run(["load", str(full_slot), str(drive)], what="load", timeout=60, slot=full_slot, drive=drive)
    with pytest.raises(SlotFull):
        lib._run(["unload", str(full_slot), str(drive)], what="unload", timeout=60, slot=full_slot, drive=drive)
    with pytest.raises(EmptySlot, match=f"drive {other} is empty"):
        lib._run(["unload", str(empty), str(other)], what="unload", timeout=60, slot=empty, drive=other)
    with pytest.raises(NoMedium):
        lib.open_drive(other)
    assert sorted(lib.status().barcodes()) == sorted(BARCODES)   # nothing moved by the refusals
    lib.unload(drive)
    assert lib.status().locate(label).number == home


def test_transfer_and_locked_drive(lib: MtxLibrary) -> None:
    st = lib.status()
    src = st.locate(BARCODES[2]).number
    dest = st.empty_slot()
    lib.transfer(src, dest)
    with pytest.raises(SlotFull):
        lib.transfer(st.locate(BARCODES[3]).number, dest)
    lib.transfer(dest, src)
    drive = lib.load_barcode(BARCODES[0])
    device = lib.status().drive(drive).device
    subprocess.run(["mt", "-f", device, "lock"], check=True)
    try:
        stuck = MtxLibrary(CHANGER, eject_before_unload=False)
        with pytest.raises(ChangerBusy, match="medium removal prevented"):
            stuck.unload(drive)
    finally:
        subprocess.run(["mt", "-f", device, "unlock"], check=True)
    lib.unload(drive)
    assert lib.status().locate(BARCODES[0]).number == 1


def _st_backend() -> bool:
    try:
        import lto_archive.tape.st  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _st_backend(), reason="the st backend (lto_archive/tape/st.py) is not there yet")
def test_write_and_restore_by_barcode_through_nst(lib: MtxLibrary, tmp_path: Path) -> None:
    """The CLI end to end: status, write by barcode into a free drive (/dev/nstN), unload,
    restore by barcode (loaded again), byte-exact."""
    label = BARCODES[3]
    out = run("library", "status", "--library", CHANGER, check=0).stdout
    assert all(b in out for b in BARCODES) and f"drive   0  empty" in out
    card = make_card(tmp_path / "src", sizes={"A001C001.mov": 3_000_000, "sub/A001C002.mov": 1_200_000, "t.txt": 9})
    cp = run("write", card, "--library", CHANGER, "--barcode", label, "--block-size", "256K",
             "--log-dir", tmp_path / "logs", "--no-progress", "--json", check=0)
    assert json.loads(cp.stdout)["status"] == "ok"
    st = lib.status()
    where = st.locate(label)
    assert where.number == 0 and st.drive(0).device == DRIVES[0]
    run("library", "unload", "--library", CHANGER, label, check=0)     # the drive ejects, the robot takes it home
    assert lib.status().locate(label).number == 4
    dest = tmp_path / "restored"
    run("restore", dest, "--library", CHANGER, "--barcode", label, "--no-progress", check=0)
    assert restored_files(dest) == card_files(card)
    lib.unload(lib.status().locate(label).number)
