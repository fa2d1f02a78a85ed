"""LTFS volumes for scripts: format (mkltfs), check and recover (ltfsck) a cartridge."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ArchiveError, LtoArchiveError, UsageError
from ..formats.ltfs.recover import JournaledFile, check_volume, recover_volume
from ..formats.ltfs.volume import format_volume, open_volume
from ..formats.registry import LTFS, layout_on
from ..jobs.journal import find_journals, read_journal
from ..jobs.write import TOOL, prepare_medium
from ..span.ltfs_span import holds_data
from ..tape import TapeDevice, mam
from .logs import default_journals
from .targets import open_tape, parse_size
from .results import FormatResult, Wrapper


def has_data(dev: TapeDevice) -> bool:
    """Anything written on any partition of the loaded cartridge."""
    return holds_data(dev)


def is_ltfs(dev: TapeDevice) -> bool:
    """The loaded cartridge carries an LTFS volume (its VOL1 label)."""
    return LTFS.holds(dev)


def ltfs_volume_uuid(dev: TapeDevice) -> str | None:
    """The LTFS volume's uuid, or None when the cartridge is not an LTFS volume."""
    try:
        return str(open_volume(dev).label.volume_uuid)
    except ArchiveError:
        return None


def _serial_from(barcode: str | None, serial: str | None) -> str | None:
    if serial:
        return serial
    return barcode[:6].upper() if barcode else None


def format_ltfs(device: TapeDevice | str, *, barcode: str | None = None, volume_name: str | None = None,
                serial: str | None = None, block_size: str | int = "512K", force: bool = False,
                allow_old_generation: bool = False) -> FormatResult:
    """Format the cartridge as an empty LTFS volume (two partitions), like mkltfs. The volume serial is
    `serial`, else the first 6 characters of `barcode` (default: the cartridge's own label). A cartridge
    that holds data is refused unless `force`."""
    bs = parse_size(block_size)
    if bs < 4096:
        raise UsageError("LTFS needs a block size of at least 4K (512K is the standard)")
    if isinstance(device, str):
        with open_tape(device) as dev:
            return format_ltfs(dev, barcode=barcode, volume_name=volume_name, serial=serial, block_size=bs,
                               force=force, allow_old_generation=allow_old_generation)
    name = volume_name or ""
    prepare_medium(device, allow_old_generation)
    if not force and has_data(device):
        layout = layout_on(device)
        what = f"an {layout.name.upper()} volume" if layout is not None else "data"
        raise UsageError(f"the cartridge in {device.name} already holds {what}: formatting erases it all; "
                         f"add --force if that is what you want", device=device.name)
    state = format_volume(device, creator=f"{TOOL} - format",
                          serial=_serial_from(barcode or device.medium().barcode, serial),
                          volume_name=name, block_size=bs)
    label_cartridge(device, barcode)
    return FormatResult(state.serial, state.label.volume_uuid, name, bs, state.index.generation)


def label_cartridge(device: TapeDevice, barcode: str | None) -> None:
    """Write `barcode` into the cartridge memory of a cartridge that carries none (as mkltfs does), so that
    every later job, and the catalog, know the volume by it. A cartridge's own barcode is never changed."""
    write = getattr(device, "write_attribute", None)
    if not barcode or write is None or device.medium().barcode:
        return
    try:
        write(0, mam.BARCODE, mam.ascii_value(barcode.strip(), 32), mam.ASCII)
    except LtoArchiveError:
        pass    # a drive that refuses it: the volume is formatted all the same, and known by its uuid


class LtfsReport(Wrapper):
    """What `check_ltfs` or `recover_ltfs` found: the current index, data after it, what was done.
    Not `ok` when the volume is (still) inconsistent."""

    def __init__(self, raw: Any, problem: str, **data: Any) -> None:
        self.raw, self._problem, self._data = raw, problem, data

    @property
    def status(self) -> str:
        return "ok" if self.raw.consistent else "inconsistent"

    def raise_for_status(self) -> None:
        if not self.raw.consistent:
            raise ArchiveError(self._problem, **self._data)

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = self.raw.to_dict()
        return doc


def check_ltfs(device: TapeDevice | str) -> LtfsReport:
    """Whether the LTFS volume is consistent, and what a crash left behind (changes nothing)."""
    if isinstance(device, str):
        with open_tape(device) as dev:
            return check_ltfs(dev)
    report = check_volume(device)
    return LtfsReport(report, "the LTFS volume is not consistent: run 'lto-archive ltfs recover'",
                      unindexed_bytes=report.unindexed_bytes)


def recover_ltfs(device: TapeDevice | str, *, salvage: bool = False,
                 journal: str | Path | Sequence[str | Path] | None = None,
                 log_dir: str | Path | None | bool = None) -> LtfsReport:
    """Make the volume consistent and appendable after a crash, from its last good index; with `salvage`,
    data found after it is kept as unproven files in _ltfs_lostandfound/.

    The writers' job journals (`journal`: one path or several; else every journal in `log_dir` that names
    this volume's UUID, by default under the `logs/` folder beside the catalog (api/logs.py) and in an older
    ./lto-archive-logs; `log_dir=False`: none) bring back every file
    written after the last index whose bytes read back and match the journal's hashes."""
    if isinstance(device, str):
        with open_tape(device) as dev:
            return recover_ltfs(dev, salvage=salvage, journal=journal, log_dir=log_dir)
    prepare_medium(device, True)
    paths = _journal_paths(device, journal, log_dir)
    journaled: list[JournaledFile] = []
    uuid = ltfs_volume_uuid(device)
    for p in paths:
        contents = read_journal(p)
        if uuid is not None and uuid not in contents.volume_uuids:
            raise UsageError(f"the journal {p} is not of this LTFS volume (uuid {uuid}): it names "
                             + ", ".join(str(u) for u in contents.volume_uuids), journal=str(p))
        journaled += contents.on_volume(uuid) if uuid is not None else []
    report = recover_volume(device, creator=f"{TOOL} - recover", salvage=salvage, journaled=journaled)
    report.journals = [str(p) for p in paths]
    return LtfsReport(report, "the LTFS volume could not be made consistent")


def _journal_paths(device: TapeDevice, journal: str | Path | Sequence[str | Path] | None,
                   log_dir: str | Path | None | bool) -> list[Path]:
    if journal is not None:
        return [Path(journal)] if isinstance(journal, (str, Path)) else [Path(j) for j in journal]
    if log_dir is False:
        return []
    uuid = ltfs_volume_uuid(device)
    if uuid is None:
        return []
    if log_dir is None or log_dir is True:
        return default_journals(uuid)
    folder = Path(log_dir)
    return find_journals(folder, uuid) if folder.is_dir() else []


__all__ = ["format_ltfs", "check_ltfs", "recover_ltfs", "LtfsReport", "has_data", "is_ltfs", "ltfs_volume_uuid"]
