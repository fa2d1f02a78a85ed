"""One small exception hierarchy for the whole library.

Every error carries a message a DIT understands, the process exit code the CLI
uses for it, and its data (path, position, expected and actual hash) so that
scripts and reports never have to parse the message. The CLI maps these to exit
codes in one place; the library never prints or exits.
"""

from __future__ import annotations

import signal
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Stable, documented process exit codes (see docs/cli.md)."""

    OK = 0
    INTERNAL = 1          # a bug: please report it
    USAGE = 2             # wrong command line or options
    VERIFY_FAILED = 3     # at least one file did not match its checksum
    DEVICE = 4            # device missing, write-protected, full, wrong generation, I/O error
    INCOMPLETE = 5        # the job ran but some files were not copied or changed while read
    ARCHIVE = 6           # corrupt or unsafe archive, refused restore
    INTERRUPTED = 130     # stopped by SIGINT (Ctrl-C): what is complete is closed and logged
    TERMINATED = 143      # stopped by SIGTERM: likewise


class LtoArchiveError(Exception):
    """Base of every error lto-archive raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, for `--json` output and logs."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "exit_code": int(self.exit_code),
            **{k: (str(v) if not isinstance(v, (int, float, str, bool, type(None), list, dict)) else v)
               for k, v in self.data.items()},
        }


class UsageError(LtoArchiveError):
    """The request itself is wrong (bad option value, unknown device kind)."""

    exit_code = ExitCode.USAGE


# --- devices and media -------------------------------------------------------

class DeviceError(LtoArchiveError):
    """The tape device or cartridge cannot do what was asked."""

    exit_code = ExitCode.DEVICE


class DeviceNotFound(DeviceError):
    """No device at the given address (not connected, wrong path, no cartridge folder)."""


class NoMedium(DeviceError):
    """The drive is empty."""


class WriteProtected(DeviceError):
    """The cartridge's write-protect tab is set (or it is read-only)."""


class GenerationError(DeviceError):
    """The medium is too old for the job or cannot be written by this drive."""


class EndOfMedium(DeviceError):
    """The tape is physically full: the record was NOT written."""


class EndOfData(DeviceError):
    """Read past the last thing written on this partition (blank tape)."""


class MediumError(DeviceError):
    """The drive reported an unrecoverable read or write error."""


class ToolMissing(DeviceError):
    """A program the job needs (mkltfs, ltfs, ltfsck, umount) is not installed where we looked."""


class ToolFailed(DeviceError):
    """An external program (the LTFS software, umount) failed; its own messages are in `data`."""


# --- tape libraries (medium changers) ----------------------------------------

class ChangerError(DeviceError):
    """The library's robot cannot do what was asked (see lto_archive/library)."""


class EmptySlot(ChangerError):
    """The slot (or drive) to take a cartridge from holds none."""


class SlotFull(ChangerError):
    """The slot (or drive) to put a cartridge into already holds one."""


class DriveFull(SlotFull):
    """The drive to load already holds a cartridge."""


class ChangerBusy(ChangerError):
    """Another process is using the changer (or the drive) right now."""


class CartridgeNotFound(ChangerError):
    """No cartridge with that barcode is in the library."""


# --- sources -----------------------------------------------------------------

class NoNextCartridge(DeviceError):
    """A job that spans cartridges needs another one and gets none: the library has no more
    matching blank or appendable cartridge, or the operator / --next-tape-command stopped it."""


class SourceError(LtoArchiveError):
    """A source folder or file cannot be used (missing, not a folder, name clash)."""

    exit_code = ExitCode.USAGE


class UnstorableName(SourceError):
    """A source file's name cannot be stored in the target format as it is.

    lto-archive never renames a file to make it fit: the DIT renames it on disk
    (or leaves it out), so what is on tape always matches the source.
    """


# --- archives ----------------------------------------------------------------

class ArchiveError(LtoArchiveError):
    """What is on tape cannot be read as the archive it claims to be."""

    exit_code = ExitCode.ARCHIVE


class CorruptArchive(ArchiveError):
    """A header, checksum or length in the archive is wrong, or it ends too early."""


class UnsafePath(ArchiveError):
    """A member would be written outside the restore folder (../, absolute, symlink)."""


class RestoreConflict(ArchiveError):
    """The restore target exists and --overwrite was not given."""


# --- outcomes of whole jobs ---------------------------------------------------

class VerificationFailed(LtoArchiveError):
    """At least one file read back from tape does not match its recorded checksum."""

    exit_code = ExitCode.VERIFY_FAILED


class JobIncomplete(LtoArchiveError):
    """The job finished, but not every file was copied and proven."""

    exit_code = ExitCode.INCOMPLETE


class Interrupted(LtoArchiveError):
    """The job was stopped by a signal: SIGINT (Ctrl-C, exit 130) or SIGTERM (exit 143).

    After the first signal a write job stops at the next file boundary and closes its session with
    what is complete; after a second it stops at once. `signum` says which signal it was.
    """

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str, signum: int = signal.SIGINT, **data: Any) -> None:
        super().__init__(message, signal=signum, **data)
        self.signum = signum
        self.exit_code = ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.INTERRUPTED
