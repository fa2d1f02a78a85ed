"""The virtual library: creation, status, moves, every refusal, crashes between steps."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import (CartridgeNotFound, ChangerBusy, ChangerError, DeviceError, DeviceNotFound,
                                DriveFull, EmptySlot, NoMedium, SlotFull, UsageError)
from lto_archive.library import DriveInfo, SlotInfo, open_library
from lto_archive.library.vlib import VirtualLibrary, barcode_for, create_vlib
from lto_archive.generations import by_name
from lto_archive.devices import open_device
from lto_archive.tape import VirtualTape

MB = 10**6


@pytest.fixture
def lib(tmp_path: Path) -> VirtualLibrary:
    return create_vlib(tmp_path / "lib", drives=2, slots=4, capacity=4 * MB, import_export=1)


def where(lib: VirtualLibrary) -> dict[str, str]:
    """barcode -> 'slot N' / 'drive N', checking no barcode is in two places."""
    st_ = lib.status()
    out: dict[str, str] = {}
    for place in (*st_.drives, *st_.slots):
        if place.full:
            assert place.barcode not in out, f"{place.barcode} twice"
            out[place.barcode] = f"{'drive' if isinstance(place, DriveInfo) else 'slot'} {place.number}"
    return out


def test_create_labels_slots_and_status(tmp_path: Path) -> None:
    lib = create_vlib(tmp_path / "v", drives=2, slots=8, generation="LTO-9", capacity=100 * 2**20)
    st_ = lib.status()
    assert [d.number for d in st_.drives] == [0, 1] and not any(d.full for d in st_.drives)
    assert st_.barcodes() == [f"LTA{i:03d}L9" for i in range(1, 9)]
    assert [s.number for s in st_.slots] == list(range(1, 9))
    assert st_.free_drive() == 0
    # every cartridge is a real virtual tape with its barcode in cartridge memory and the capacity asked for
    with VirtualTape(tmp_path / "v" / "slots" / "3" / "LTA003L9") as vt:
        info = vt.medium()
        assert info.barcode == "LTA003L9" and info.capacity == 100 * 2**20 and info.generation.name == "LTO-9"


def test_create_options_generation_suffix_fewer_cartridges_import_export(tmp_path: Path) -> None:
    lib = create_vlib(tmp_path / "v", drives=1, slots=5, generation="LTO-10", capacity=MB, cartridges=2,
                      import_export=2, prefix="AB")
    st_ = lib.status()
    assert st_.barcodes() == ["AB0001LA", "AB0002LA"]
    assert [(s.number, s.full, s.import_export) for s in st_.slots] == [
        (1, True, False), (2, True, False), (3, False, False), (4, False, False), (5, False, False),
        (6, False, True), (7, False, True)]
    assert barcode_for("LTA", 7, by_name("LTO-5")) == "LTA007L5"
    assert barcode_for("LTA", 1, by_name("LTO-M8")) == "LTA001M8"


def test_create_refuses(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep")
    with pytest.raises(UsageError, match="not an empty folder"):
        create_vlib(tmp_path / "busy")
    assert (tmp_path / "busy" / "x").read_text() == "keep"
    with pytest.raises(UsageError, match="do not fit"):
        create_vlib(tmp_path / "a", slots=2, cartridges=3)
    with pytest.raises(UsageError, match="prefix"):
        create_vlib(tmp_path / "b", prefix="TOOLONG")
    with pytest.raises(UsageError, match="no label"):
        barcode_for("ABCDE", 10, by_name("LTO-9"))
    with pytest.raises(DeviceNotFound, match="no virtual library"):
        VirtualLibrary(tmp_path / "nothing")


def test_load_unload_transfer(lib: VirtualLibrary) -> None:
    lib.load(2, 1)
    st_ = lib.status()
    assert st_.drive(1) == DriveInfo(1, True, "LTA002L9", 2, f"vtape:{lib.path}/drives/1/LTA002L9")
    assert st_.slot(2) == SlotInfo(2, None, False)
    assert st_.locate("LTA002L9") == st_.drive(1) and st_.free_drive() == 0
    with lib.open_drive(1) as dev:
        dev.write_record(b"on LTA002L9")
        dev.write_filemarks(1)
    lib.unload(1)                                  # home again
    assert where(lib)["LTA002L9"] == "slot 2"
    with VirtualTape(lib.path / "slots/2/LTA002L9") as vt:   # the data travelled with the cartridge
        assert vt.read_record() == b"on LTA002L9"
    lib.transfer(2, 5)                             # to the import/export slot
    assert lib.status().slot(5) == SlotInfo(5, "LTA002L9", True, import_export=True)
    lib.load(5, 0)
    lib.unload(0, 2)
    assert where(lib) == {f"LTA00{i}L9": f"slot {i}" for i in range(1, 5)}


def test_unload_without_home_goes_to_first_empty_slot(lib: VirtualLibrary) -> None:
    lib.load(1, 0)
    lib.transfer(2, 1)              # someone filled the home slot
    lib.unload(0)
    assert where(lib)["LTA001L9"] == "slot 2"


def test_load_barcode(lib: VirtualLibrary) -> None:
    assert lib.load_barcode("LTA003L9") == 0
    assert lib.load_barcode("LTA003L9") == 0            # already there: nothing moves
    assert lib.load_barcode("LTA001L9") == 1
    with pytest.raises(DriveFull, match="every drive .* is full .*drive 0: LTA003L9"):
        lib.load_barcode("LTA002L9")
    lib.unload(0)
    assert lib.load_barcode("LTA001L9", drive=0) == 0   # moved from drive 1 to drive 0
    assert where(lib)["LTA001L9"] == "drive 0" and lib.status().drive(1).full is False
    with pytest.raises(CartridgeNotFound, match="no cartridge with barcode XYZ999L9 .*LTA001L9"):
        lib.load_barcode("XYZ999L9")


def test_errors_name_slot_drive_barcode_and_move_nothing(lib: VirtualLibrary) -> None:
    lib.load(1, 0)
    before = where(lib)
    with pytest.raises(DriveFull, match="drive 0 already holds LTA001L9") as e:
        lib.load(2, 0)
    assert e.value.data["drive"] == 0 and e.value.exit_code == 4
    with pytest.raises(EmptySlot, match="slot 1 is empty"):
        lib.load(1, 1)
    with pytest.raises(EmptySlot, match="drive 1: it is empty"):
        lib.unload(1)
    with pytest.raises(SlotFull, match="slot 3: it holds LTA003L9"):
        lib.unload(0, 3)
    with pytest.raises(SlotFull, match="slot 4: it holds LTA004L9"):
        lib.transfer(2, 4)
    with pytest.raises(EmptySlot):
        lib.transfer(5, 1)
    with pytest.raises(UsageError, match="no slot 9 .*1-5"):
        lib.load(9, 1)
    with pytest.raises(UsageError, match="no drive 2"):
        lib.load(2, 2)
    with pytest.raises(NoMedium, match="drive 1 .* is empty"):
        lib.open_drive(1)
    assert where(lib) == before
    assert all(issubclass(c, ChangerError) and issubclass(c, DeviceError)
               for c in (EmptySlot, DriveFull, SlotFull, ChangerBusy, CartridgeNotFound))


def test_busy_changer_and_cartridge_in_use(lib: VirtualLibrary) -> None:
    fd = os.open(lib.path / ".changer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)                 # another process moving a cartridge
    try:
        with pytest.raises(ChangerBusy, match="busy"):
            lib.load(1, 0)
    finally:
        os.close(fd)
    lib.load(1, 0)
    dev = lib.open_drive(0)                        # a job has the cartridge open
    try:
        with pytest.raises(ChangerBusy, match="LTA001L9 in drive 0 .* in use"):
            lib.unload(0)
    finally:
        dev.close()
    lib.unload(0)
    direct = VirtualTape(lib.path / "slots/2/LTA002L9")   # opened straight as vtape:
    try:
        with pytest.raises(ChangerBusy):
            lib.load(2, 1)
    finally:
        direct.close()
    assert where(lib) == {f"LTA00{i}L9": f"slot {i}" for i in range(1, 5)}


def test_hand_made_mess_is_reported(lib: VirtualLibrary) -> None:
    os.rename(lib.path / "slots/2/LTA002L9", lib.path / "slots/1/LTA002L9")
    with pytest.raises(DeviceError, match="slot 1 .* holds 2 cartridges"):
        lib.status()


_CRASH = textwrap.dedent("""
    import os, signal, sys
    from lto_archive.library.vlib import VirtualLibrary
    real_rename = os.rename
    when = sys.argv[2]
    def rename(src, dst, *a, **k):
        if when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real_rename(src, dst, *a, **k)
        os.kill(os.getpid(), signal.SIGKILL)
    os.rename = rename
    lib = VirtualLibrary(sys.argv[1])
    op = sys.argv[3]
    if op == "load":
        lib.load(1, 0)
    else:
        lib.unload(0)
""")


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("op", ["load", "unload"])
def test_killed_between_steps(lib: VirtualLibrary, tmp_path: Path, op: str, when: str) -> None:
    """SIGKILL right before or right after the robot's rename: the cartridge is in
    exactly one place, the library still works, and the tape's data is intact."""
    lib.load(1, 0)
    with lib.open_drive(0) as dev:
        dev.write_record(b"precious")
        dev.write_filemarks(1)
    if op == "load":
        lib.unload(0)
    script = tmp_path / "crash.py"
    script.write_text(_CRASH)
    proc = subprocess.run([sys.executable, str(script), str(lib.path), when, op], capture_output=True)
    assert proc.returncode == -9, proc.stderr
    places = where(lib)
    expected = {("load", "before"): "slot 1", ("load", "after"): "drive 0",
                ("unload", "before"): "drive 0", ("unload", "after"): "slot 1"}[(op, when)]
    assert places["LTA001L9"] == expected and len(places) == 4
    st_ = lib.status()
    if expected == "drive 0":
        assert st_.drive(0).source_slot == 1
        lib.unload(0)
    else:
        assert st_.drive(0).source_slot is None    # a leftover .source in an empty drive is ignored
    lib.load(1, 1)
    with lib.open_drive(1) as dev:
        assert dev.read_record() == b"precious"
    lib.unload(1)
    assert where(lib) == {f"LTA00{i}L9": f"slot {i}" for i in range(1, 5)}


moves = st.lists(st.tuples(st.sampled_from(["load", "unload", "transfer", "load_barcode", "export", "import"]),
                           st.integers(0, 6), st.integers(0, 6)), max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=moves)
def test_random_moves_keep_every_cartridge_exactly_once(tmp_path_factory: pytest.TempPathFactory,
                                                        ops: list[tuple[str, int, int]]) -> None:
    root = tmp_path_factory.mktemp("prop") / "lib"
    lib = create_vlib(root, drives=2, slots=4, capacity=MB, cartridges=3, import_export=1)
    labels = sorted(lib.status().barcodes())
    for op, a, b in ops:
        before = where(lib)
        try:
            if op == "load":
                lib.load(a, b)
            elif op == "unload":
                lib.unload(a, b or None)
            elif op == "transfer":
                lib.transfer(a, b)
            elif op == "export":
                lib.export_cartridge(labels[a % 3] if a < 5 else "NOPE01L9", ie_slot=b or None)
            elif op == "import":
                lib.import_cartridge(a or None, b or None)
            else:
                lib.load_barcode(labels[a % 3] if a < 5 else "NOPE01L9", drive=None if b > 1 else b)
        except (ChangerError, UsageError):
            assert where(lib) == before            # a refused move moves nothing
        after = where(lib)
        assert sorted(after) == labels             # every barcode exactly once, nothing lost
        st_ = lib.status()
        for d in st_.drives:                       # a loaded drive opens as that cartridge
            if d.full:
                assert d.device == f"vtape:{root}/drives/{d.number}/{d.barcode}"


def test_open_library_and_open_device_vlib(lib: VirtualLibrary, tmp_path: Path) -> None:
    assert isinstance(open_library(f"vlib:{lib.path}"), VirtualLibrary)
    with pytest.raises(UsageError, match="load one .* or pass --barcode"):
        open_device(f"vlib:{lib.path}")
    lib.load(3, 1)
    with open_device(f"vlib:{lib.path}") as dev:
        assert dev.medium().barcode == "LTA003L9"
    with pytest.raises(UsageError, match="unknown library"):
        open_library("tape:/x")
    with pytest.raises(UsageError, match="is a tape drive, not a changer"):
        open_library("/dev/nst0")
    with pytest.raises(UsageError, match="needs the library folder"):
        open_library("vlib:")


_WORKER = textwrap.dedent("""
    import random, sys
    from lto_archive.errors import ChangerError, UsageError
    from lto_archive.library.vlib import VirtualLibrary
    lib = VirtualLibrary(sys.argv[1], lock_timeout=30)
    rnd = random.Random(int(sys.argv[2]))
    for _ in range(25):
        op = rnd.choice(["load", "unload", "transfer", "barcode"])
        try:
            if op == "load":
                lib.load(rnd.randint(1, 5), rnd.randint(0, 1))
            elif op == "unload":
                lib.unload(rnd.randint(0, 1))
            elif op == "transfer":
                lib.transfer(rnd.randint(1, 5), rnd.randint(1, 5))
            else:
                lib.load_barcode(rnd.choice(["LTA001L9", "LTA002L9", "LTA003L9"]))
        except (ChangerError, UsageError):
            pass
""")


def test_concurrent_processes_never_lose_a_cartridge(tmp_path: Path) -> None:
    """Three processes move cartridges at once (each waits for the changer lock): afterwards every
    barcode is in exactly one place and each cartridge still opens."""
    lib = create_vlib(tmp_path / "lib", drives=2, slots=4, capacity=MB, cartridges=3, import_export=1)
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    procs = [subprocess.Popen([sys.executable, str(script), str(lib.path), str(seed)]) for seed in (1, 2, 3)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    assert sorted(where(lib)) == ["LTA001L9", "LTA002L9", "LTA003L9"]
    st_ = lib.status()
    for d in st_.drives:
        if d.full:
            lib.unload(d.number)
    for s in lib.status().slots:
        if s.full:
            with VirtualTape(lib.path / "slots" / str(s.number) / s.barcode) as vt:
                assert vt.medium().barcode == s.barcode


# --- the import/export (mail) slots: export/import by the robot, insert/remove by the operator -------------

def test_export_full_cartridge_take_it_out_insert_a_new_one_and_import_it(lib: VirtualLibrary, tmp_path: Path) -> None:
    """The DIT's round: the full cartridge goes to the mail slot, out of the library, a blank one comes in."""
    lib.load(2, 0)
    with lib.open_drive(0) as dev:
        dev.write_record(b"full of footage")
        dev.write_filemarks(1)
    assert lib.export_cartridge("LTA002L9") == 5                # out of the drive, straight to the mail slot
    assert lib.status().slot(5) == SlotInfo(5, "LTA002L9", True, import_export=True)
    assert lib.status().drive(0).full is False
    assert lib.export_cartridge("LTA002L9") == 5                # already there: nothing moves
    shelf = tmp_path / "shelf"
    out = lib.remove(shelf)
    assert out == shelf / "LTA002L9" and "LTA002L9" not in where(lib)
    with VirtualTape(out) as vt:                                 # the data left with the cartridge
        assert vt.read_record() == b"full of footage"
    assert lib.insert(barcode="LTA009L9") == ("LTA009L9", 5)
    with VirtualTape(lib.path / "slots/5/LTA009L9") as vt:       # a blank like the library's own: 4 MB, LTO-9
        assert vt.barcode == "LTA009L9" and vt.generation.name == "LTO-9" and vt.capacity == 4 * MB
    assert lib.import_cartridge() == ("LTA009L9", 5, 2)          # into the first empty storage slot
    assert where(lib) == {"LTA001L9": "slot 1", "LTA009L9": "slot 2", "LTA003L9": "slot 3", "LTA004L9": "slot 4"}
    # the old cartridge comes back later: in through the mail slot, stored where we say
    lib.transfer(2, 5)
    lib.import_cartridge(5, 2)
    lib.export_cartridge("LTA004L9")
    lib.remove(tmp_path / "shelf2")
    assert lib.insert(cartridge=out) == ("LTA002L9", 5) and not out.exists()
    assert lib.import_cartridge(slot=4) == ("LTA002L9", 5, 4)
    with lib.open_drive(lib.load_barcode("LTA002L9")) as dev:
        assert dev.read_record() == b"full of footage"


def test_mail_slot_refusals_move_nothing(lib: VirtualLibrary, tmp_path: Path) -> None:
    before = where(lib)
    with pytest.raises(EmptySlot, match="cannot import: every import/export slot of .* is empty"):
        lib.import_cartridge()
    with pytest.raises(UsageError, match="slot 3 is a storage slot, not an import/export slot .*5"):
        lib.export_cartridge("LTA001L9", ie_slot=3)
    with pytest.raises(CartridgeNotFound, match="cannot export XYZ001L9"):
        lib.export_cartridge("XYZ001L9")
    with pytest.raises(EmptySlot, match="import/export slot 5 is empty"):
        lib.remove(tmp_path / "out", ie_slot=5)
    lib.export_cartridge("LTA001L9")
    with pytest.raises(SlotFull, match="cannot export LTA002L9: every import/export slot .* is full"):
        lib.export_cartridge("LTA002L9")
    with pytest.raises(SlotFull, match="import/export slot 5 holds LTA001L9"):
        lib.export_cartridge("LTA002L9", ie_slot=5)
    with pytest.raises(SlotFull, match="every import/export slot"):
        lib.insert(barcode="NEW001L9")
    with pytest.raises(UsageError, match="slot 5 is an import/export slot too"):
        lib.import_cartridge(slot=5)
    with pytest.raises(SlotFull, match="slot 2: it holds LTA002L9"):
        lib.import_cartridge(slot=2)
    (tmp_path / "out" / "LTA001L9").mkdir(parents=True)
    with pytest.raises(UsageError, match="exists"):
        lib.remove(tmp_path / "out")
    lib.import_cartridge()                                       # back into slot 1, its empty home
    with pytest.raises(UsageError, match="already holds a cartridge with that barcode .in slot 3"):
        lib.insert(barcode="LTA003L9")
    with pytest.raises(UsageError, match="not both"):
        lib.insert(barcode="A", cartridge=tmp_path)
    assert where(lib) == before
    full = create_vlib(tmp_path / "full", drives=1, slots=2, capacity=MB, import_export=1)
    full.insert(barcode="NEW001L9")
    with pytest.raises(SlotFull, match="every storage slot .* is full; export one first"):
        full.import_cartridge()
    bare = create_vlib(tmp_path / "bare", drives=1, slots=2, capacity=MB)
    with pytest.raises(UsageError, match="has no import/export slot"):
        bare.export_cartridge("LTA001L9")


def test_mail_slot_busy_changer_and_cartridge_in_use(lib: VirtualLibrary, tmp_path: Path) -> None:
    lib.export_cartridge("LTA003L9")
    with VirtualTape(lib.path / "slots/5/LTA003L9"):             # a job has it open: the operator may not take it
        with pytest.raises(ChangerBusy, match="in use"):
            lib.remove(tmp_path / "out")
        with pytest.raises(ChangerBusy, match="in use"):
            lib.import_cartridge()
    fd = os.open(lib.path / ".changer.lock", os.O_RDWR)          # another process moves the robot
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(ChangerBusy):
            lib.import_cartridge()
        with pytest.raises(ChangerBusy):
            lib.remove(tmp_path / "out")
    finally:
        os.close(fd)
    assert where(lib)["LTA003L9"] == "slot 5"
