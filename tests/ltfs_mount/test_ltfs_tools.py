"""LtfsTools against fake mkltfs / ltfs / ltfsck / umount: exact argument lists and exit-code handling.

The exit codes and message IDs are the LTFS reference implementation's
(src/libltfs/ltfs_error.h, messages/bin_*/root.txt).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from lto_archive.errors import DeviceError, ExitCode, ToolFailed, ToolMissing, UsageError
from lto_archive.ltfs_tools import (CHECK_ERROR, CONSISTENT, CORRECTED, UNCORRECTED, LtfsTools, ToolResult,
                                    classify_check, ltfs_daemon_pids)

from . import calls, install_fake_tools, read_log

DEV = "/dev/sg3"


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Fake tools first (and alone) on PATH; .calls() lists what ran; .set(tool, exit=, output=, ...)."""
    log = tmp_path / "calls.jsonl"
    bin_dir = install_fake_tools(tmp_path / "bin", log)
    monkeypatch.setenv("FAKE_LTFS_LOG", str(log))
    monkeypatch.setenv("PATH", str(bin_dir))

    class Fake:
        def __init__(self) -> None:
            self.bin, self.log = bin_dir, log

        def calls(self) -> list[list[str]]:
            return calls(log)

        def set(self, tool: str, *, exit: int | None = None, output: str | None = None,
                sleep: float | None = None, daemon: float | None = None) -> None:
            key = tool.upper()
            for what, value in (("EXIT", exit), ("OUTPUT", output), ("SLEEP", sleep), ("DAEMON", daemon)):
                if value is not None:
                    monkeypatch.setenv(f"FAKE_{key}_{what}", str(value))

    return Fake()


@pytest.fixture
def mnt(tmp_path) -> Path:
    p = tmp_path / "mnt"
    p.mkdir()
    return p


# --- finding the programs ------------------------------------------------------------------

def test_missing_tool_names_it_and_where_we_looked(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    tools = LtfsTools()
    with pytest.raises(ToolMissing) as ei:
        tools.mkltfs(DEV)
    err = ei.value
    assert err.exit_code == ExitCode.DEVICE
    assert "mkltfs not found on PATH" in err.message and str(empty) in err.message
    assert "install the LTFS software" in err.message
    assert err.data["tool"] == "mkltfs"
    assert tools.missing() == ["mkltfs", "ltfs", "ltfsck"]


def test_missing_tool_under_a_prefix_names_the_prefix(tmp_path, fake):
    prefix = tmp_path / "opt-ltfs"
    (prefix / "bin").mkdir(parents=True)
    tools = LtfsTools(prefix=prefix)   # fakes on PATH are NOT used when a prefix is configured
    with pytest.raises(ToolMissing) as ei:
        tools.check(DEV)
    assert f"ltfsck not found in {prefix / 'bin'}" in ei.value.message
    assert "install the LTFS software" in ei.value.message
    assert ei.value.data["searched"] == [str(prefix / "bin")]
    assert fake.calls() == []


def test_tools_are_found_under_the_prefix(tmp_path, monkeypatch):
    log = tmp_path / "calls.jsonl"
    prefix = tmp_path / "opt-ltfs"
    install_fake_tools(prefix / "bin", log, tools=("mkltfs", "ltfs", "ltfsck"))
    monkeypatch.setenv("FAKE_LTFS_LOG", str(log))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    tools = LtfsTools(prefix=prefix)
    assert tools.missing() == []
    assert tools.find("ltfsck") == prefix / "bin" / "ltfsck"
    res = tools.mkltfs(DEV)
    assert res.argv == [str(prefix / "bin" / "mkltfs"), f"--device={DEV}"]
    assert calls(log) == [["mkltfs", f"--device={DEV}"]]


# --- mkltfs ----------------------------------------------------------------------------

def test_mkltfs_minimal_arguments(fake):
    res = LtfsTools().mkltfs(DEV)
    assert fake.calls() == [["mkltfs", f"--device={DEV}"]]
    assert res.returncode == 0 and res.argv[0] == str(fake.bin / "mkltfs")


def test_mkltfs_all_arguments(fake):
    fake.set("mkltfs", output="LTFS15013I Volume UUID is: 3b1c7d2e.\nLTFS15024I Medium formatted successfully.\n")
    res = LtfsTools(backend="sg").mkltfs(DEV, serial="ABC123", volume_name="DAY 01", blocksize=1048576,
                                         compression=False, force=True)
    assert fake.calls() == [["mkltfs", f"--device={DEV}", "--backend=sg", "--tape-serial=ABC123",
                             "--volume-name=DAY 01", "--blocksize=1048576", "--no-compression", "--force"]]
    assert res.message_ids == ["15013I", "15024I"]


def test_mkltfs_already_formatted_is_refused_with_its_message(fake):
    # mkltfs.c format_tape: without -f on an LTFS cartridge -> 15047E, 15048I, MKLTFS_USAGE_SYNTAX_ERROR (16)
    fake.set("mkltfs", exit=16, output="LTFS15049I Checking the medium (mount).\n"
                                       "LTFS15047E Medium is already formatted (-1021).\n"
                                       "LTFS15048I Need to specify -f or --force option to format this medium.\n")
    with pytest.raises(ToolFailed) as ei:
        LtfsTools().mkltfs(DEV)
    err = ei.value
    assert err.exit_code == ExitCode.DEVICE
    assert "already formatted" in err.message and "force" in err.message
    assert "LTFS15047E Medium is already formatted (-1021)." in err.message
    assert err.data["reason"] == "already-formatted" and err.data["returncode"] == 16
    assert err.data["code_name"] == "MKLTFS_USAGE_SYNTAX_ERROR"


@pytest.mark.parametrize("code,name", [(8, "MKLTFS_OPERATIONAL_ERROR"), (16, "MKLTFS_USAGE_SYNTAX_ERROR"),
                                       (32, "MKLTFS_CANCELED_BY_USER"), (1, "MKLTFS_UNFORMATTED"),
                                       (99, "unknown exit code")])
def test_mkltfs_failures_carry_the_tools_lines(fake, code, name):
    fake.set("mkltfs", exit=code, output="LTFS15000I Starting mkltfs, LTFS version 2.4.8.2, log level 2.\n"
                                         "LTFS15009E Cannot open device '/dev/sg3' (-21700).\n")
    with pytest.raises(ToolFailed) as ei:
        LtfsTools().mkltfs(DEV)
    assert name in ei.value.message and f"exit {code}" in ei.value.message
    assert ei.value.data["messages"] == ["LTFS15009E Cannot open device '/dev/sg3' (-21700)."]


@pytest.mark.parametrize("kw", [{"serial": "abc123"}, {"serial": "ABC12"}, {"serial": "ABC1234"},
                                {"blocksize": 1024}, {"volume_name": "a/b"}])
def test_mkltfs_bad_options_are_refused_before_running(fake, kw):
    with pytest.raises(UsageError):
        LtfsTools().mkltfs(DEV, **kw)
    assert fake.calls() == []


@pytest.mark.parametrize("device", ["", "-f", "--force"])
def test_bad_device_names_are_refused_before_running(fake, mnt, device):
    tools = LtfsTools()
    for call in (lambda: tools.mkltfs(device), lambda: tools.check(device),
                 lambda: tools.mount(device, mnt, verify=False)):
        with pytest.raises(UsageError):
            call()
    assert fake.calls() == []


# --- ltfs (mount) --------------------------------------------------------------------------

def test_mount_arguments(fake, mnt, monkeypatch):
    monkeypatch.chdir(mnt.parent)
    res = LtfsTools(backend="sg").mount(DEV, Path("mnt"), sync_type="unmount",
                                        extra_options=["eject", "noatime"], verify=False)
    # the mount point is passed absolute: the background ltfs process is found by it at unmount
    assert fake.calls() == [["ltfs", "-o", f"devname={DEV}", "-o", "tape_backend=sg", "-o", "sync_type=unmount",
                             "-o", "eject", "-o", "noatime", str(mnt)]]
    assert res.returncode == 0 and not res.read_only


def test_mount_minimal_arguments(fake, mnt):
    LtfsTools().mount(DEV, mnt, verify=False)
    assert fake.calls() == [["ltfs", "-o", f"devname={DEV}", str(mnt)]]


@pytest.mark.parametrize("sync", ["time@10", "time", "close", "unmount", "TIME@0"])
def test_mount_sync_types_the_reference_accepts(fake, mnt, sync):
    LtfsTools().mount(DEV, mnt, sync_type=sync, verify=False)
    assert fake.calls()[0][-2] == f"sync_type={sync}"


@pytest.mark.parametrize("kw", [{"sync_type": "never"}, {"sync_type": "time@x"}, {"extra_options": ["-f"]}])
def test_mount_bad_options_are_refused_before_running(fake, mnt, kw):
    with pytest.raises(UsageError):
        LtfsTools().mount(DEV, mnt, verify=False, **kw)
    assert fake.calls() == []


def test_mount_point_must_be_a_folder(fake, tmp_path):
    with pytest.raises(UsageError, match="not an existing folder"):
        LtfsTools().mount(DEV, tmp_path / "nope", verify=False)
    with pytest.raises(UsageError, match="comma"):
        LtfsTools().mount("/dev/sg3,eject", tmp_path, verify=False)
    assert fake.calls() == []


def test_mount_failure_carries_ltfs_messages(fake, mnt):
    # src/main.c single_drive_main: ltfs_mount() < 0 -> 14013E, return 1
    fake.set("ltfs", exit=1, output="LTFS14000I LTFS starting, LTFS version 2.4.8.2, log level 2.\n"
                                    "LTFS11006E Cannot read volume: medium is not partitioned.\n"
                                    "LTFS14013E Cannot mount the volume.\n")
    with pytest.raises(ToolFailed) as ei:
        LtfsTools().mount(DEV, mnt, verify=False)
    err = ei.value
    assert err.exit_code == ExitCode.DEVICE and "could not mount" in err.message
    assert err.data["messages"] == ["LTFS11006E Cannot read volume: medium is not partitioned.",
                                    "LTFS14013E Cannot mount the volume."]


@pytest.mark.parametrize("msg_id,why", [("14019I", "write-protected"), ("14071I", "no space"),
                                        ("14078I", "read-only in this drive")])
def test_mount_read_only_is_reported(fake, mnt, msg_id, why):
    fake.set("ltfs", output=f"LTFS{msg_id} (the reference's text)\nLTFS14111I Initial setup completed successfully.\n")
    res = LtfsTools().mount(DEV, mnt, verify=False)
    assert res.read_only and why in res.read_only_reason


def test_mount_that_mounts_nothing_is_an_error(fake, mnt):
    # ltfs exits 0 once FUSE has mounted; a fake mounts nothing, and verify notices
    with pytest.raises(ToolFailed, match="nothing is mounted"):
        LtfsTools().mount(DEV, mnt)


def test_mount_returns_while_the_background_process_holds_stdout(fake, mnt):
    # FUSE leaves a daemon with ltfs's stdout/stderr: output goes to a file, so we do not wait for it
    fake.set("ltfs", daemon=5)
    t0 = time.monotonic()
    try:
        LtfsTools().mount(DEV, mnt, verify=False)
        assert time.monotonic() - t0 < 4
    finally:
        _kill_daemons(fake)


# --- umount --------------------------------------------------------------------------------

def _kill_daemons(fake) -> None:  # type: ignore[no-untyped-def]
    for entry in read_log(fake.log):
        if "daemon_pid" in entry:
            try:
                os.kill(entry["daemon_pid"], signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_unmount_arguments(fake, mnt):
    res = LtfsTools().unmount(mnt)
    assert fake.calls() == [["umount", str(mnt)]] and res.returncode == 0


def test_unmount_busy_is_a_clear_error(fake, mnt):
    fake.set("umount", exit=32, output=f"umount: {mnt}: target is busy.\n")
    with pytest.raises(ToolFailed) as ei:
        LtfsTools().unmount(mnt)
    assert "still open" in ei.value.message and "target is busy" in ei.value.message
    assert ei.value.data["returncode"] == 32


def test_unmount_falls_back_to_fusermount(fake, mnt):
    (fake.bin / "umount").unlink()
    tools = LtfsTools()
    tools.system_path = ""   # no real /bin/umount either
    tools.unmount(mnt)
    assert fake.calls() == [["fusermount", "-u", str(mnt)]]


def test_unmount_with_nothing_to_unmount_with(fake, mnt):
    (fake.bin / "umount").unlink()
    (fake.bin / "fusermount").unlink()
    tools = LtfsTools()
    tools.system_path = ""
    with pytest.raises(ToolMissing, match="neither umount nor fusermount"):
        tools.unmount(mnt)


def test_unmount_waits_for_ltfs_to_write_the_index(fake, mnt):
    """LTFS writes the final index after the kernel detached the mount: wait for the ltfs process."""
    fake.set("ltfs", daemon=1.5)
    tools = LtfsTools()
    try:
        tools.mount(DEV, mnt, verify=False)
        pids = ltfs_daemon_pids(mnt)
        assert pids == [e["daemon_pid"] for e in read_log(fake.log) if "daemon_pid" in e]
        t0 = time.monotonic()
        tools.unmount(mnt, wait=30)
        assert time.monotonic() - t0 >= 0.5
        assert ltfs_daemon_pids(mnt) == []
    finally:
        _kill_daemons(fake)


def test_unmount_says_when_ltfs_is_still_writing(fake, mnt):
    fake.set("ltfs", daemon=60)
    tools = LtfsTools()
    try:
        tools.mount(DEV, mnt, verify=False)
        with pytest.raises(DeviceError, match="still writing the index") as ei:
            tools.unmount(mnt, wait=0.3)
        assert "do not eject" in ei.value.message
        assert ei.value.data["pids"] == ltfs_daemon_pids(mnt)
    finally:
        _kill_daemons(fake)


# --- ltfsck ---------------------------------------------------------------------------------

def test_check_minimal_arguments(fake):
    fake.set("ltfsck", exit=1, output="LTFS16022I Volume is consistent.\n")
    LtfsTools().check(DEV)
    assert fake.calls() == [["ltfsck", DEV]]


def test_check_all_arguments(fake):
    fake.set("ltfsck", exit=1, output="LTFS16022I Volume is consistent.\n")
    LtfsTools(backend="file").check(DEV, recover=True, deep=True)
    assert fake.calls() == [["ltfsck", "--backend=file", "--full-recovery", "--deep-recovery", DEV]]


CHECKING = "LTFS16014I Checking LTFS file system on '/dev/sg3'.\n"


@pytest.mark.parametrize("code,output,status", [
    # check_ltfs_volume: a consistent volume returns LTFSCK_CORRECTED (1) with 16022I
    (1, CHECKING + "LTFS16022I Volume is consistent.\n", CONSISTENT),
    (1, CHECKING + "7f3a2c LTFS16022I Volume is consistent.\n", CONSISTENT),            # thread-id prefix
    (1, CHECKING + "LTFS11026I Performing a full medium consistency check.\n"
                   "LTFS16022I Volume is consistent.\n", CONSISTENT),                    # checking is not fixing
    (1, CHECKING + "LTFS11026I Performing a full medium consistency check.\n"
                   "LTFS11230I Writing index(es) to restore consistency.\n"
                   "LTFS16022I Volume is consistent.\n", CORRECTED),
    (1, CHECKING + "LTFS11022I Restoring volume consistency by writing an index to the index partition.\n"
                   "LTFS16022I Volume is consistent.\n", CORRECTED),
    (1, "LTFS16015I Rolling back LTFS file system on '/dev/sg3'.\n"
        "LTFS16086I Volume is rolled back successfully.\n", CORRECTED),
    (0, "", CONSISTENT),                                                                  # LTFSCK_NO_ERRORS
    (4, CHECKING + "LTFS11027E Cannot mount volume: medium consistency check failed.\n"
                   "LTFS16021E Volume is inconsistent and was not corrected.\n", UNCORRECTED),
    (2, "", CHECK_ERROR),                                                                 # REBOOT_REQUIRED
    (8, "LTFS16092E Cannot set up tape drive (/dev/sg3).\n", CHECK_ERROR),                # OPERATIONAL_ERROR
    (16, "LTFS16002E Option validation failed.\n", CHECK_ERROR),                          # USAGE_SYNTAX_ERROR
    (32, "", CHECK_ERROR),                                                                # CANCELED_BY_USER
    (64, "", CHECK_ERROR),                                                                # SHARED_LIB_ERROR
    (3, "", CHECK_ERROR),
])
def test_check_exit_codes_and_messages(fake, code, output, status):
    fake.set("ltfsck", exit=code, output=output)
    res = LtfsTools().check(DEV)
    assert res.returncode == code and res.status == status
    assert res.ok == (status in (CONSISTENT, CORRECTED))
    if res.ok:
        res.raise_for_status()
    else:
        with pytest.raises(ToolFailed) as ei:
            res.raise_for_status()
        assert ei.value.exit_code == ExitCode.DEVICE and ei.value.data["status"] == status
        for line in output.splitlines():
            if "E " in line:
                assert line in ei.value.message


def test_check_names_the_ltfsck_code():
    res = classify_check(ToolResult(["ltfsck", DEV], 8, "LTFS16011E Cannot open device '/dev/sg3'.\n"))
    with pytest.raises(ToolFailed, match="LTFSCK_OPERATIONAL_ERROR") as ei:
        res.raise_for_status()
    assert "LTFS16011E Cannot open device '/dev/sg3'." in ei.value.message


def test_check_uncorrected_says_so():
    res = classify_check(ToolResult(["ltfsck", DEV], 4, "LTFS16021E Volume is inconsistent and was not corrected.\n"))
    with pytest.raises(ToolFailed, match="inconsistent and ltfsck could not correct it"):
        res.raise_for_status()


def test_a_tool_that_hangs_is_stopped(fake):
    fake.set("ltfsck", sleep=30)
    t0 = time.monotonic()
    with pytest.raises(ToolFailed, match="did not finish within") as ei:
        LtfsTools(timeouts={"ltfsck": 0.5}).check(DEV)
    assert time.monotonic() - t0 < 10
    assert ei.value.data["timeout_s"] == 0.5


def test_results_serialise(fake):
    fake.set("ltfsck", exit=1, output="LTFS16022I Volume is consistent.\n")
    d = LtfsTools().check(DEV).to_dict()
    assert d["returncode"] == 1 and d["message_ids"] == ["16022I"] and d["argv"][1:] == [DEV]
