"""The LTFS software seen from outside: its commands, and the extended attributes of a mounted volume.

For machines with a drive and an installed LTFS (the reference implementation,
github.com/LinearTapeFileSystem/ltfs, or a vendor build of it):

    tools = LtfsTools()                                  # or LtfsTools(prefix=Path("/opt/ltfs"))
    tools.mkltfs("/dev/sg3", serial="ABC123", volume_name="DAY_01")
    tools.mount("/dev/sg3", Path("/mnt/ltfs"), sync_type="unmount")
    ... jobs.ltfs_mounted.write_to_mount([...], Path("/mnt/ltfs")) ...
    tools.unmount(Path("/mnt/ltfs"))                     # waits until ltfs has written the index
    tools.check("/dev/sg3").raise_for_status()

Every command runs with a timeout, its output (stdout and stderr together) is
captured, and a failure raises ToolFailed carrying the tool's own message lines
("LTFS15047E Medium is already formatted (-1)."); a tool that is not installed
raises ToolMissing naming it and where we looked. Options, exit codes and
message IDs below are those of the reference source (file names relative to
its repository).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .errors import DeviceError, ToolFailed, ToolMissing, UsageError
from .formats.ltfs.session import HASH_XATTR_PREFIX, HASH_XATTRS

# --- exit codes (src/libltfs/ltfs_error.h, "Common status code for external program") --------
# mkltfs
MKLTFS_NO_ERRORS = 0x00           # formatted
MKLTFS_UNFORMATTED = 0x01         # unformatted (only with --wipe, which we never pass)
MKLTFS_OPERATIONAL_ERROR = 0x08   # device error, the cartridge may be modified
MKLTFS_USAGE_SYNTAX_ERROR = 0x10  # wrong argument -- but also "already formatted", write-protected, WORM
MKLTFS_CANCELED_BY_USER = 0x20
# ltfsck ("Same as fsck")
LTFSCK_NO_ERRORS = 0x00           # no error, cartridge not modified
LTFSCK_CORRECTED = 0x01           # what a plain check returns when the volume IS consistent (see check())
LTFSCK_REBOOT_REQUIRED = 0x02
LTFSCK_UNCORRECTED = 0x04         # cannot recover
LTFSCK_OPERATIONAL_ERROR = 0x08   # device error while processing
LTFSCK_USAGE_SYNTAX_ERROR = 0x10
LTFSCK_CANCELED_BY_USER = 0x20
LTFSCK_SHARED_LIB_ERROR = 0x40
# ltfs (src/main.c): 0 when the volume is mounted (fuse_main has daemonized), 1 on any failure.

LTFSCK_CODE_NAMES = {
    LTFSCK_NO_ERRORS: "LTFSCK_NO_ERRORS", LTFSCK_CORRECTED: "LTFSCK_CORRECTED",
    LTFSCK_REBOOT_REQUIRED: "LTFSCK_REBOOT_REQUIRED", LTFSCK_UNCORRECTED: "LTFSCK_UNCORRECTED",
    LTFSCK_OPERATIONAL_ERROR: "LTFSCK_OPERATIONAL_ERROR", LTFSCK_USAGE_SYNTAX_ERROR: "LTFSCK_USAGE_SYNTAX_ERROR",
    LTFSCK_CANCELED_BY_USER: "LTFSCK_CANCELED_BY_USER", LTFSCK_SHARED_LIB_ERROR: "LTFSCK_SHARED_LIB_ERROR",
}
MKLTFS_CODE_NAMES = {
    MKLTFS_NO_ERRORS: "MKLTFS_NO_ERRORS", MKLTFS_UNFORMATTED: "MKLTFS_UNFORMATTED",
    MKLTFS_OPERATIONAL_ERROR: "MKLTFS_OPERATIONAL_ERROR", MKLTFS_USAGE_SYNTAX_ERROR: "MKLTFS_USAGE_SYNTAX_ERROR",
    MKLTFS_CANCELED_BY_USER: "MKLTFS_CANCELED_BY_USER",
}

# --- message IDs we act on (messages/*/root.txt; printed to stderr as "LTFS<id> <text>",
#     possibly after a thread id: src/libltfs/ltfslogging.c MSG_PREFIX / MSG_PREFIX_TID) --------
MSG_VOLUME_CONSISTENT = "16022I"     # bin_ltfsck: "Volume is consistent."  (exit 1, LTFSCK_CORRECTED)
MSG_VOLUME_INCONSISTENT = "16021E"   # bin_ltfsck: "Volume is inconsistent and was not corrected."
MSG_CANNOT_CHECK = "16080E"          # bin_ltfsck: "Cannot check volume (%d)."
MSG_ROLLED_BACK = "16086I"           # bin_ltfsck: "Volume is rolled back successfully."
#: libltfs messages that mean the check changed the cartridge to make it consistent
RECOVERY_MSGS = frozenset({
    "11022I",   # "Restoring volume consistency by writing an index to the index partition."
    "11223I",   # "Generating lost and found directory."
    "11230I",   # "Writing index(es) to restore consistency."
    "17138I",   # "Recovered EOD status successfully (%d)."
    MSG_ROLLED_BACK,
})
MSG_ALREADY_FORMATTED = "15047E"     # bin_mkltfs: "Medium is already formatted (%d)."  (exit 16 without -f)
MSG_FORMAT_OK = "15024I"             # bin_mkltfs: "Medium formatted successfully."
MSG_FORMAT_FAILED = "15012E"         # bin_mkltfs: "Failed to format the medium." (exit 16: write-protected)
MSG_FORMAT_WORM = "15061E"           # bin_mkltfs: "Failed to format the medium due to WORM error."
MSG_CANNOT_MOUNT = "14013E"          # bin_ltfs: "Cannot mount the volume."
#: bin_ltfs messages after which the volume is mounted, but read-only
READ_ONLY_MOUNT_MSGS = {
    "14019I": "the cartridge is write-protected",                       # "Medium is write protected. Mounting read-only."
    "14071I": "the cartridge has no space left to write data",         # "Medium has no space to write data. ..."
    "14072I": "it is a rollback mount of an older generation",         # "Rollback mount is specified. ..."
    "14073I": "the index partition has no space left for an index",
    "14074I": "the data partition has no space left for an index",
    "14077I": "it was mounted without the EOD check",                  # "The cartridge will be mounted as read-only."
    "14078I": "the medium is read-only in this drive",                 # "Medium is Read-Only in this device."
}

_MSG_RE = re.compile(r"\bLTFS(\d{5}[A-Z])\b")
_SERIAL_RE = re.compile(r"[0-9A-Z]{6}")          # src/libltfs/ltfs.c ltfs_set_barcode (15029E, 15030E)
_SYNC_RE = re.compile(r"(?i)(time(@\d+)?|close|unmount)")   # src/main.c validate_sync_option
LTFS_MIN_BLOCKSIZE = 4096                          # src/libltfs/ltfs.h (15028E)

# --- extended attributes of a mounted volume ------------------------------------------------
#: Linux exposes LTFS's attributes in the "user." namespace; libltfs strips it
#: (src/libltfs/xattr.c xattr_strip_name). Names below are without it.
XATTR_NAMESPACE = "user."
VOLUME_UUID = "ltfs.volumeUUID"         # any file or folder of a mounted volume: marks LTFS
SOFTWARE_PRODUCT = "ltfs.softwareProduct"   # "LTFS SDE" / "LTFS LE" (what ltfs_ordered_copy tests)
VOLUME_SERIAL = "ltfs.volumeSerial"     # root: the tape serial (barcode) given to mkltfs
VOLUME_NAME = "ltfs.volumeName"
VOLUME_BLOCKSIZE = "ltfs.volumeBlocksize"   # root
START_BLOCK = "ltfs.startblock"         # non-empty files: first block of the first extent (decimal)
PARTITION = "ltfs.partition"            # non-empty files: partition of the first extent, "a" or "b"
SYNC = "ltfs.sync"                      # root, write-only in effect: setting it (ANY value) writes the index
SYNC_VALUE = b"1"                       # xattr.c _xattr_set_virtual ignores the value: ltfs_sync_index(SYNC_EA)

#: Our hash algorithm -> the LTFS extended attribute holding its lowercase hex digest: the one
#: mapping, defined by our LTFS writer (formats/ltfs/session.py HASH_XATTRS) and used here too.
#: md5/sha1/sha256 are the LTFS Format Specification 2.4 names (Annex F.3, alongside crc32sum and
#: sha512sum); "ltfs.hash.*" is a stored VEA that goes into the index (xattr.c
#: _xattr_is_stored_vea), so any name under it is kept.
LTFS_HASH_XATTRS: dict[str, str] = HASH_XATTRS
#: Attribute name -> our algorithm, for reading: ours, and the names other LTFS tools write
#: for the xxhash family (LTFSCopyGUI: xxhash3sum = XXH3-64, xxhash128sum = XXH3-128).
LTFS_HASH_ALGORITHMS: dict[str, str] = {
    **{v: k for k, v in HASH_XATTRS.items()},
    "ltfs.hash.xxhash128sum": "xxh128",
    "ltfs.hash.xxhash3sum": "xxh3",
}


class XattrStore(Protocol):
    """Extended attributes by LTFS name (no "user." prefix); never follows symlinks."""

    def get(self, path: Path, name: str) -> str | None: ...
    def set(self, path: Path, name: str, value: bytes | str) -> None: ...
    def names(self, path: Path) -> list[str]: ...


class OsXattrs:
    """The real thing: os.getxattr / os.setxattr in the `namespace` ("user." on Linux)."""

    def __init__(self, namespace: str = XATTR_NAMESPACE) -> None:
        self.namespace = namespace

    def get(self, path: Path, name: str) -> str | None:
        try:
            raw = os.getxattr(path, self.namespace + name, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.E2BIG):
                return None
            raise
        return raw.rstrip(b"\0").decode("utf-8", "surrogateescape")

    def set(self, path: Path, name: str, value: bytes | str) -> None:
        data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        os.setxattr(path, self.namespace + name, data, follow_symlinks=False)

    def names(self, path: Path) -> list[str]:
        try:
            raw = os.listxattr(path, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
                return []
            raise
        n = len(self.namespace)
        return [x[n:] for x in raw if x.startswith(self.namespace)]


class DictXattrs:
    """In memory, keyed by absolute path: for tests on file systems without user xattrs."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], bytes] = {}

    @staticmethod
    def _key(path: Path) -> str:
        return os.path.abspath(path)

    def get(self, path: Path, name: str) -> str | None:
        raw = self.data.get((self._key(path), name))
        return None if raw is None else raw.decode("utf-8", "surrogateescape")

    def set(self, path: Path, name: str, value: bytes | str) -> None:
        if not os.path.lexists(path):
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
        self.data[(self._key(path), name)] = value.encode() if isinstance(value, str) else bytes(value)

    def names(self, path: Path) -> list[str]:
        k = self._key(path)
        return [n for (p, n) in self.data if p == k]


def user_xattrs_supported(folder: Path) -> bool:
    """Whether `folder`'s file system stores user.* attributes (ext4, xfs, btrfs, tmpfs >= 6.6 do)."""
    if not hasattr(os, "setxattr"):
        return False
    try:
        fd, name = tempfile.mkstemp(prefix=".xattr-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    try:
        os.setxattr(name, "user.lto-archive-probe", b"1")
        return os.getxattr(name, "user.lto-archive-probe") == b"1"
    except OSError:
        return False
    finally:
        os.unlink(name)


# --- results ------------------------------------------------------------------------------------

@dataclass
class ToolResult:
    """One run of an external program."""

    argv: list[str]
    returncode: int
    output: str                 # stdout and stderr, interleaved as the tool wrote them
    duration: float = 0.0

    @property
    def message_ids(self) -> list[str]:
        """LTFS message IDs in the order printed, e.g. ["16000I", ..., "16022I"]."""
        return _MSG_RE.findall(self.output)

    def has(self, *ids: str) -> bool:
        got = set(self.message_ids)
        return any(i in got for i in ids)

    def problem_lines(self, limit: int = 20) -> list[str]:
        """The tool's error and warning lines (LTFSnnnnnE/W), else its last lines."""
        lines = [l.strip() for l in self.output.splitlines() if l.strip()]
        bad = [l for l in lines if (m := _MSG_RE.search(l)) and m.group(1)[-1] in "EW"]
        return (bad or lines)[-limit:]

    def to_dict(self) -> dict[str, Any]:
        return {"argv": self.argv, "returncode": self.returncode, "output": self.output,
                "duration_s": round(self.duration, 3), "message_ids": self.message_ids}


@dataclass
class MountResult(ToolResult):
    read_only: bool = False
    read_only_reason: str = ""


#: CheckResult.status values
CONSISTENT = "consistent"       # nothing to fix
CORRECTED = "corrected"         # ltfsck changed the cartridge and it is consistent now
UNCORRECTED = "uncorrected"     # inconsistent and ltfsck could not fix it
CHECK_ERROR = "error"           # the check itself failed (device, usage, cancelled, library)


@dataclass
class CheckResult(ToolResult):
    status: str = CHECK_ERROR
    code_name: str = ""

    @property
    def ok(self) -> bool:
        return self.status in (CONSISTENT, CORRECTED)

    def raise_for_status(self) -> None:
        """ToolFailed (exit 4) unless the volume is consistent (or was made so)."""
        if self.ok:
            return
        what = ("the LTFS volume is inconsistent and ltfsck could not correct it"
                if self.status == UNCORRECTED else f"ltfsck could not check the volume ({self.code_name})")
        raise _failed(what, "ltfsck", self, status=self.status)


def _failed(what: str, tool: str, res: ToolResult, **data: Any) -> ToolFailed:
    lines = res.problem_lines()
    detail = ("; " + " | ".join(lines)) if lines else ""
    return ToolFailed(f"{what} (exit {res.returncode}){detail}", tool=tool, argv=res.argv,
                      returncode=res.returncode, messages=lines, **data)


# --- the tools ----------------------------------------------------------------------------------

LTFS_TOOLS = ("mkltfs", "ltfs", "ltfsck")
#: seconds; None waits for ever. A mount may run a full consistency check, ltfsck --deep-recovery takes hours.
DEFAULT_TIMEOUTS: dict[str, float | None] = {
    "mkltfs": 2 * 3600.0, "ltfs": 2 * 3600.0, "ltfsck": 12 * 3600.0, "umount": 600.0,
}
_SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INSTALL_HINT = ("install the LTFS software (the reference implementation from "
                "github.com/LinearTapeFileSystem/ltfs, or your drive vendor's LTFS)")


class LtfsTools:
    """Runs mkltfs, ltfs, ltfsck and umount.

    `prefix`: where the LTFS software is installed (its programs are looked up
    in prefix/bin only); None: on PATH. `backend`: the tape backend, e.g.
    "sg", "lin_tape", "file" (mkltfs/ltfsck --backend, ltfs -o tape_backend);
    None: the default of the LTFS configuration file.
    """

    def __init__(self, prefix: Path | None = None, backend: str | None = None, *,
                 timeouts: dict[str, float | None] | None = None, env: dict[str, str] | None = None) -> None:
        self.prefix = Path(prefix) if prefix is not None else None
        self.backend = backend
        self.timeouts = {**DEFAULT_TIMEOUTS, **(timeouts or {})}
        self.env = env
        self.system_path = _SYSTEM_PATH     # also searched for umount / fusermount
        if backend is not None and (not backend or "," in backend or backend.startswith("-")):
            raise UsageError(f"invalid LTFS tape backend name {backend!r}", backend=backend)

    # --- finding programs -----------------------------------------------------------------
    def _path(self) -> str:
        return (self.env or os.environ).get("PATH", os.defpath)

    def find(self, name: str) -> Path:
        """The program `name`, or ToolMissing saying where we looked."""
        if name in LTFS_TOOLS and self.prefix is not None:
            where = [self.prefix / "bin"]
            for d in where:
                p = d / name
                if p.is_file() and os.access(p, os.X_OK):
                    return p
            raise ToolMissing(f"{name} not found in {', '.join(map(str, where))}: {INSTALL_HINT}, "
                              f"or give the prefix it is installed under", tool=name,
                              searched=[str(d) for d in where])
        found = shutil.which(name, path=self._path())
        if found is None and name not in LTFS_TOOLS:
            found = shutil.which(name, path=self.system_path)   # umount lives in /bin or /sbin
        if found is None:
            hint = INSTALL_HINT + ", or give its install prefix" if name in LTFS_TOOLS else "install util-linux / fuse"
            raise ToolMissing(f"{name} not found on PATH ({self._path()}): {hint}", tool=name,
                              searched=self._path().split(os.pathsep))
        return Path(found)

    def missing(self) -> list[str]:
        """Which of mkltfs, ltfs, ltfsck cannot be found (an empty list: all there)."""
        out = []
        for name in LTFS_TOOLS:
            try:
                self.find(name)
            except ToolMissing:
                out.append(name)
        return out

    # --- running --------------------------------------------------------------------------
    def _run(self, tool: str, program: Path, args: Sequence[str], timeout_key: str) -> ToolResult:
        argv = [str(program), *args]
        timeout = self.timeouts.get(timeout_key)
        started = time.monotonic()
        # output to a file, not a pipe: ltfs forks a daemon (FUSE) that could keep a pipe open
        with tempfile.TemporaryFile() as out:
            try:
                cp = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    timeout=timeout, env=self.env, check=False)
            except subprocess.TimeoutExpired:
                out.seek(0)
                res = ToolResult(argv, -1, out.read().decode("utf-8", "replace"), time.monotonic() - started)
                raise _failed(f"{tool} did not finish within {timeout:.0f} s and was stopped", tool, res,
                              timeout_s=timeout) from None
            except OSError as exc:
                raise ToolFailed(f"cannot run {program}: {exc.strerror}", tool=tool, argv=argv) from exc
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        return ToolResult(argv, cp.returncode, text, time.monotonic() - started)

    @staticmethod
    def _check_device(device: str) -> str:
        device = str(device)
        if not device or device.startswith("-") or "\0" in device:
            raise UsageError(f"invalid tape device name {device!r}", device=device)
        return device

    # --- mkltfs ---------------------------------------------------------------------------
    def mkltfs(self, device: str, *, serial: str | None = None, volume_name: str | None = None,
               blocksize: int | None = None, compression: bool = True, force: bool = False) -> ToolResult:
        """Format the cartridge in `device` as LTFS (src/utils/mkltfs.c).

        `serial`: the 6-character volume serial (barcode), digits and capitals.
        Without `force`, mkltfs refuses a cartridge that is already LTFS (15047E).
        """
        device = self._check_device(device)
        if serial is not None and not _SERIAL_RE.fullmatch(serial):
            raise UsageError(f"tape serial {serial!r} must be 6 characters, digits and capital letters "
                             f"(mkltfs --tape-serial)", serial=serial)
        if blocksize is not None and (not isinstance(blocksize, int) or blocksize < LTFS_MIN_BLOCKSIZE):
            raise UsageError(f"LTFS block size must be an integer of at least {LTFS_MIN_BLOCKSIZE}",
                             blocksize=blocksize)
        if volume_name is not None and ("/" in volume_name or "\0" in volume_name or not volume_name):
            raise UsageError(f"volume name {volume_name!r} must be a valid file name", volume_name=volume_name)
        args = [f"--device={device}"]
        if self.backend:
            args.append(f"--backend={self.backend}")
        if serial is not None:
            args.append(f"--tape-serial={serial}")
        if volume_name is not None:
            args.append(f"--volume-name={volume_name}")
        if blocksize is not None:
            args.append(f"--blocksize={blocksize}")
        if not compression:
            args.append("--no-compression")
        if force:
            args.append("--force")
        res = self._run("mkltfs", self.find("mkltfs"), args, "mkltfs")
        if res.returncode == MKLTFS_NO_ERRORS:
            return res
        name = MKLTFS_CODE_NAMES.get(res.returncode, "unknown exit code")
        if res.has(MSG_ALREADY_FORMATTED):
            raise _failed(f"the cartridge in {device} is already formatted as LTFS: not formatted "
                          f"(pass force to erase it and format anyway)", "mkltfs", res,
                          reason="already-formatted", code_name=name)
        if res.has(MSG_FORMAT_WORM):
            raise _failed(f"the cartridge in {device} is WORM and cannot be formatted", "mkltfs", res,
                          reason="worm", code_name=name)
        raise _failed(f"mkltfs could not format the cartridge in {device} ({name})", "mkltfs", res,
                      code_name=name)

    # --- ltfs (mount) ---------------------------------------------------------------------
    def mount(self, device: str, mountpoint: Path, *, sync_type: str | None = None,
              extra_options: Iterable[str] = (), verify: bool = True) -> MountResult:
        """`ltfs -o devname=DEVICE [-o tape_backend=B] [-o sync_type=T] [-o OPT]... MOUNTPOINT` (src/main.c).

        `sync_type`: "time@MINUTES", "close" or "unmount" (LTFS's default is
        time@5). ltfs returns once FUSE has mounted the volume and gone to the
        background; `verify` then checks that `mountpoint` is a mount point.
        A volume LTFS mounted read-only is reported in the result
        (`read_only`, `read_only_reason`), not raised: reading works.
        """
        device = self._check_device(device)
        if "," in device:
            raise UsageError(f"device name {device!r} contains a comma, which FUSE's -o cannot pass",
                             device=device)
        mp = Path(os.path.abspath(mountpoint))
        if not mp.is_dir():
            raise UsageError(f"mount point {mp} is not an existing folder", path=str(mp))
        if sync_type is not None and not _SYNC_RE.fullmatch(sync_type):
            raise UsageError(f"sync_type {sync_type!r}: use time@MINUTES, close or unmount", sync_type=sync_type)
        args = ["-o", f"devname={device}"]
        if self.backend:
            args += ["-o", f"tape_backend={self.backend}"]
        if sync_type is not None:
            args += ["-o", f"sync_type={sync_type}"]
        for opt in extra_options:
            if not opt or opt.startswith("-"):
                raise UsageError(f"invalid ltfs -o option {opt!r}", option=opt)
            args += ["-o", opt]
        args.append(str(mp))
        res = self._run("ltfs", self.find("ltfs"), args, "ltfs")
        if res.returncode != 0:
            what = (f"LTFS could not mount the cartridge in {device}" if res.has(MSG_CANNOT_MOUNT)
                    else f"ltfs failed to mount {device} on {mp}")
            raise _failed(what, "ltfs", res)
        reason = next((r for i, r in READ_ONLY_MOUNT_MSGS.items() if res.has(i)), "")
        result = MountResult(res.argv, res.returncode, res.output, res.duration,
                             read_only=bool(reason), read_only_reason=reason)
        if verify and not os.path.ismount(mp):
            raise _failed(f"ltfs returned success but nothing is mounted on {mp}", "ltfs", res)
        return result

    # --- umount ---------------------------------------------------------------------------
    def unmount(self, mountpoint: Path, *, wait: float | None = 600.0) -> ToolResult:
        """`umount MOUNTPOINT` (or `fusermount -u` when there is no umount).

        LTFS writes its final index to both partitions after the kernel has
        detached the mount, in the background ltfs process (ltfs_fuse_umount).
        So this waits up to `wait` seconds for that process to exit: do not
        eject or unload before. None or 0: do not wait.
        """
        mp = os.path.abspath(mountpoint)
        try:
            program, args, tool = self.find("umount"), [mp], "umount"
        except ToolMissing:
            program = None
            for alt in ("fusermount3", "fusermount"):
                try:
                    program, args, tool = self.find(alt), ["-u", mp], alt
                    break
                except ToolMissing:
                    continue
            if program is None:
                raise ToolMissing("neither umount nor fusermount found: cannot unmount the LTFS volume; "
                                  "install util-linux or fuse", tool="umount") from None
        daemons = ltfs_daemon_pids(mp)
        res = self._run(tool, program, args, "umount")
        if res.returncode != 0:
            busy = "busy" in res.output.lower()
            raise _failed(f"could not unmount {mp}" + (" (files on it are still open)" if busy else ""),
                          tool, res)
        if wait and daemons:
            left = wait_for_exit(daemons, wait)
            if left:
                raise DeviceError(f"{mp} is unmounted, but the ltfs process (pid {', '.join(map(str, left))}) "
                                  f"is still writing the index after {wait:.0f} s: do not eject the "
                                  f"cartridge until it has finished", pids=left, path=mp)
        return res

    # --- ltfsck ---------------------------------------------------------------------------
    def check(self, device: str, *, recover: bool = False, deep: bool = False) -> CheckResult:
        """`ltfsck [--backend=B] [--full-recovery] [--deep-recovery] DEVICE` (src/utils/ltfsck.c).

        A check mounts the volume with recovery enabled: it may write an index
        to make the cartridge consistent. `recover` (--full-recovery) also
        saves data blocks the index does not know into _ltfs_lostandfound;
        `deep` (--deep-recovery) repairs a cartridge whose EOD is missing.

        The reference returns LTFSCK_CORRECTED (1) from a plain check even
        when nothing was wrong (check_ltfs_volume prints 16022I "Volume is
        consistent." and returns 1), so the status comes from the messages:
        1 with 16022I and none of RECOVERY_MSGS is "consistent". Never pass
        --quiet: it hides the INFO messages this relies on.
        Returns the result for every ltfsck exit code; `raise_for_status()`.
        """
        device = self._check_device(device)
        args = []
        if self.backend:
            args.append(f"--backend={self.backend}")
        if recover:
            args.append("--full-recovery")
        if deep:
            args.append("--deep-recovery")
        args.append(device)
        res = self._run("ltfsck", self.find("ltfsck"), args, "ltfsck")
        return classify_check(res)


def classify_check(res: ToolResult) -> CheckResult:
    """ltfsck's exit code and messages -> consistent / corrected / uncorrected / error."""
    rc = res.returncode
    name = LTFSCK_CODE_NAMES.get(rc, f"unknown exit code {rc}")
    if rc == LTFSCK_NO_ERRORS:
        status = CONSISTENT
    elif rc == LTFSCK_CORRECTED:
        changed = res.has(*RECOVERY_MSGS)
        status = CONSISTENT if res.has(MSG_VOLUME_CONSISTENT) and not changed else CORRECTED
    elif rc == LTFSCK_UNCORRECTED:
        status = UNCORRECTED
    else:
        status = CHECK_ERROR
    return CheckResult(res.argv, rc, res.output, res.duration, status=status, code_name=name)


# --- the background ltfs process ------------------------------------------------------------

def ltfs_daemon_pids(mountpoint: str | Path) -> list[int]:
    """Processes of `ltfs ... MOUNTPOINT` (Linux /proc; empty elsewhere).

    Matches a command line whose program (argv[0], or argv[1] for a script
    run by an interpreter) is named ltfs and which names the mount point.
    """
    mp = os.path.abspath(mountpoint)
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for e in entries:
        if not e.isdigit() or int(e) == os.getpid():
            continue
        try:
            with open(f"/proc/{e}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if not argv or mp not in argv[1:]:
            continue
        if os.path.basename(argv[0]) == "ltfs" or (len(argv) > 1 and os.path.basename(argv[1]) == "ltfs"):
            if _alive(int(e)):
                out.append(int(e))
    return out


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    state = stat[stat.rfind(b")") + 2:][:1]
    return state not in (b"Z", b"X")


def wait_for_exit(pids: Iterable[int], timeout: float, poll: float = 0.1) -> list[int]:
    """Wait until these processes are gone; the ones still running after `timeout`."""
    left = [p for p in pids if _alive(p)]
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        time.sleep(poll)
        left = [p for p in left if _alive(p)]
    return left


__all__ = ["HASH_XATTR_PREFIX", "LtfsTools", "ToolResult", "MountResult", "CheckResult", "classify_check", "XattrStore",
           "OsXattrs", "DictXattrs", "user_xattrs_supported", "LTFS_HASH_XATTRS", "LTFS_HASH_ALGORITHMS",
           "CONSISTENT", "CORRECTED", "UNCORRECTED", "CHECK_ERROR", "ltfs_daemon_pids", "wait_for_exit"]
