"""The virtual drive's health: counters, TapeAlert flags raised by fault knobs, and the cartridge's volume
statistics kept in its folder from load to load (tape/vtape_health.py), read as real log page bytes."""

from __future__ import annotations

import os

import pytest

from lto_archive.errors import MediumError, UsageError
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape import logpages as lp
from lto_archive.tape.drive_health import read_health, take_pending
from lto_archive.tape.vtape_health import HEALTH_NAME
from tests.tape.test_vtape import copy_fixture

MiB = 1 << 20


def _page(vt: VirtualTape, code: int) -> lp.LogPage:
    return lp.parse_page(vt.log_sense(code), code)


def test_a_new_cartridge_answers_every_health_page(tmp_path):
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=64 * MiB, barcode="HLT001L9")
    assert lp.supported_pages(vt.log_sense(lp.SUPPORTED_PAGES)) == [0x00, 0x02, 0x03, 0x14, 0x17, 0x2E]
    h = read_health(vt)
    assert (h.barcode, h.generation, h.load_count, h.mb_written, h.tapealert, h.notes) == (
        "HLT001L9", "LTO-9", 1, 0, [], [])         # MiB written: page 0x17 when the MAM has none yet
    assert h.write_errors["total_uncorrected"] == 0 and h.volume["volume_barcode"] == "HLT001L9"
    assert h.volume["total_native_capacity_mb"] == 64
    vt.close()


def test_mounts_and_megabytes_are_kept_by_the_cartridge(tmp_path):
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=64 * MiB, barcode="HLT002L9")
    for _ in range(3):
        vt.write_record(bytes(MiB))
    assert _page(vt, lp.WRITE_ERRORS).values["total_bytes_processed"] == 3 * MiB
    vt.close()
    assert (tmp_path / "c" / HEALTH_NAME).is_file()
    with VirtualTape(tmp_path / "c") as vt:
        vt.read_record(MiB)
        vt.seek_eod()
        vt.write_record(b"more")
        h = read_health(vt)
        assert (h.load_count, h.mb_written, h.mb_read) == (2, 3, 0)     # MAM: as of the last unload
        assert h.volume["last_mount_mb_written"] == 3 and h.volume["lifetime_mb_read"] == 1
    with VirtualTape(tmp_path / "c") as vt:
        h = read_health(vt)
        assert (h.load_count, h.mb_written, h.mb_read) == (3, 3, 1)
        vt.read_record(MiB)                   # a mount that only reads, cleanly, is not kept (docs/vtape.md)
    with VirtualTape(tmp_path / "c") as vt:
        assert read_health(vt).load_count == 3


def test_a_read_error_is_an_uncorrected_error_and_a_media_alert_that_outlives_the_mount(tmp_path):
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=64 * MiB, barcode="HLT003L9")
    vt.write_record(b"x" * 1000)
    vt.rewind()
    vt.faults.read_error_at_block = 0
    with pytest.raises(MediumError):
        vt.read_record()
    assert _page(vt, lp.READ_ERRORS).values["total_uncorrected"] == 1
    assert _page(vt, lp.TAPE_ALERT).tapealert_flags == [4, 5]
    assert _page(vt, lp.DEVICE_STATISTICS).values["hard_read_errors"] == 1
    vt.close()
    take_pending()
    with VirtualTape(tmp_path / "c") as vt:
        at_load = take_pending()[0]
        assert at_load.tapealert == [4, 5]                        # the cartridge's trouble, raised again
        assert at_load.volume["last_mount_unrecovered_read_errors"] == 1
        assert at_load.volume["unrecovered_read_errors"] == 1
        assert at_load.uncorrected_errors == 1
        assert _page(vt, lp.READ_ERRORS).values["total_uncorrected"] == 0    # a new mount counts afresh
        vt.read_record()                                          # a mount that used the cartridge, cleanly
    with VirtualTape(tmp_path / "c") as vt:
        assert read_health(vt).tapealert == []                    # a clean mount clears them


def test_a_mount_that_does_nothing_leaves_the_folder_as_it_was(tmp_path):
    create_vtape(tmp_path / "c", "LTO-9", capacity=64 * MiB).close()
    before = {n: (tmp_path / "c" / n).read_bytes() for n in os.listdir(tmp_path / "c")}
    with VirtualTape(tmp_path / "c") as vt:
        assert read_health(vt).load_count == 1
        vt.medium()
    assert {n: (tmp_path / "c" / n).read_bytes() for n in os.listdir(tmp_path / "c")} == before


def test_a_write_error_counts_too(tmp_path):
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=64 * MiB)
    vt.faults.write_error_after_calls = 1
    vt.write_record(b"a")
    with pytest.raises(MediumError):
        vt.write_record(b"b")
    assert _page(vt, lp.WRITE_ERRORS).values["total_uncorrected"] == 1
    assert _page(vt, lp.TAPE_ALERT).tapealert_flags == [4, 6]
    vt.close()


def test_corrected_errors_every_n_records(tmp_path):
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=64 * MiB)
    vt.faults.corrected_errors_every = 2
    for _ in range(5):
        vt.write_record(b"r" * 100)
    vt.rewind()
    for _ in range(4):
        vt.read_record()
    assert _page(vt, lp.WRITE_ERRORS).values["total_corrected"] == 2
    assert _page(vt, lp.READ_ERRORS).values["total_corrected"] == 2     # records 6 and 8 of the load
    vt.close()
    with VirtualTape(tmp_path / "c") as vt:
        assert read_health(vt).volume["recovered_write_errors"] == 2


def test_the_clean_knob_and_any_flag(tmp_path):
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=64 * MiB, faults={"clean_drive": 1})
    assert read_health(vt).tapealert == [20]
    vt.faults.tapealert_flag = 7
    assert _page(vt, lp.TAPE_ALERT).tapealert_flags == [7, 20]
    with pytest.raises(UsageError, match="1 to 64"):
        vt.faults.tapealert_flag = 65
    vt.close()


def test_the_references_cartridge_is_read_but_never_written(tmp_path):
    path = copy_fixture("empty-lto9", tmp_path)
    before = sorted(os.listdir(path))
    with VirtualTape(path) as vt:
        h = read_health(vt)
        assert h.barcode == "LT9001" and h.volume["volume_mounts"] == 1 and h.notes == []
        vt.read_record()
    assert sorted(os.listdir(path)) == before
