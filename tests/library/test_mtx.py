"""The mtx wrapper: status parsing and error mapping on real captured mtx output
(fixtures/mtx, see its README), drive device mapping, and the subprocess plumbing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lto_archive.errors import (ChangerBusy, DeviceNotFound, DriveFull, EmptySlot, SlotFull, ToolFailed,
                                ToolMissing, UsageError)
from lto_archive.library import DriveInfo, SlotInfo, open_library
from lto_archive.library.mtx import (MtxLibrary, mtx_error, parse_drive_devices, parse_status,
                                     sysfs_drive_devices)

from ..conftest import FIXTURES

MTX = FIXTURES / "mtx"


def fixture(name: str) -> str:
    return (MTX / name).read_text()


def test_status_initial_with_barcodes() -> None:
    parsed = parse_status(fixture("status_initial.txt"), {0: "/dev/nst0", 1: "/dev/nst1"})
    st = parsed.status
    assert parsed.changer == "/dev/sg2" and parsed.import_export == 0
    assert st.drives == [DriveInfo(0, False, None, None, "/dev/nst0"), DriveInfo(1, False, None, None, "/dev/nst1")]
    assert [s.number for s in st.slots] == list(range(1, 11))
    assert st.barcodes() == [f"LTA00{i}L9" for i in range(1, 7)]
    assert st.slots[6] == SlotInfo(7, None, False)
    assert st.free_drive() == 0 and st.empty_slot() == 7


def test_status_loaded_drives_source_slots_and_both_volume_tag_spacings() -> None:
    st = parse_status(fixture("status_two_loaded.txt")).status
    # drives print "VolumeTag = X", slots "VolumeTag=X", both padded with blanks
    assert st.drives == [DriveInfo(0, True, "LTA001L9", 1, None), DriveInfo(1, True, "LTA003L9", 3, None)]
    assert st.locate("LTA002L9") == SlotInfo(9, "LTA002L9", True)
    assert st.locate("LTA003L9") == st.drives[1]
    assert st.locate("LTA001L9").number == 0 and st.locate("NOPE") is None
    assert st.free_drive() is None
    st = parse_status(fixture("status_drive1.txt")).status
    assert st.drives[0].full is False and st.drives[1] == DriveInfo(1, True, "LTA002L9", 2, None)


def test_status_without_barcodes() -> None:
    st = parse_status(fixture("status_nobarcode.txt")).status
    assert [(s.number, s.full, s.barcode) for s in st.slots][:7] == [
        (1, True, None), (2, True, None), (3, True, None), (4, True, None), (5, True, None), (6, True, None),
        (7, False, None)]
    assert st.barcodes() == []


def test_status_import_export_slots() -> None:
    parsed = parse_status(fixture("ie_status_after.txt"))
    assert parsed.import_export == 2
    st = parsed.status
    assert st.slots[10] == SlotInfo(11, "LTA003L9", True, import_export=True)
    assert st.slots[11] == SlotInfo(12, None, False, import_export=True)
    assert st.empty_slot() == 3 and st.empty_slot(import_export=True) == 12
    st = parse_status(fixture("ie_status_loaded.txt")).status
    assert st.drives[1] == DriveInfo(1, True, "LTA003L9", 11, None)


def test_status_other_shapes_from_mtx_format_strings() -> None:
    # Lines mtx 1.3.12 prints in cases tapevm does not produce (its format strings: "Full (Unknown Storage
    # Element Loaded)", ":AlternateVolumeTag = %s", a tag with no padding, an empty import/export slot).
    text = ("  Storage Changer /dev/sg4:1 Drives, 3 Slots ( 1 Import/Export )\n"
            "Data Transfer Element 0:Full (Unknown Storage Element Loaded):VolumeTag = ABC123L7"
            ":AlternateVolumeTag = XYZ\n"
            "      Storage Element 1:Full :VolumeTag=CLN001CU\n"
            "      Storage Element 2:Empty\n"
            "      Storage Element 3 IMPORT/EXPORT:Full :VolumeTag=IE0001L8:AlternateVolumeTag=Q\n")
    st = parse_status(text).status
    assert st.drives == [DriveInfo(0, True, "ABC123L7", None, None)]
    assert st.slots == [SlotInfo(1, "CLN001CU", True), SlotInfo(2, None, False),
                        SlotInfo(3, "IE0001L8", True, import_export=True)]


def test_status_that_is_not_a_changer() -> None:
    with pytest.raises(ToolFailed, match="no drives and no slots"):
        parse_status("mtx: Request Sense: garbage\n")


@pytest.mark.parametrize("name, kind, words", [
    ("load_drive_full", DriveFull, "drive 0 already holds the cartridge from slot 1"),
    ("load_empty_slot", EmptySlot, "slot 9 is empty"),
    ("transfer_src_empty", EmptySlot, "slot 9 is empty"),
    ("transfer_dest_full", SlotFull, "slot 4 already holds"),
    ("unload_slot_full", SlotFull, "slot 5 already holds"),
    ("unload_empty_drive", EmptySlot, "drive 1 is empty"),
    ("mtx_bad_device", DeviceNotFound, "no changer at /dev/sg2"),
    ("mtx_bad_slot", UsageError, "no slot 9"),
    ("mtx_bad_drive", UsageError, "no drive 1"),
    ("unload_locked", ChangerBusy, "medium removal prevented"),
])
def test_real_mtx_errors_map_to_our_errors(name: str, kind: type, words: str) -> None:
    err = mtx_error(fixture(f"{name}.stderr"), what="doing it", device="/dev/sg2", slot=9, drive=1, dest=4,
                    returncode=1)
    assert type(err) is kind
    assert words in err.message and err.message.startswith("doing it")
    assert err.data["mtx_stderr"] == fixture(f"{name}.stderr").strip()


def test_unknown_mtx_error_keeps_its_message() -> None:
    err = mtx_error("something odd happened\n", what="loading", device="/dev/sg2")
    assert type(err) is ToolFailed and "something odd happened" in err.message
    busy = mtx_error("mtx: Request Sense: Sense Key=Not Ready\nMOVE MEDIUM from Element Address 2 to 1000 Failed",
                     what="unloading", device="/dev/sg2")
    assert type(busy) is ChangerBusy


def test_parse_drive_devices() -> None:
    assert parse_drive_devices("0=/dev/nst0, 1=/dev/nst1") == {0: "/dev/nst0", 1: "/dev/nst1"}
    assert parse_drive_devices(("1=/dev/nst3", "0=vtape:/x")) == {1: "/dev/nst3", 0: "vtape:/x"}
    with pytest.raises(UsageError, match="DRIVE=DEVICE"):
        parse_drive_devices("nst0")


def test_sysfs_pairs_drives_on_the_changer_host_in_address_order(tmp_path: Path) -> None:
    """The layout of fixtures/mtx/sysfs_links.txt (the tapevm VM), rebuilt with symlinks."""
    devices = tmp_path / "devices"
    cls = tmp_path / "class"
    for line in fixture("sysfs_links.txt").splitlines():
        if " -> " not in line:
            continue
        link, target = line.split(" -> ")
        target = target.split()[0]
        dev = devices / target.lstrip("/")
        dev.mkdir(parents=True, exist_ok=True)
        entry = cls / Path(link).relative_to("/sys/class")
        entry.mkdir(parents=True, exist_ok=True)
        (entry / "device").symlink_to(dev)
    assert sysfs_drive_devices("/dev/sg2", 2, cls) == {0: "/dev/nst0", 1: "/dev/nst1"}
    assert sysfs_drive_devices("/dev/sg2", 3, cls) == {}        # counts differ: do not guess
    assert sysfs_drive_devices("/dev/sg9", 2, cls) == {}


@pytest.fixture
def fake_mtx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in `mtx` that replays a captured answer: tests the subprocess plumbing only
    (the real mtx runs in tests/library/test_library_vm.py under tapevm)."""
    script = tmp_path / "bin" / "mtx"
    script.parent.mkdir()
    script.write_text('#!/bin/sh\necho "$@" >>"$MTX_LOG"\n'
                      'case "$3" in status) cat "$MTX_STATUS";; *) cat "$MTX_ERR" >&2; exit "$MTX_RC";; esac\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MTX_LOG", str(tmp_path / "log"))
    monkeypatch.setenv("MTX_STATUS", str(MTX / "status_loaded.txt"))
    monkeypatch.setenv("MTX_ERR", str(MTX / "load_empty_slot.stderr"))
    monkeypatch.setenv("MTX_RC", "0")
    monkeypatch.delenv("LTO_ARCHIVE_DRIVE_DEVICES", raising=False)
    monkeypatch.delenv("TAPEVM", raising=False)
    return tmp_path / "log"


def test_wrapper_checks_before_moving_and_passes_mtx_numbers(fake_mtx: Path) -> None:
    lib = MtxLibrary("/dev/sg2", drive_devices={0: "/dev/nst0", 1: "/dev/nst1"}, eject_before_unload=False)
    assert lib.status().drive(0) == DriveInfo(0, True, "LTA001L9", 1, "/dev/nst0", device_source="given")
    with pytest.raises(DriveFull, match="drive 0 already holds LTA001L9 .from slot 1."):
        lib.load(2, 0)
    with pytest.raises(EmptySlot, match="slot 7 is empty"):
        lib.load(7, 1)
    lib.load(2, 1)
    lib.unload(0)                         # back to its source slot 1
    lib.transfer(3, 9)
    assert lib.load_barcode("LTA001L9") == 0   # already in drive 0: nothing moves
    calls = fake_mtx.read_text().splitlines()
    moves = [c for c in calls if not c.endswith("status")]
    assert moves == ["-f /dev/sg2 load 2 1", "-f /dev/sg2 unload 1 0", "-f /dev/sg2 transfer 3 9"]


def test_wrapper_maps_mtx_failure(fake_mtx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MTX_RC", "1")
    lib = MtxLibrary("/dev/sg2", eject_before_unload=False)
    with pytest.raises(EmptySlot, match="loading slot 2 into drive 1: slot 2 is empty") as e:
        lib.load(2, 1)                    # the status said full, the robot found it empty
    assert e.value.data["mtx_stderr"] == "Source Element Address 1008 is Empty"


def test_drive_devices_from_environment(fake_mtx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAPEVM", "1")
    monkeypatch.setenv("TAPEVM_CHANGER", "/dev/sg2")
    monkeypatch.setenv("TAPEVM_DRIVES", "/dev/nst0 /dev/nst1")
    assert [d.device for d in open_library("/dev/sg2").status().drives] == ["/dev/nst0", "/dev/nst1"]
    monkeypatch.setenv("LTO_ARCHIVE_DRIVE_DEVICES", "0=/dev/nst5")
    assert [d.device for d in open_library("mtx:/dev/sg2").status().drives] == ["/dev/nst5", None]
    monkeypatch.setenv("MTX_STATUS", str(MTX / "status_two_loaded.txt"))
    with pytest.raises(UsageError, match="which tape device is drive 1 .* --drive-device 1=/dev/nstN"):
        open_library("/dev/sg2").open_drive(1)


def test_mtx_missing_and_timeout(tmp_path: Path, fake_mtx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ToolMissing, match="apt install mtx"):
        MtxLibrary("/dev/sg2", mtx="no-such-mtx-here").status()
    slow = tmp_path / "bin" / "slowmtx"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    with pytest.raises(ChangerBusy, match="did not answer within 1 s"):
        MtxLibrary("/dev/sg2", mtx=str(slow), status_timeout=1).status()


def test_open_drive_waits_while_a_loaded_drive_threads(fake_mtx: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The changer says drive 0 is full; the drive answers 'no medium' twice (threading), then opens."""
    import lto_archive.library.mtx as mtx
    from lto_archive.errors import NoMedium
    from lto_archive.tape import NullTape
    answers: list[object] = [NoMedium("not ready"), NoMedium("not ready"), NullTape()]
    opened: list[str] = []

    def fake_open(spec: str):  # type: ignore[no-untyped-def]
        opened.append(spec)
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a

    monkeypatch.setattr(mtx, "open_device", fake_open)
    slept: list[float] = []
    lib = MtxLibrary("/dev/sg2", drive_devices={0: "/dev/nst0"}, sleep=slept.append, ready_timeout=10)
    assert isinstance(lib.open_drive(0), NullTape)
    assert opened == ["/dev/nst0"] * 3 and slept == [2.0, 2.0]
    answers[:] = [NoMedium("gone")] * 10
    with pytest.raises(NoMedium):
        MtxLibrary("/dev/sg2", drive_devices={0: "/dev/nst0"}, sleep=lambda s: None, ready_timeout=4).open_drive(0)


def test_export_and_import_are_mtx_transfers_to_and_from_the_mail_slots(fake_mtx: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """On the captured status of tapevm's changer with two import/export slots (11, 12)."""
    lib = MtxLibrary("/dev/sg2", drive_devices={0: "/dev/nst0", 1: "/dev/nst1"}, eject_before_unload=False)
    monkeypatch.setenv("MTX_STATUS", str(MTX / "ie_status.txt"))
    assert lib.export_cartridge("LTA003L9") == 11
    assert lib.export_cartridge("LTA004L9", ie_slot=12) == 12
    with pytest.raises(UsageError, match="slot 7 is a storage slot"):
        lib.export_cartridge("LTA004L9", ie_slot=7)
    with pytest.raises(EmptySlot, match="every import/export slot .* is empty"):
        lib.import_cartridge()
    monkeypatch.setenv("MTX_STATUS", str(MTX / "ie_status_after.txt"))     # LTA003L9 in slot 11
    assert lib.import_cartridge() == ("LTA003L9", 11, 3)
    assert lib.import_cartridge(11, 9) == ("LTA003L9", 11, 9)
    monkeypatch.setenv("MTX_STATUS", str(MTX / "ie_status_loaded.txt"))    # LTA003L9 in drive 1
    assert lib.export_cartridge("LTA003L9") == 11
    moves = [c for c in fake_mtx.read_text().splitlines() if not c.endswith("status")]
    assert moves == ["-f /dev/sg2 transfer 3 11", "-f /dev/sg2 transfer 4 12", "-f /dev/sg2 transfer 11 3",
                     "-f /dev/sg2 transfer 11 9", "-f /dev/sg2 unload 11 1"]
