"""Library drives matched to their st devices by serial number (lto_archive/library/drive_map.py).

The changer's answers are tgt's, captured under tapevm (tests/scsi/examples.py), or built field by
field; the st drives are a sysfs tree like the VM's with scripted SCSI answers behind each node.
The same matching runs for real in tests/library/test_library_vm.py.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.errors import DeviceError, DeviceNotFound
from lto_archive.library import DriveInfo
from lto_archive.library.drive_map import ChangerDrives, map_drives, resolve, same_serial
from lto_archive.library.mtx import MtxLibrary
from lto_archive.tape.scsi import ScsiDevice, cdb
from lto_archive.tape.scsi.responses import DeviceIdentifier

from ..conftest import FIXTURES
from ..scsi import examples as ex
from ..scsi.fake import INVALID_OPCODE, FakeDrive, good


def vpd80(serial: str) -> bytes:
    return bytes([0x01, 0x80, 0x00, len(serial)]) + serial.encode()


def t10(serial: str) -> DeviceIdentifier:
    return DeviceIdentifier(2, 1, b"IBM     ULT3580-TD9     " + serial.encode() + bytes(4))


class Machine:
    """A sysfs tree (st drives, their sg nodes, the changer) and what each device node answers."""

    def __init__(self, root: Path) -> None:
        self.sysfs = root / "class"
        self.devices = root / "devices"
        self.answers: dict[str, dict[int, object] | Exception] = {}
        self.opened: list[tuple[str, bool]] = []

    def node(self, kind: str, name: str, address: str) -> Path:
        dev = self.devices / f"target{address.rsplit(':', 1)[0]}" / address
        dev.mkdir(parents=True, exist_ok=True)
        entry = self.sysfs / kind / name
        entry.mkdir(parents=True)
        (entry / "device").symlink_to(dev)
        return dev

    def drive(self, nst: str, sg: str, address: str, serial: str | None, *, in_sysfs: bool = False,
              sg_answers: bool = True) -> None:
        dev = self.node("scsi_tape", nst, address)
        self.node("scsi_generic", sg, address)
        (dev / "scsi_generic" / sg).mkdir(parents=True)
        if in_sysfs and serial:
            (dev / "vpd_pg80").write_bytes(vpd80(serial))
        answer = {cdb.INQUIRY: good(vpd80(serial))} if serial else {}
        self.answers[f"/dev/{sg}"] = answer if sg_answers else DeviceError(f"/dev/{sg}: permission denied")
        self.answers[f"/dev/{nst}"] = answer

    def changer(self, sg: str, address: str, answer: object) -> None:
        self.node("scsi_generic", sg, address)
        self.answers[f"/dev/{sg}"] = {cdb.READ_ELEMENT_STATUS: answer}

    def open_scsi(self, path: str, *, writable: bool = False) -> ScsiDevice:
        self.opened.append((path, writable))
        answer = self.answers.get(path)
        if answer is None:
            raise DeviceNotFound(f"no device at {path}")
        if isinstance(answer, Exception):
            raise answer
        return ScsiDevice(-1, name=path, transport=FakeDrive(dict(answer)))


def tgt_changer_answer(serials: list[str]) -> bytes:
    return ex.element_status(4, [ex.drive_element(2 + i, identifier=b"IBM     ULT3580-TD9     " + s.encode()
                                                  + bytes(4)) for i, s in enumerate(serials)])


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_same_serial() -> None:
    assert same_serial("beaf11", "beaf11") and same_serial(" HU19487T8K ", "hu19487t8k")
    assert same_serial("IBM ULT3580-TD8 1013000123", "1013000123")       # a vendor-specific identifier
    assert not same_serial("beaf11", "beaf1") and not same_serial("beaf11", "") and not same_serial("", "x")


def test_the_kernel_numbers_the_drives_against_the_changer_order(machine: Machine) -> None:
    """nst0 is the changer's second drive: the serials say so, whatever the numbering."""
    machine.drive("nst0", "sg0", "0:0:2:0", "beaf12")                  # serial from INQUIRY on its sg node
    machine.drive("nst1", "sg1", "0:0:1:0", "beaf11", in_sysfs=True)   # the kernel's copy, no open
    machine.changer("sg2", "0:0:3:0", good(tgt_changer_answer(["beaf11", "beaf12"])))
    m = map_drives("/dev/sg2", 2, given={}, fallbacks=[("tapevm", {0: "/dev/nst0", 1: "/dev/nst1"})],
                   sysfs=machine.sysfs, open_scsi=machine.open_scsi)
    assert m.devices == {0: "/dev/nst1", 1: "/dev/nst0"} and m.serials == {0: "beaf11", 1: "beaf12"}
    assert m.sources == {0: "serial", 1: "serial"} and m.notes == []
    assert ("/dev/sg2", True) in machine.opened                       # read-write, as mtx opens it
    assert ("/dev/sg1", False) not in machine.opened                  # nst1's serial came from sysfs
    assert ("/dev/sg0", False) in machine.opened and ("/dev/nst0", False) not in machine.opened


def test_tgt_cuts_the_last_identifier_short_the_order_fills_in_where_it_agrees(machine: Machine) -> None:
    """tapevm's case after its drives were probed in reverse: the changer names drive 0 only (tgt sends 8
    bytes short); TAPEVM_DRIVES disagrees with that serial and is not used; the SCSI address order agrees."""
    machine.drive("nst0", "sg0", "0:0:2:0", "beaf12")
    machine.drive("nst1", "sg1", "0:0:1:0", "beaf11")
    fallbacks = [("tapevm", {0: "/dev/nst0", 1: "/dev/nst1"}), ("sysfs", {0: "/dev/nst1", 1: "/dev/nst0"})]
    for answer, says in ((ex.TGT_ELEMENT_STATUS_VOLTAG_DVCID, "drive 1: the changer's identifier is cut short "
                          "('IBM     ULT3580-TD9     be')"),
                         (ex.TGT_ELEMENT_STATUS_VOLTAG_DVCID_AS_READ, "drive 1 (serial be): no st drive on this "
                          "machine has that serial; it may be cut short (it begins the serial of /dev/nst0)")):
        machine.answers["/dev/sg2"] = {cdb.READ_ELEMENT_STATUS: good(answer)}
        m = map_drives("/dev/sg2", 2, given={}, sysfs=machine.sysfs, open_scsi=machine.open_scsi, fallbacks=fallbacks)
        assert m.devices == {0: "/dev/nst1", 1: "/dev/nst0"} and m.sources == {0: "serial", 1: "sysfs"}
        assert m.serials == {0: "beaf11", 1: "beaf12"}                     # drive 1's from its own INQUIRY
        text = "; ".join(m.notes)
        assert says in text
        assert "the tapevm order disagrees with the serial numbers: not used" in text
        assert "drive 1: /dev/nst0 from the sysfs order" in text
    # "be" names no drive, but an order putting drive 1 on a device whose serial does not begin so is refused
    m = resolve(2, given={}, changer=ChangerDrives([t10("beaf11"), t10("be")]),
                serials={"/dev/nst1": "beaf11", "/dev/nst0": "xbeaf12"}, fallbacks=[("sysfs", {0: "/dev/nst1",
                                                                                                1: "/dev/nst0"})])
    assert m.devices == {0: "/dev/nst1"}
    # in the VM's own order the first fallback agrees and fills drive 1
    m = resolve(2, given={}, changer=ChangerDrives([t10("beaf11"), None]),
                serials={"/dev/nst0": "beaf11", "/dev/nst1": "beaf12"},
                fallbacks=[("tapevm", {0: "/dev/nst0", 1: "/dev/nst1"})])
    assert m.devices == {0: "/dev/nst0", 1: "/dev/nst1"} and m.sources == {0: "serial", 1: "tapevm"}


def test_a_changer_that_does_not_answer_falls_back_and_says_why(machine: Machine) -> None:
    machine.drive("nst0", "sg0", "0:0:1:0", "beaf11")
    machine.drive("nst1", "sg1", "0:0:2:0", "beaf12")
    machine.changer("sg2", "0:0:3:0", INVALID_OPCODE)
    m = map_drives("/dev/sg2", 2, given={}, sysfs=machine.sysfs, open_scsi=machine.open_scsi,
                   fallbacks=[("tapevm", {}), ("sysfs", {0: "/dev/nst0", 1: "/dev/nst1"})])
    assert m.devices == {0: "/dev/nst0", 1: "/dev/nst1"} and m.sources == {0: "sysfs", 1: "sysfs"}
    assert m.serials == {0: "beaf11", 1: "beaf12"}
    assert len(m.notes) == 1 and "the changer does not name its drives (/dev/sg2: READ ELEMENT STATUS: the drive " \
        "does not support this command" in m.notes[0]
    # no changer at all (and no st drive): the same fallback, the reason named
    m = map_drives("/dev/sg7", 2, given={}, sysfs=machine.sysfs / "none", open_scsi=machine.open_scsi,
                   fallbacks=[("tapevm", {0: "/dev/nst0", 1: "/dev/nst1"})])
    assert m.devices == {0: "/dev/nst0", 1: "/dev/nst1"} and "no device at /dev/sg7" in m.notes[0]


def test_unreadable_drive_serials_and_drives_this_machine_does_not_see(machine: Machine) -> None:
    machine.drive("nst0", "sg0", "0:0:1:0", None)                       # no VPD 0x80: serial unknown
    machine.drive("nst1", "sg1", "0:0:2:0", "beaf12", sg_answers=False)   # sg refused, st node answers
    machine.changer("sg2", "0:0:3:0", good(tgt_changer_answer(["beaf11", "beaf12", "OTHER9"])))
    m = map_drives("/dev/sg2", 3, given={}, sysfs=machine.sysfs, open_scsi=machine.open_scsi,
                   fallbacks=[("sysfs", {0: "/dev/nst0", 1: "/dev/nst1"})])
    assert m.devices == {0: "/dev/nst0", 1: "/dev/nst1"}
    assert m.sources == {0: "sysfs", 1: "serial"} and m.serials == {0: "beaf11", 1: "beaf12", 2: "OTHER9"}
    text = "; ".join(m.notes)
    assert "drive 0 (serial beaf11): no st drive on this machine has that serial" in text
    assert "drive 2 (serial OTHER9): no st drive on this machine has that serial" in text
    assert "/dev/nst0: serial unknown (/dev/nst0: the drive reports no serial number (VPD page 0x80))" in text
    # an order that puts a drive on a device whose serial belongs to another drive is refused whole
    m = resolve(2, given={}, changer=ChangerDrives([t10("A1"), t10("B2")]), serials={"/dev/nst0": "B2"},
                fallbacks=[("sysfs", {0: "/dev/nst0"})])
    assert m.devices == {1: "/dev/nst0"} and "the sysfs order disagrees with the serial numbers" in m.notes[-1]


def test_what_the_user_says_wins_and_a_contradiction_is_said(machine: Machine) -> None:
    machine.drive("nst0", "sg0", "0:0:1:0", "beaf11")
    machine.drive("nst1", "sg1", "0:0:2:0", "beaf12")
    machine.drive("nst2", "sg3", "0:0:4:0", "beaf13")
    machine.changer("sg2", "0:0:3:0", good(tgt_changer_answer(["beaf11", "beaf12", "beaf13"])))
    m = map_drives("/dev/sg2", 3, given={0: "/dev/nst1"}, sysfs=machine.sysfs, open_scsi=machine.open_scsi,
                   fallbacks=[("sysfs", {0: "/dev/nst2", 1: "/dev/nst1", 2: "/dev/nst0"})])
    assert m.devices == {0: "/dev/nst1", 2: "/dev/nst2"}          # drive 1's device is the one the user took
    assert m.sources == {0: "given", 2: "serial"}
    assert m.notes == ["drive 0 is /dev/nst1 as you said, but its serial number says otherwise "
                       "(the changer: beaf11, /dev/nst1: beaf12)"]
    m = map_drives("/dev/sg9", 1, given={0: "/dev/nst0"}, sysfs=machine.sysfs, open_scsi=machine.open_scsi)
    assert m.devices == {0: "/dev/nst0"} and m.notes == []       # every drive named: no changer, nothing to say


def test_identifier_count_differs_from_mtx_binary_and_duplicate_serials() -> None:
    m = resolve(2, given={}, changer=ChangerDrives([t10("A1")]), serials={"/dev/nst0": "A1"},
                fallbacks=[("sysfs", {0: "/dev/nst0"})])
    assert m.sources == {0: "sysfs"} and "reports 1 drive(s) with identifiers where mtx lists 2" in m.notes[0]
    naa = DeviceIdentifier(1, 3, bytes.fromhex("5000e11156304003"))
    m = resolve(2, given={}, changer=ChangerDrives([naa, t10("A1")]),
                serials={"/dev/nst0": "A1", "/dev/nst1": "A1"})
    assert m.devices == {} and "drive 0: the changer's identifier is binary (5000e11156304003)" in m.notes[0]
    assert "drive 1 (serial A1): several st devices have that serial (/dev/nst0, /dev/nst1)" in m.notes[1]


@pytest.fixture
def fake_mtx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in `mtx` printing captured status (the real one runs under tapevm)."""
    script = tmp_path / "bin" / "mtx"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\ncat "{FIXTURES / "mtx" / "status_drive1.txt"}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    for var in ("LTO_ARCHIVE_DRIVE_DEVICES", "TAPEVM"):
        monkeypatch.delenv(var, raising=False)


def test_mtx_library_status_and_cli_show_serials_and_devices(machine: Machine, fake_mtx: None,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    machine.drive("nst0", "sg0", "0:0:2:0", "beaf12")
    machine.drive("nst1", "sg1", "0:0:1:0", "beaf11")
    machine.changer("sg2", "0:0:3:0", good(ex.TGT_ELEMENT_STATUS_DVCID_AS_READ))
    lib = MtxLibrary("/dev/sg2", sysfs=machine.sysfs, open_scsi=machine.open_scsi, eject_before_unload=False)
    with caplog.at_level(logging.WARNING, logger="lto_archive.library.mtx"):
        st = lib.status()
        lib.status()
    assert st.drives == [DriveInfo(0, False, None, None, "/dev/nst1", serial="beaf11", device_source="serial"),
                         DriveInfo(1, True, "LTA002L9", 2, "/dev/nst0", serial="beaf12", device_source="sysfs")]
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "drive 1 (serial be): no st drive on this machine has that serial" in said[0]

    import cli.library_cmds as cmds
    from cli.main import cli as main
    monkeypatch.setattr(cmds, "open_library", lambda spec, drive_devices=None: MtxLibrary(
        spec, drive_devices=drive_devices, sysfs=machine.sysfs, open_scsi=machine.open_scsi))
    out = CliRunner().invoke(main, ["library", "status", "--library", "/dev/sg2"]).output
    lines = out.splitlines()
    assert lines[1] == "drive   0  empty                       /dev/nst1   serial beaf11"
    assert lines[2] == ("drive   1  LTA002L9    from slot 2     /dev/nst0   serial beaf12 (device by SCSI address "
                        "order, not checked by serial)")
    import json
    doc = json.loads(CliRunner().invoke(main, ["library", "status", "--library", "/dev/sg2", "--json"]).output)
    assert [(d["number"], d["device"], d["serial"], d["device_source"]) for d in doc["drives"]] == [
        (0, "/dev/nst1", "beaf11", "serial"), (1, "/dev/nst0", "beaf12", "sysfs")]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_kernel_order_whole_identifiers_always_win(data: st.DataObject) -> None:
    """Drives in any kernel order, some identifiers cut short, fallback orders right or wrong: a drive the
    changer names in full is always on its own device, no device serves two drives, and a right
    fallback order completes the mapping."""
    n = data.draw(st.integers(1, 6), label="drives")
    serials = data.draw(st.lists(st.text(alphabet="ABCDEF0123456789", min_size=4, max_size=10), min_size=n,
                                 max_size=n, unique=True), label="serials")
    perm = data.draw(st.permutations(range(n)), label="kernel order")      # drive i is /dev/nst{perm[i]}
    truth = {i: f"/dev/nst{perm[i]}" for i in range(n)}
    cut = data.draw(st.sets(st.integers(0, n - 1)), label="cut identifiers")
    idents = [t10(serials[i]) if i not in cut else
              DeviceIdentifier(2, 1, b"IBM     ULT3580-TD9     " + serials[i][:2].encode() + bytes(8))
              for i in range(n)]
    wrong = dict(enumerate(data.draw(st.permutations(sorted(truth.values())), label="a fallback order")))
    device_serials = {truth[i]: serials[i] for i in range(n)}
    for fallbacks in ([("sysfs", wrong)], [("tapevm", wrong), ("sysfs", truth)]):
        m = resolve(n, given={}, changer=ChangerDrives(idents), serials=device_serials, fallbacks=fallbacks)
        assert all(m.devices[i] == truth[i] for i in range(n) if i not in cut)
        assert len(set(m.devices.values())) == len(m.devices)
        assert all(m.serials[i] == serials[i] for i in m.devices if m.devices[i] == truth[i])
    if wrong == truth or any("tapevm order disagrees" in note for note in m.notes):
        assert m.devices == truth            # the right order was the one used (a wrong one can pass only
                                             # by swapping cut identifiers that start alike: nothing tells them apart)
