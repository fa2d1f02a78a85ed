"""VirtualTape specifics: on-disk layout, persistence, repair, capacity, write protect,
generations, faults, crash safety, and the LTFS reference's own cartridges."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lto_archive.errors import (DeviceError, DeviceNotFound, EndOfData, EndOfMedium, GenerationError,
                                MediumError, NoMedium, UsageError, WriteProtected)
from lto_archive.tape import Faults, VirtualTape, WriteFlags, create_vtape, mam
from lto_archive.tape.blocks import RECORD_OVERHEAD
from lto_archive.tape.vtape import (CONF_DEFAULTS, CONF_NAME, SIDECAR_NAME, TMP_PREFIX, read_conf,
                                    update_conf, warning_points)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures" / "ltfs-reference"


def objects(path: Path) -> list[str]:
    """Tape object files (P_B_T) in address order."""
    names = [n for n in os.listdir(path) if n[:1] in "01" and n.count("_") == 2]
    return sorted(names, key=lambda n: (int(n.split("_")[0]), int(n.split("_")[1]), n))


def e_markers(path: Path) -> list[str]:
    return sorted(n for n in os.listdir(path) if n.endswith("_E") and n[:1] in "01")


@pytest.fixture
def cart(tmp_path):
    vt = create_vtape(tmp_path / "ABC123L9", "LTO-9", capacity=10**8, barcode="ABC123L9")
    yield vt
    vt.close()


def copy_fixture(name: str, tmp_path: Path) -> Path:
    dst = tmp_path / name
    shutil.copytree(FIXTURES / name, dst)
    for p in [dst, *dst.iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


# --- layout -------------------------------------------------------------------------

def test_created_layout(tmp_path):
    path = tmp_path / "c"
    vt = create_vtape(path, "LTO-9", capacity=5 * 10**9, barcode="ABC123L9", partitions=2)
    vt.close()
    names = set(os.listdir(path))
    assert {"0_0_E", "1_0_E", CONF_NAME, SIDECAR_NAME, "attr_0_806"} <= names
    assert not [n for n in names if n.startswith(TMP_PREFIX)]
    conf = read_conf(path)
    assert list(conf) == list(CONF_DEFAULTS)                  # every element the reference writes, in order
    assert conf["cart_type"] == "L9" and conf["density_code"] == "60"
    assert conf["capacity_mb"] == str(5 * 10**9 // 2**20)
    assert conf["emulate_readonly"] == "false" and conf["dummy_io"] == "false"
    raw = (path / CONF_NAME).read_text()
    assert raw.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<filedebug_cartridge_config>\n    <dummy_io>')
    # barcode attribute exactly as the reference stores it
    assert (path / "attr_0_806").read_bytes() == b"\x08\x06\x01\x00\x20" + b"ABC123L9".ljust(32)
    side = json.loads((path / SIDECAR_NAME).read_text())
    assert side["capacity"] == 5 * 10**9 and side["drive_generation"] == "LTO-9"


def test_objects_on_disk_after_writes(cart):
    path = cart.path
    cart.write_record(b"a" * 10)
    cart.write_record(b"b" * 20)
    cart.write_filemarks(1)
    assert objects(path) == ["0_0_R", "0_1_R", "0_2_F", "0_3_E"]     # exact after a filemark
    cart.write_record(b"c")
    cart.close()
    assert objects(path) == ["0_0_R", "0_1_R", "0_2_F", "0_3_R", "0_4_E"]  # exact after close
    assert (path / "0_1_R").read_bytes() == b"b" * 20
    assert (path / "0_2_F").stat().st_size == 0


def test_e_marker_exact_after_moves(cart):
    for i in range(5):
        cart.write_record(b"x")
    cart.rewind()
    assert e_markers(cart.path) == ["0_5_E"]
    cart.locate(0, 2)
    cart.write_record(b"y")
    cart.locate(0, 0)
    assert objects(cart.path) == ["0_0_R", "0_1_R", "0_2_R", "0_3_E"]


def test_conf_elements_preserved_when_rewritten(tmp_path):
    path = tmp_path / "c"
    path.mkdir()
    (path / CONF_NAME).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<filedebug_cartridge_config>\n'
        "    <dummy_io>false</dummy_io>\n    <!-- keep me -->\n    <emulate_readonly>false</emulate_readonly>\n"
        "    <capacity_mb>100</capacity_mb>\n    <cart_type>L6</cart_type>\n    <density_code>5a</density_code>\n"
        "    <delay_mode>Emulate</delay_mode>\n    <wraps>80</wraps>\n    <future_knob>7</future_knob>\n"
        "</filedebug_cartridge_config>\n")
    update_conf(path, emulate_readonly=True, threading_sec=3)
    conf = read_conf(path)
    assert conf == {"dummy_io": "false", "emulate_readonly": "true", "capacity_mb": "100", "cart_type": "L6",
                    "density_code": "5a", "delay_mode": "Emulate", "wraps": "80", "future_knob": "7",
                    "threading_sec": "3"}
    assert "<!-- keep me -->" in (path / CONF_NAME).read_text()


def test_other_files_are_left_alone(cart):
    (cart.path / "notes.txt").write_text("hello")
    cart.write_record(b"x")
    cart.close()
    vt = VirtualTape(cart.path)
    assert (cart.path / "notes.txt").read_text() == "hello"
    vt.close()


# --- persistence and repair ------------------------------------------------------

def test_reopen_persists_everything(tmp_path):
    path = tmp_path / "c"
    vt = create_vtape(path, "LTO-9", capacity=10**6, barcode="PER001L9", partitions=2)
    vt.write_record(b"a" * 1000)
    vt.write_filemarks(1)
    vt.write_record(b"b" * 2000)
    vt.locate(1, 0)
    vt.write_record(b"c" * 3000)
    vt.close()
    vt = VirtualTape(path)
    assert vt.partitions == 2
    assert vt.eod(0) == 3 and vt.eod(1) == 1
    assert vt.used_bytes(0) == 3000 and vt.used_bytes(1) == 3000
    assert vt.medium().barcode == "PER001L9"
    assert vt.medium().remaining == 50_000 - 3000 - 3 * RECORD_OVERHEAD   # two records and a filemark
    assert [vt.read_record(), vt.read_record(), vt.read_record()] == [b"a" * 1000, b"", b"b" * 2000]
    vt.locate(0, 3)
    assert vt.position().file_number == 1
    vt.locate(1, 0)
    assert vt.read_record() == b"c" * 3000
    vt.close()


def test_open_repairs_what_a_crash_leaves(tmp_path):
    path = tmp_path / "c"
    create_vtape(path, "LTO-9", capacity=10**6).close()
    for name, data in [("0_0_R", b"r0"), ("0_1_F", b""), ("0_2_R", b"r2"), ("0_4_R", b"orphan"),
                       ("0_1_E", b""), ("0_9_E", b""), (TMP_PREFIX, b"half a rec")]:
        (path / name).write_bytes(data)
    (path / "0_0_E").unlink(missing_ok=True)
    vt = VirtualTape(path)
    assert vt.eod(0) == 3
    assert objects(path) == ["0_0_R", "0_1_F", "0_2_R", "0_3_E"]
    assert not (path / TMP_PREFIX).exists()
    assert [vt.read_record(), vt.read_record(), vt.read_record()] == [b"r0", b"", b"r2"]
    vt.close()


def test_interrupted_discard_stops_at_first_discarded_address(tmp_path):
    path = tmp_path / "c"
    vt = create_vtape(path, "LTO-9", capacity=10**6)
    for i in range(10):
        vt.write_record(bytes([i]) * 10)
    vt.close()
    (path / "0_5_R").unlink()      # a discard killed right after its first unlink
    vt = VirtualTape(path)
    assert vt.eod(0) == 5
    assert objects(path) == [f"0_{i}_R" for i in range(5)] + ["0_5_E"]
    vt.close()


def test_single_partition_when_partition_1_is_empty(tmp_path):
    path = tmp_path / "c"
    create_vtape(path, "LTO-9", capacity=10**6).close()
    vt = VirtualTape(path)
    assert vt.partitions == 1
    with pytest.raises(DeviceError, match="partition"):
        vt.locate(1, 0)
    vt.close()
    (path / "1_0_E").touch()
    vt = VirtualTape(path)
    assert vt.partitions == 2
    vt.close()


def test_open_errors(tmp_path):
    with pytest.raises(DeviceNotFound, match="does not exist"):
        VirtualTape(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeviceNotFound, match="not a virtual cartridge"):
        VirtualTape(tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DeviceNotFound):
        VirtualTape(tmp_path / "file")


def test_create_refuses_non_empty_folder(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        create_vtape(tmp_path / "full", "LTO-9")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError):
        create_vtape(tmp_path / "file", "LTO-9")
    (tmp_path / "emptydir").mkdir()
    create_vtape(tmp_path / "emptydir", "LTO-9").close()


def test_create_checks_arguments(tmp_path):
    with pytest.raises(GenerationError, match="partitioned"):
        create_vtape(tmp_path / "a", "LTO-4", partitions=2)
    with pytest.raises(UsageError):
        create_vtape(tmp_path / "b", "LTO-9", partitions=3)
    with pytest.raises(UsageError):
        create_vtape(tmp_path / "c", "LTO-9", barcode="X" * 33)
    with pytest.raises(UsageError):
        create_vtape(tmp_path / "d", "LTO-9", capacity=0)
    with pytest.raises(GenerationError):
        create_vtape(tmp_path / "e", "LTO-5", drive_generation="LTO-8")
    assert not any((tmp_path / n).exists() for n in "abcde")


def test_default_capacity_is_native(tmp_path):
    with create_vtape(tmp_path / "c", "LTO-9") as vt:
        assert vt.medium().capacity == 18 * 10**12


def test_in_use_by_another_object(cart):
    with pytest.raises(DeviceError, match="in use"):
        VirtualTape(cart.path)


def test_closed_device_refuses_io(cart):
    cart.close()
    with pytest.raises(DeviceError, match="closed"):
        cart.write_record(b"x")
    cart.close()      # idempotent


def test_unload_and_load(cart):
    cart.write_record(b"x")
    cart.unload()
    assert e_markers(cart.path) == ["0_1_E"]
    with pytest.raises(NoMedium):
        cart.position()
    VirtualTape(cart.path).close()   # the drive released the cartridge
    cart.load()
    assert cart.read_record() == b"x"


def test_read_buffer_too_small(cart):
    cart.write_record(b"x" * 100)
    cart.rewind()
    with pytest.raises(DeviceError, match="100 bytes"):
        cart.read_record(99)
    assert cart.position().block == 0
    assert cart.read_record(100) == b"x" * 100


def test_locate_past_eod(cart):
    cart.write_record(b"x")
    with pytest.raises(EndOfData):
        cart.locate(0, 5)
    assert cart.position().block == 1 and cart.position().eod


def test_space_backward_into_bop(cart):
    cart.write_record(b"a")
    cart.write_record(b"b")
    with pytest.raises(DeviceError):
        cart.space_filemarks(-1)
    assert cart.position().block == 0
    cart.seek_eod()
    with pytest.raises(DeviceError):
        cart.space_records(-3)
    assert cart.position().block == 0


def test_write_does_not_copy_or_mind_memoryview_format(cart):
    import array
    data = array.array("d", [1.5, 2.5, 3.5])
    cart.write_record(memoryview(data))
    cart.rewind()
    assert cart.read_record() == data.tobytes()


# --- capacity -------------------------------------------------------------------------

def test_default_warning_zones():
    assert warning_points(10**8) == (10**8 - 2 * 10**6, 10**8 - 10**6)
    assert warning_points(1000 * 1024) == (1000 * 1024 - 128 * 1024, 1000 * 1024 - 64 * 1024)
    assert warning_points(1000) == (0, 0)
    assert warning_points(10**6, 100, 50) == (10**6 - 100, 10**6 - 100)   # PEW zone never smaller


def test_capacity_flags_and_end_of_medium(tmp_path):
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=10_000, early_warning_bytes=1000,
                      programmable_early_warning_bytes=3000)
    flags = [vt.write_record(bytes(1000 - RECORD_OVERHEAD)) for _ in range(10)]   # each costs 1000
    assert flags[:7] == [WriteFlags.NONE] * 7                    # 7000 bytes: at the PEW point, not past
    assert flags[7] == WriteFlags.PROGRAMMABLE_EARLY_WARNING      # 8000
    assert flags[8] == WriteFlags.PROGRAMMABLE_EARLY_WARNING      # 9000: at EW point
    assert flags[9] == WriteFlags.PROGRAMMABLE_EARLY_WARNING | WriteFlags.EARLY_WARNING
    before = sorted(os.listdir(vt.path))
    with pytest.raises(EndOfMedium) as err:
        vt.write_record(b"x")
    assert "not written" in err.value.message
    assert sorted(os.listdir(vt.path)) == before                 # nothing written, no temp file
    assert vt.position().block == 10
    assert vt.medium().remaining == 0
    vt.write_filemarks(1)                      # a filemark is still written (its RECORD_OVERHEAD is charged)
    vt.locate(0, 5)
    pos = vt.position()
    assert not pos.programmable_early_warning and not pos.early_warning
    vt.locate(0, 9)
    assert vt.position().programmable_early_warning and not vt.position().early_warning
    vt.write_record(bytes(500))                                    # overwrite frees the rest
    assert vt.medium().remaining == 500 - RECORD_OVERHEAD
    vt.close()


def test_capacity_from_conf_when_no_sidecar(tmp_path):
    path = tmp_path / "c"
    create_vtape(path, "LTO-6", capacity=10**9).close()
    (path / SIDECAR_NAME).unlink()
    update_conf(path, capacity_mb=2)
    with VirtualTape(path) as vt:
        assert vt.medium().capacity == 2 * 2**20
        assert vt.medium().generation.name == "LTO-6"
        assert vt.medium().drive_generation.name == "LTO-7"      # newest writer of LTO-6 media


def test_two_partition_split(tmp_path):
    with create_vtape(tmp_path / "c", "LTO-9", capacity=1000, partitions=2) as vt:
        assert vt.partition_capacity(0) == 50 and vt.partition_capacity(1) == 950
        with pytest.raises(EndOfMedium):
            vt.write_record(bytes(51 - RECORD_OVERHEAD))
        vt.write_record(bytes(50 - RECORD_OVERHEAD))
        vt.locate(1, 0)
        vt.write_record(bytes(950 - RECORD_OVERHEAD))
        assert vt.medium().remaining == 0


# --- write protect ------------------------------------------------------------------

def test_write_protected_from_sidecar(tmp_path):
    path = tmp_path / "c"
    vt = create_vtape(path, "LTO-9", capacity=10**6, barcode="WP0001L9")
    vt.write_record(b"data")
    vt.close()
    side = json.loads((path / SIDECAR_NAME).read_text())
    side["write_protected"] = True
    (path / SIDECAR_NAME).write_text(json.dumps(side))
    vt = VirtualTape(path)
    assert vt.medium().write_protected
    with pytest.raises(WriteProtected) as err:
        vt.write_record(b"x")
    assert "WP0001L9" in err.value.message and "write-protect tab" in err.value.message
    with pytest.raises(WriteProtected):
        vt.write_filemarks(1)
    with pytest.raises(WriteProtected):
        vt.write_attribute(0, mam.USER_MEDIUM_TEXT_LABEL, b"x", mam.TEXT)
    assert vt.read_record() == b"data"
    vt.close()
    assert objects(path) == ["0_0_R", "0_1_E"]


def test_write_protected_from_emulate_readonly(tmp_path):
    path = tmp_path / "c"
    create_vtape(path, "LTO-9", capacity=10**6).close()
    update_conf(path, emulate_readonly=True)
    with VirtualTape(path) as vt:
        assert vt.medium().write_protected
        with pytest.raises(WriteProtected, match="emulate_readonly"):
            vt.write_record(b"x")


def test_write_protect_tab_from_code(cart):
    cart.write_protected = True
    with pytest.raises(WriteProtected):
        cart.write_record(b"x")
    cart.write_protected = False
    cart.write_record(b"x")


# --- generations ----------------------------------------------------------------------

def test_lto4_medium(tmp_path):
    with create_vtape(tmp_path / "c", "LTO-4", capacity=10**6) as vt:
        info = vt.medium()
        assert info.generation.name == "LTO-4"
        assert info.density_code == 0x46
        assert info.drive_generation.name == "LTO-5"
        assert read_conf(vt.path)["cart_type"] == "L4" and read_conf(vt.path)["density_code"] == "46"
        vt.write_record(b"allowed by the drive; jobs decide with check_writable")


def test_density_code_wins_over_cart_type(tmp_path):
    path = tmp_path / "c"
    create_vtape(path, "LTO-7", capacity=10**6, drive_generation="LTO-8").close()
    update_conf(path, density_code=0x5D)
    with VirtualTape(path) as vt:
        assert vt.medium().generation.name == "LTO-M8"
        assert vt.medium().drive_generation.name == "LTO-8"


def test_drive_that_reads_but_cannot_write(tmp_path):
    with create_vtape(tmp_path / "c", "LTO-5", capacity=10**6, drive_generation="LTO-7") as vt:
        assert vt.medium().drive_generation.name == "LTO-7"
        with pytest.raises(GenerationError, match="not write"):
            vt.write_record(b"x")


def test_drive_that_cannot_load(tmp_path):
    path = tmp_path / "c"
    create_vtape(path, "LTO-7", capacity=10**6).close()
    side = json.loads((path / SIDECAR_NAME).read_text())
    side["drive_generation"] = "LTO-9"
    (path / SIDECAR_NAME).write_text(json.dumps(side))
    with pytest.raises(GenerationError, match="cannot load"):
        VirtualTape(path)


@pytest.mark.parametrize("name,drive", [("LTO-9", "LTO-9"), ("LTO-8", "LTO-9"), ("LTO-7", "LTO-8"),
                                        ("LTO-M8", "LTO-8"), ("LTO-5", "LTO-6"), ("LTO-10", "LTO-10")])
def test_default_drive_generation(tmp_path, name, drive):
    with create_vtape(tmp_path / "c", name, capacity=10**6) as vt:
        assert vt.medium().generation.name == name
        assert vt.medium().drive_generation.name == drive


# --- cartridge memory ------------------------------------------------------------------

def test_attributes_round_trip(cart):
    cart.write_attribute(0, mam.USER_MEDIUM_TEXT_LABEL, "Día 1".encode().ljust(160), mam.TEXT)
    assert cart.read_attribute(0, mam.USER_MEDIUM_TEXT_LABEL).rstrip() == "Día 1".encode()
    assert (cart.path / "attr_0_803").read_bytes()[:5] == b"\x08\x03\x02\x00\xa0"
    assert cart.read_attribute(0, mam.MEDIA_POOL) is None
    assert cart.read_attribute(0, mam.BARCODE) == b"ABC123L9".ljust(32)
    assert cart.read_attribute(0, mam.MEDIUM_DENSITY_CODE) == b"\x60"
    cart.write_attribute(0, mam.BARCODE, mam.ascii_value("NEW001L9", 32), mam.ASCII)
    assert cart.medium().barcode == "NEW001L9"
    with pytest.raises(DeviceError):
        cart.read_attribute(1, mam.BARCODE)


def test_volume_change_reference_bumped_once_per_load(cart):
    assert cart.read_attribute(0, mam.VOLUME_CHANGE_REFERENCE) is None
    cart.write_record(b"x")
    cart.write_record(b"y")
    assert cart.read_attribute(0, mam.VOLUME_CHANGE_REFERENCE) == (2).to_bytes(4, "big")
    cart.unload()
    cart.load()
    cart.read_record()
    assert cart.read_attribute(0, mam.VOLUME_CHANGE_REFERENCE) == (2).to_bytes(4, "big")
    cart.write_filemarks(1)
    assert cart.read_attribute(0, mam.VOLUME_CHANGE_REFERENCE) == (3).to_bytes(4, "big")


# --- faults ------------------------------------------------------------------------------

def _assert_nothing_written(vt, block):
    assert vt.position().block == block
    assert vt.eod(vt.position().partition) == block
    assert not (vt.path / TMP_PREFIX).exists()


def test_fault_write_error_at_block(cart):
    cart.faults.write_error_at_block = 2
    cart.write_record(b"0")
    cart.write_record(b"1")
    with pytest.raises(MediumError, match="block 2"):
        cart.write_record(b"2")
    _assert_nothing_written(cart, 2)
    with pytest.raises(MediumError):
        cart.write_filemarks(1)
    _assert_nothing_written(cart, 2)
    cart.faults.write_error_at_block = None
    cart.write_record(b"2")


def test_fault_write_error_is_partition_aware(tmp_path):
    with create_vtape(tmp_path / "c", "LTO-9", capacity=10**6, partitions=2) as vt:
        vt.faults.write_error_at_block = 0
        vt.faults.write_error_partition = 1
        vt.write_record(b"p0 is fine")
        vt.locate(1, 0)
        with pytest.raises(MediumError):
            vt.write_record(b"x")


def test_fault_read_error_at_block(cart):
    for i in range(3):
        cart.write_record(bytes([i]))
    cart.faults.read_error_at_block = 1
    cart.rewind()
    assert cart.read_record() == b"\x00"
    with pytest.raises(MediumError):
        cart.read_record()
    assert cart.position().block == 1
    cart.space_records(1)
    assert cart.read_record() == b"\x02"


def test_fault_write_error_after_calls(cart):
    cart.write_record(b"before arming")
    cart.faults.write_error_after_calls = 3
    for i in range(3):
        cart.write_record(b"ok")
    with pytest.raises(MediumError, match="after 3 writes"):
        cart.write_record(b"fails")
    _assert_nothing_written(cart, 4)
    with pytest.raises(MediumError):
        cart.write_record(b"still fails")
    cart.faults.write_error_after_calls = None
    cart.write_record(b"ok again")


def test_fault_read_error_after_calls(cart):
    for i in range(5):
        cart.write_record(b"r")
    cart.rewind()
    cart.faults.read_error_after_calls = 2
    cart.read_record()
    cart.read_record()
    with pytest.raises(MediumError):
        cart.read_record()
    assert cart.position().block == 2


def test_fault_early_end_of_medium(cart):
    cart.faults.end_of_medium_at = 2500
    cart.write_record(bytes(1000))
    flags = cart.write_record(bytes(1000))
    assert flags == WriteFlags.NONE                 # no warning: the tape ends early by surprise
    with pytest.raises(EndOfMedium, match="ended early"):
        cart.write_record(bytes(1000))
    _assert_nothing_written(cart, 2)
    cart.write_record(bytes(500))


def test_faults_from_sidecar(tmp_path):
    path = tmp_path / "c"
    vt = create_vtape(path, "LTO-9", capacity=10**6,
                      faults={"write_error_at_block": 1, "read_error_at_block": 0, "end_of_medium_at": 5000})
    vt.write_record(b"0")
    with pytest.raises(MediumError):
        vt.write_record(b"1")
    vt.close()
    assert json.loads((path / SIDECAR_NAME).read_text())["faults"]["write_error_at_block"] == 1
    vt = VirtualTape(path)
    assert vt.faults.read_error_at_block == 0
    with pytest.raises(MediumError):
        vt.read_record()
    vt.close()
    side = json.loads((path / SIDECAR_NAME).read_text())
    side["faults"] = {"write_error_after_calls": 1, "read_error_after_calls": 0}
    (path / SIDECAR_NAME).write_text(json.dumps(side))
    vt = VirtualTape(path)
    with pytest.raises(MediumError):
        vt.read_record()
    vt.seek_eod()
    vt.write_record(b"1")
    with pytest.raises(MediumError):
        vt.write_record(b"2")
    vt.close()
    side["faults"] = {"end_of_medium_at": 1}
    (path / SIDECAR_NAME).write_text(json.dumps(side))
    with VirtualTape(path) as vt:
        vt.seek_eod()
        with pytest.raises(EndOfMedium):
            vt.write_record(b"x")


def test_save_settings_persists_api_changes(cart):
    cart.faults.read_error_at_block = 7
    cart.write_protected = True
    cart.save_settings()
    cart.close()
    with VirtualTape(cart.path) as vt:
        assert vt.faults.read_error_at_block == 7
        assert vt.medium().write_protected


def test_bad_sidecar_is_reported(tmp_path):
    path = tmp_path / "c"
    create_vtape(path, "LTO-9", capacity=10**6).close()
    (path / SIDECAR_NAME).write_text('{"fault": {}}')
    with pytest.raises(UsageError, match="unknown key"):
        VirtualTape(path)
    (path / SIDECAR_NAME).write_text('{"faults": {"write_error_at": 3}}')
    with pytest.raises(UsageError, match="unknown fault"):
        VirtualTape(path)
    (path / SIDECAR_NAME).write_text("{not json")
    with pytest.raises(UsageError, match="JSON"):
        VirtualTape(path)


def test_faults_reject_bad_values():
    with pytest.raises(UsageError):
        Faults(write_error_at_block=-1)
    f = Faults()
    assert not f.armed
    f.read_error_at_block = 3
    assert f.armed
    f.clear()
    assert not f.armed


# --- crash safety ---------------------------------------------------------------------------

CHILD = r"""
import random, sys
from lto_archive.tape import VirtualTape
path, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
def content(a):
    size = 1 + (a * 7919) % 150000
    return (a.to_bytes(4, "big") * (size // 4 + 1))[:size]
vt = VirtualTape(path)
vt.seek_eod()
print("ready", flush=True)
while True:
    b = vt.position().block
    if b > 0 and rng.random() < 0.03:
        vt.locate(0, max(0, b - rng.randint(1, 8)))     # overwrite: discards the rest
    elif b % 7 == 6:
        vt.write_filemarks(1, immediate=rng.random() < 0.5)
    else:
        vt.write_record(content(b))
"""


def _expected(a: int) -> bytes:
    if a % 7 == 6:
        return b""
    size = 1 + (a * 7919) % 150000
    return (a.to_bytes(4, "big") * (size // 4 + 1))[:size]


def test_sigkill_leaves_whole_records(tmp_path):
    path = tmp_path / "killme"
    create_vtape(path, "LTO-9", capacity=10**10).close()
    rng = random.Random(1234)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for round_ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(round_)],
                                stdout=subprocess.PIPE, env=env, cwd=str(REPO))
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.02, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        vt = VirtualTape(path)
        eod = vt.eod(0)
        for a in range(eod):
            assert vt.read_record(1 << 20) == _expected(a), f"address {a} after kill {round_}"
        with pytest.raises(EndOfData):
            vt.read_record()
        names = os.listdir(path)
        assert not [n for n in names if n.startswith(TMP_PREFIX)]
        assert e_markers(path) == [f"0_{eod}_E"]
        assert objects(path) == [f"0_{a}_{'F' if a % 7 == 6 else 'R'}" for a in range(eod)] + [f"0_{eod}_E"]
        vt.close()
    with VirtualTape(path) as vt:
        assert vt.eod(0) > 0


# --- the LTFS reference's cartridges ------------------------------------------------------

def _expected_sequence(path: Path, partition: int) -> list[bytes]:
    out = []
    a = 0
    while True:
        if (path / f"{partition}_{a}_F").exists():
            out.append(b"")
        elif (path / f"{partition}_{a}_R").exists():
            out.append((path / f"{partition}_{a}_R").read_bytes())
        else:
            assert (path / f"{partition}_{a}_E").exists()
            return out
        a += 1


def _read_partition(vt: VirtualTape, partition: int) -> list[bytes]:
    vt.locate(partition, 0)
    out = []
    while True:
        try:
            out.append(vt.read_record())
        except EndOfData:
            return out


def test_reference_empty_lto9(tmp_path):
    path = copy_fixture("empty-lto9", tmp_path)
    before = {n: (path / n).read_bytes() for n in os.listdir(path)}
    vt = VirtualTape(path)
    info = vt.medium()
    assert info.generation.name == "LTO-9"
    assert info.density_code == 0x60
    assert info.barcode == "LT9001"
    assert info.partitions == 2 and vt.partitions == 2
    assert info.capacity == 18000 * 2**20
    for p in (0, 1):
        seq = _read_partition(vt, p)
        assert seq == _expected_sequence(path, p)
        assert [len(r) if r else "F" for r in seq] == ([80, "F", 489, "F", "F", 994 if p == 0 else 883, "F"])
    assert seq[0].startswith(b"VOL1")                           # the LTFS label
    vt.close()
    after = {n: (path / n).read_bytes() for n in os.listdir(path)}
    assert after == before                                      # reading changes nothing


def test_reference_attributes_decode(tmp_path):
    path = copy_fixture("empty-lto9", tmp_path)
    with VirtualTape(path) as vt:
        attrs = vt.attributes(0)
        assert attrs[mam.APPLICATION_VENDOR].text() == "IBM"
        assert attrs[mam.APPLICATION_NAME].text() == "LTFS"
        assert attrs[mam.BARCODE].text() == "LT9001"
        assert attrs[mam.VOLUME_CHANGE_REFERENCE].number() == 1
        coh = mam.VolumeCoherency.decode_value(vt.read_attribute(1, mam.VOLUME_COHERENCY_INFORMATION))
        assert coh.ltfs_volume_uuid == "5036e6fd-d8a8-4e43-b16a-cf33a3857230"
        assert (coh.volume_change_reference, coh.generation, coh.block) == (1, 1, 5)
        assert coh.encode_value() == vt.read_attribute(1, mam.VOLUME_COHERENCY_INFORMATION)


@pytest.mark.parametrize("name", ["two-sessions-lto5", "crashed-before-unmount-lto5"])
def test_reference_lto5_cartridges_readable(tmp_path, name):
    path = copy_fixture(name, tmp_path)
    with VirtualTape(path) as vt:
        info = vt.medium()
        assert info.generation.name == "LTO-5" and info.density_code == 0x58
        assert info.barcode == ("FIX001" if name.startswith("two") else "FIX002")
        for p in (0, 1):
            assert _read_partition(vt, p) == _expected_sequence(path, p)


def test_appending_to_a_reference_cartridge_keeps_its_layout(tmp_path):
    path = copy_fixture("two-sessions-lto5", tmp_path)
    conf_before = (path / CONF_NAME).read_bytes()
    with VirtualTape(path) as vt:
        vt.locate(1, 0)
        vt.seek_eod()
        eod = vt.position().block
        vt.write_record(b"appended")
        vt.write_filemarks(1)
    assert e_markers(path) == ["0_7_E", f"1_{eod + 2}_E"]
    assert (path / f"1_{eod}_R").read_bytes() == b"appended"
    assert (path / CONF_NAME).read_bytes() == conf_before
    assert not (path / SIDECAR_NAME).exists()                  # we add nothing we do not need
