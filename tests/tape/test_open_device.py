from __future__ import annotations

import pytest

from lto_archive import devices, tape
from lto_archive.errors import DeviceNotFound, GenerationError, UsageError, WriteProtected
from lto_archive.generations import GENERATIONS
from lto_archive.tape import (NullTape, VirtualTape, check_medium_writable, create_vtape, open_device)


def test_vtape_spec(tmp_path):
    create_vtape(tmp_path / "c", "LTO-9", capacity=10**6).close()
    dev = open_device(f"vtape:{tmp_path / 'c'}")
    assert isinstance(dev, VirtualTape)
    dev.close()


def test_null_spec():
    assert isinstance(open_device("null:"), NullTape)


@pytest.mark.parametrize("spec", ["foo:bar", "nothing", "vtape:", "null:something"])
def test_bad_specs(spec):
    with pytest.raises(UsageError) as err:
        open_device(spec)
    if spec in ("foo:bar", "nothing"):
        assert "vtape:DIR" in err.value.message and "null:" in err.value.message


def test_the_tape_layer_knows_no_library_and_the_device_layer_names_every_kind():
    with pytest.raises(UsageError) as err:
        tape.open_device("vlib:/srv/vlib")
    assert "unknown device kind 'vlib'" in err.value.message and "vlib:DIR" not in err.value.message
    with pytest.raises(UsageError) as err:
        devices.open_device("foo:bar")
    assert all(kind in err.value.message for kind in devices.DEVICE_KINDS)
    assert "vlib:DIR" in devices.DEVICE_KINDS and "vlib:DIR" not in tape.TAPE_DEVICE_KINDS


@pytest.mark.parametrize("spec", ["/dev/st0", "st:/dev/st1", "/dev/st0l"])
def test_rewinding_st_nodes_are_refused_naming_the_non_rewinding_one(spec):
    with pytest.raises(UsageError, match=r"non-rewinding /dev/nst\d"):
        open_device(spec)


def test_missing_st_device(tmp_path):
    with pytest.raises(DeviceNotFound, match="no tape device"):
        open_device(f"st:{tmp_path / 'nst7'}")
    with pytest.raises(UsageError, match="not a SCSI tape"):
        open_device("st:/dev/null")
    with pytest.raises(UsageError, match="unknown st option"):
        open_device("st:/dev/nst0?blocks=512")


def test_missing_vtape(tmp_path):
    with pytest.raises(DeviceNotFound):
        open_device(f"vtape:{tmp_path / 'nope'}")


def test_check_medium_writable(tmp_path):
    with create_vtape(tmp_path / "a", "LTO-9", capacity=10**6) as vt:
        check_medium_writable(vt.medium())
    with create_vtape(tmp_path / "b", "LTO-9", capacity=10**6, write_protected=True) as vt:
        with pytest.raises(WriteProtected):
            check_medium_writable(vt.medium())
    with create_vtape(tmp_path / "c", "LTO-4", capacity=10**6) as vt:
        with pytest.raises(GenerationError):
            check_medium_writable(vt.medium())
        check_medium_writable(vt.medium(), allow_old=True)
    with create_vtape(tmp_path / "d", "LTO-7", capacity=10**6, drive_generation=GENERATIONS["LTO-8"]) as vt:
        check_medium_writable(vt.medium())
