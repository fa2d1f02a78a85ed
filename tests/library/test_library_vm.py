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

from lto_archive.errors import ChangerBusy, DriveFull, EmptySlot, NoMedium, SlotFull, UsageError
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


def test_export_import_on_a_changer_without_mail_slots(lib: MtxLibrary) -> None:
    """tapevm's changer has no import/export slots (mtx: "0 Import/Export"): export and import say so and
    move nothing; the moves themselves are mtx transfers (checked on a captured status in test_mtx.py)."""
    assert not any(s.import_export for s in lib.status().slots)
    before = lib.status()
    with pytest.raises(UsageError, match="has no import/export slot"):
        lib.export_cartridge(BARCODES[0])
    with pytest.raises(UsageError, match="has no import/export slot"):
        lib.import_cartridge()
    assert lib.status() == before


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
    assert all(b in out for b in BARCODES) and "drive   0  empty" in out
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


# --- which /dev/nstN is which drive: serial numbers (drive_map.py) ------------------------------------------

def _online(device: str) -> bool:
    out = subprocess.run(["mt", "-f", device, "status"], capture_output=True, text=True).stdout
    return "ONLINE" in out


def _changer_identifiers() -> list:
    from lto_archive.tape.scsi import ScsiDevice
    with ScsiDevice.open(CHANGER, writable=True) as dev:
        return [e.identifier for e in sorted(dev.read_element_status(), key=lambda e: e.address)]


def _serial(device: str) -> str | None:
    from lto_archive.tape.scsi import ScsiDevice
    with ScsiDevice.open(device) as dev:
        return dev.serial_number()


def test_drives_matched_by_serial_number(lib: MtxLibrary) -> None:
    """The changer names drive 0 by a T10 identifier ending in its serial, and that is the serial /dev/nstN
    gives for VPD 0x80; tgt cuts the last drive's identifier short (docs/scsi.md), so that one drive
    takes TAPEVM_DRIVES, which agrees. A cartridge loaded into each drive is online on that device only."""
    idents = _changer_identifiers()
    assert len(idents) == len(DRIVES) and idents[0].text.startswith("IBM     ULT3580-TD9")
    st = lib.status()
    d0 = st.drive(0)
    assert d0.device_source == "serial" and d0.serial == idents[0].serial == _serial(d0.device)
    for d, ident in zip(st.drives, idents):
        assert d.device in DRIVES and d.serial == _serial(d.device)
        whole = ident.serial == d.serial      # tgt 1.0.85: the last drive's reads "be" (8 bytes never sent)
        assert whole or d.serial.startswith(ident.serial)
        assert d.device_source == ("serial" if whole else "tapevm")
    for d in st.drives:
        lib.load_barcode(BARCODES[0], d.number)
        assert _online(d.device) and not any(_online(o) for o in DRIVES if o != d.device)
        lib.unload(d.number)


def _scsi_address(device: str) -> str:
    return Path(f"/sys/class/scsi_tape/{Path(device).name}/device").resolve().name


def _probe_in_order(addresses: list[str]) -> None:
    """Remove the drives from the kernel and scan them back in this order: the first found becomes st0."""
    import time
    for addr in addresses:
        Path(f"/sys/bus/scsi/devices/{addr}/delete").write_text("1")
    for addr in addresses:
        host, channel, target, lun = addr.split(":")
        Path(f"/sys/class/scsi_host/host{host}/scan").write_text(f"{channel} {target} {lun}")
    for _ in range(100):
        if all(Path(d).exists() for d in DRIVES):
            return
        time.sleep(0.1)
    raise AssertionError(f"the drives did not come back: {sorted(os.listdir('/dev'))}")


@pytest.mark.skipif(os.geteuid() != 0, reason="renumbering the kernel's drives needs root (the VM is)")
def test_kernel_numbering_against_the_changer_order(lib: MtxLibrary, tmp_path: Path) -> None:
    """The kernel finds the changer's second drive first: /dev/nst0 is drive 1 now, and TAPEVM_DRIVES
    (nst0, nst1) is wrong. The serials put drive 0 on /dev/nst1; the job writes where the robot loaded."""
    before = [_scsi_address(d) for d in DRIVES]
    _probe_in_order(list(reversed(before)))
    try:
        assert [_scsi_address(d) for d in DRIVES] == list(reversed(before))
        st = open_library(CHANGER).status()
        assert [(d.device, d.device_source) for d in st.drives] == [("/dev/nst1", "serial"), ("/dev/nst0", "sysfs")]
        assert [d.serial for d in st.drives] == [_serial("/dev/nst1"), _serial("/dev/nst0")]
        cp = run("library", "status", "--library", CHANGER, "--json", check=0)
        doc = json.loads(cp.stdout)
        assert [(d["device"], d["serial"]) for d in doc["drives"]] == [(d.device, d.serial) for d in st.drives]
        assert cp.stderr.count("the tapevm order disagrees with the serial numbers: not used") == 1
        text = run("library", "status", "--library", CHANGER, check=0).stdout
        assert f"drive   0  empty                       /dev/nst1   serial {st.drives[0].serial}" in text
        # the robot loads the first free drive (0), the job writes through the device its serial named
        label = BARCODES[4]
        card = make_card(tmp_path / "src", sizes={"A002C001.mov": 1_500_000, "t.txt": 5})
        cp = run("write", card, "--library", CHANGER, "--barcode", label, "--block-size", "256K",
                 "--log-dir", tmp_path / "logs", "--no-progress", "--json", check=0)
        assert json.loads(cp.stdout)["status"] == "ok", cp.stderr
        assert open_library(CHANGER).status().locate(label).number == 0
        assert _online("/dev/nst1") and not _online("/dev/nst0")
        dest = tmp_path / "restored"
        run("restore", dest, "--device", "/dev/nst1", "--no-progress", check=0)
        assert restored_files(dest) == card_files(card)
        open_library(CHANGER).unload(0)
    finally:
        _probe_in_order(before)
    assert [_scsi_address(d) for d in DRIVES] == before
