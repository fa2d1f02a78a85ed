"""Where a job that spans cartridges gets its next cartridge.

A `CartridgeSupply` hands out cartridges as loaded TapeDevices: `first()` the one
to start on, `next(full, ...)` the following one once `full` is full (it unloads
`full` first). Three kinds:

- `LibrarySupply`: a library (vlib:DIR, mtx) loads the next cartridge whose barcode
  matches a pattern and that is blank or appendable, and puts the full one back.
- `CommandSupply`: one drive; `--next-tape-command CMD` is run to change the
  cartridge (an autoloader script, a test); its exit status 0 means "loaded".
- `PromptSupply`: one drive; the operator is asked to load the next cartridge.

Every supply refuses a cartridge it already handed out in this set (the same
barcode twice), a write-protected one, or one of a generation we must not write.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from ..errors import DeviceError, LtoArchiveError, NoNextCartridge, UsageError, WriteProtected
from ..library.base import Library
from ..problems import summarise
from ..devices import open_device
from ..tape import check_medium_writable
from ..tape.device import TapeDevice

if TYPE_CHECKING:
    from ..tape.device import MediumInfo


Acceptance = Callable[[TapeDevice, "MediumInfo"], "str | None"]


class CartridgeSupply(Protocol):
    """Hands a spanning job its cartridges, one at a time, in one drive."""

    drive: str    # how to name the drive to the operator
    # what the job needs of a cartridge beyond a writable one (an LTFS set: an LTFS volume, set by its
    # job): the reason a cartridge cannot take a volume, or None; None: a tape-file set (not partitioned)
    accepts: Acceptance | None

    def first(self) -> TapeDevice:
        """The cartridge to start the set on, loaded."""

    def next(self, full: TapeDevice, set_id: str, sequence: int) -> TapeDevice:
        """Unload `full` and load the cartridge for volume `sequence` (counted from 1).
        Raises NoNextCartridge when there is none."""

    def close(self) -> None:
        """Release the drive (the cartridge stays loaded)."""


# Why a cartridge cannot take the next volume, said of it ("LTA001L9 is write-protected"; in a summary
# "3 × is write-protected (LTA001L9, ...)"): never naming the cartridge, so that one reason groups many.
WRITE_PROTECTED = "is write-protected"
IN_THIS_SET = "already holds a volume of this set"
PARTITIONED = "is partitioned (an LTFS volume): a TAR set does not go on it"
BLANK_NOT_LTFS = "is blank (not an LTFS volume)"
DATA_NOT_LTFS = "holds data that is not an LTFS volume (TAR or CPIO): an LTFS set does not go on it"
UNFINISHED_LTFS = "holds an LTFS volume whose last write session did not finish"


def _usable(dev: TapeDevice, allow_old: bool, used: set[str], accepts: Acceptance | None = None) -> str | None:
    """Why `dev`'s cartridge cannot take the next volume (said of it, without its name), or None when it
    can. `accepts`: the job's own test (an LTFS set takes LTFS volumes only, a blank cartridge is not
    formatted for it: docs/spanning.md); without it, a tape-file set takes no partitioned cartridge."""
    try:
        med = dev.medium()
        check_medium_writable(med, allow_old=allow_old)
    except WriteProtected:
        return WRITE_PROTECTED
    except LtoArchiveError as exc:
        return f"cannot be written: {exc.message}"
    if med.barcode and med.barcode in used:
        return IN_THIS_SET
    if accepts is not None:
        return accepts(dev, med)
    if med.partitions > 1:
        return PARTITIONED
    return None


def advice(passed_over: Iterable[tuple[str, str]], where: str) -> str:
    """What to do about the cartridges passed over, (barcode, why) each, as commands that work as typed:
    `where` names the library or the drive as an option (`--library vlib:DIR`, `--device vtape:DIR`); a
    barcode of '' is the cartridge in that drive."""
    first: dict[str, list[str]] = {}
    for barcode, why in passed_over:
        first.setdefault(why, []).append(barcode)
    tips = []
    for why, what, command in ((BLANK_NOT_LTFS, "an LTFS set goes on LTFS volumes only, format it first", "format"),
                               (UNFINISHED_LTFS, "recover it first", "ltfs recover")):
        if why in first:
            codes = first[why]
            pick = f" --barcode {codes[0]}" if codes[0] else ""
            each = f" (and so each of the {len(codes)})" if len(codes) > 1 else ""
            tips.append(f"{what}: lto-archive {command} {where}{pick}{each}")
    if WRITE_PROTECTED in first:
        tips.append("a write-protected cartridge is used once its tab is slid to unlocked")
    return "; ".join(tips)


class LibrarySupply:
    """Cartridges from a library: the next matching barcode, in label order, that is blank or appendable."""

    def __init__(self, library: Library, pattern: str = "*", *, drive: int | None = None,
                 allow_old: bool = False, first_barcode: str | None = None) -> None:
        self.library, self.pattern, self.allow_old = library, pattern.upper(), allow_old
        self.first_barcode = first_barcode
        self.accepts: Acceptance | None = None    # (see CartridgeSupply)
        self._drive = drive
        self.used: set[str] = set()
        self.skipped: list[tuple[str, str]] = []     # (barcode, why) for every cartridge passed over
        self.current_barcode: str | None = None   # the label the robot read (drives without MAM do not say it)
        self.drive = f"{library.name} drive {drive if drive is not None else '?'}"

    def _candidates(self) -> list[str]:
        codes = sorted(b for b in self.library.status().barcodes() if fnmatch.fnmatchcase(b.upper(), self.pattern))
        if self.first_barcode and self.first_barcode in codes:
            codes.remove(self.first_barcode)
            codes.insert(0, self.first_barcode)
        return [b for b in codes if b not in self.used and all(b != code for code, _ in self.skipped)]

    def _load_next(self) -> TapeDevice:
        for barcode in self._candidates():
            drive = self.library.load_barcode(barcode, self._drive, put_back_idle=True)
            self._drive = drive
            self.drive = f"{self.library.name} drive {drive}"
            dev = self.library.open_drive(drive)
            why = _usable(dev, self.allow_old, self.used, self.accepts)
            if why is None:
                self.used.add(barcode)
                self.current_barcode = barcode
                return dev
            self.skipped.append((barcode, why))
            dev.close()
            self.library.unload(drive)
        raise NoNextCartridge(self.none_left(), library=self.library.name, pattern=self.pattern,
                              passed_over=[f"{b} {why}" for b, why in self.skipped])

    def none_left(self) -> str:
        """The one line that says why no cartridge is left: the reasons counted, a few barcodes each, and
        what to do (commands that work as typed)."""
        head = f"no blank or appendable cartridge matching {self.pattern!r} is left in {self.library.name}"
        if not self.skipped:
            return f"{head}: none matches"
        tip = advice(self.skipped, f"--library {self.library.name}")
        return f"{head}: {summarise(self.skipped)}" + (f"; {tip}" if tip else "")

    def first(self) -> TapeDevice:
        return self._load_next()

    def next(self, full: TapeDevice, set_id: str, sequence: int) -> TapeDevice:
        full.close()
        if self._drive is not None:
            self.library.unload(self._drive)
        return self._load_next()

    def close(self) -> None:
        pass


def library_supplies(library: Library, patterns: list[str], *, allow_old: bool = False,
                     first_barcode: str | None = None) -> list[LibrarySupply]:
    """One LibrarySupply per barcode pattern, each on its own free drive of `library`: the sets of a
    job written in one pass (docs/spanning.md). Refused before anything is loaded when the library
    has fewer free drives than patterns, a pattern matches no cartridge, or two patterns match the
    same one (two sets must never take each other's cartridges)."""
    if len(patterns) == 1:
        return [LibrarySupply(library, patterns[0], allow_old=allow_old, first_barcode=first_barcode)]
    if first_barcode:
        raise UsageError("--barcode names the first cartridge of one set: with several --barcodes patterns "
                         "(one set each), let each set start on its pattern's first cartridge")
    st = library.status()
    free = [d.number for d in st.drives if not d.full]
    if len(free) < len(patterns):
        raise UsageError(f"{len(patterns)} sets need {len(patterns)} free drives: {library.name} has "
                         f"{len(st.drives)} drive(s), {len(free)} free", library=library.name)
    codes = st.barcodes()
    owner: dict[str, str] = {}
    for pattern in patterns:
        matching = [b for b in codes if fnmatch.fnmatchcase(b.upper(), pattern.upper())]
        if not matching:
            raise UsageError(f"--barcodes {pattern!r} matches no cartridge in {library.name}", pattern=pattern)
        for b in matching:
            if b in owner:
                raise UsageError(f"--barcodes {owner[b]!r} and {pattern!r} both match {b}: each set needs "
                                 f"cartridges of its own", barcode=b)
            owner[b] = pattern
    return [LibrarySupply(library, p, drive=n, allow_old=allow_old) for p, n in zip(patterns, free)]


def _label_of(dev: TapeDevice) -> str:
    try:
        return dev.medium().barcode or "it"
    except LtoArchiveError:
        return "it"


class _OneDrive:
    """A single drive whose cartridge is changed from outside (a command or the operator)."""

    def __init__(self, spec: str, allow_old: bool) -> None:
        self.spec, self.drive, self.allow_old = spec, spec, allow_old
        self.used: set[str] = set()
        self.accepts: Acceptance | None = None    # (see CartridgeSupply)

    def _open(self) -> TapeDevice:
        dev = open_device(self.spec)
        why = _usable(dev, self.allow_old, self.used, self.accepts)
        if why is not None:
            label = _label_of(dev)
            dev.close()
            tip = advice([("", why)], f"--device {self.spec}")
            raise NoNextCartridge(f"the cartridge in {self.spec} cannot take the next volume: {label} {why}"
                                  + (f"; {tip}" if tip else ""), device=self.spec)
        barcode = dev.medium().barcode
        if barcode:
            self.used.add(barcode)
        return dev

    def first(self) -> TapeDevice:
        return self._open()

    @staticmethod
    def _unload(full: TapeDevice) -> None:
        try:
            full.unload()
        except DeviceError:
            pass          # a drive that cannot eject: the operator or the command takes it out
        full.close()

    def close(self) -> None:
        pass


class CommandSupply(_OneDrive):
    """`--next-tape-command CMD`: run through the shell with LTO_ARCHIVE_DRIVE, LTO_ARCHIVE_SET,
    LTO_ARCHIVE_SEQUENCE (the volume wanted) and LTO_ARCHIVE_FULL_BARCODE in its environment."""

    def __init__(self, spec: str, command: str, *, allow_old: bool = False) -> None:
        super().__init__(spec, allow_old)
        self.command = command

    def next(self, full: TapeDevice, set_id: str, sequence: int) -> TapeDevice:
        barcode = full.medium().barcode or ""
        self._unload(full)
        env = dict(os.environ, LTO_ARCHIVE_DRIVE=self.spec, LTO_ARCHIVE_SET=set_id,
                   LTO_ARCHIVE_SEQUENCE=str(sequence), LTO_ARCHIVE_FULL_BARCODE=barcode)
        try:
            proc = subprocess.run(self.command, shell=True, env=env)
        except OSError as exc:
            raise NoNextCartridge(f"--next-tape-command could not run: {exc.strerror}", command=self.command) \
                from None
        if proc.returncode != 0:
            raise NoNextCartridge(f"--next-tape-command exited {proc.returncode}: no cartridge for volume "
                                  f"{sequence}; the set stops at volume {sequence - 1}",
                                  command=self.command, status=proc.returncode)
        return self._open()


class PromptSupply(_OneDrive):
    """The operator changes the cartridge: `ask(message) -> bool` (False: stop the job)."""

    def __init__(self, spec: str, ask: Callable[[str], bool], *, allow_old: bool = False) -> None:
        super().__init__(spec, allow_old)
        self.ask = ask

    def next(self, full: TapeDevice, set_id: str, sequence: int) -> TapeDevice:
        barcode = full.medium().barcode or "the cartridge"
        self._unload(full)
        message = (f"{barcode} is full and unloaded (volume {sequence - 1} of set {set_id}). "
                   f"Load the next cartridge into {self.spec} and press Enter (q to stop)")
        while True:
            if not self.ask(message):
                raise NoNextCartridge(f"stopped by the operator: no cartridge for volume {sequence}",
                                      device=self.spec)
            try:
                return self._open()
            except (NoNextCartridge, DeviceError) as exc:
                message = f"{exc.message}. Load another cartridge into {self.spec} and press Enter (q to stop)"


def supply_for(spec: str, *, library: str | None = None, barcodes: str = "*", next_command: str | None = None,
               ask: Callable[[str], bool] | None = None, allow_old: bool = False) -> CartridgeSupply:
    """The supply a command line asks for: a library (`--library`, or a vlib:/changer `--device`),
    a command, or the operator."""
    from ..library.base import open_library
    lib_spec = library or (spec if spec.startswith("vlib:") else None)
    if lib_spec:
        drive = None
        return LibrarySupply(open_library(lib_spec), barcodes, drive=drive, allow_old=allow_old)
    if next_command:
        return CommandSupply(spec, next_command, allow_old=allow_old)
    if ask is None:
        raise UsageError("a job that spans cartridges on one drive needs --next-tape-command, or a terminal "
                         "to ask for the next cartridge")
    return PromptSupply(spec, ask, allow_old=allow_old)


__all__ = ["CartridgeSupply", "LibrarySupply", "library_supplies", "CommandSupply", "PromptSupply", "supply_for"]
