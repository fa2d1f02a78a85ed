"""A source cartridge read into the staging folder: every session hashed on the way and proven, its hashes
compared with the catalog's, and each card's ASC MHL history given a "migration" generation.

A unit is one source session (a tape file and its manifest), or a whole LTFS volume. Each unit is restored
into `STAGING/<label>/<n>/` by the read engine (jobs/read.py: every file hashed as it streams and compared
with the session's manifest; a file lands under its real name only once proven), so the write that follows
reads nothing that was not proven.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..formats.registry import layout_on
from ..jobs.read import ReadResult, list_tape, restore_tape
from ..progress import ProgressCallback
from ..manifest import META_DIR, OK, Manifest
from ..mhl.model import HISTORY_FOLDER, TRANSFER, CreatorInfo
from ..mhl.reader import read_history
from ..mhl.writer import generation_from_manifest, write_generation
from ..tape import TapeDevice

MARGIN = 64 << 20          # room kept free in the staging folder beyond the files (metadata, histories)


@dataclass
class Unit:
    """One source session staged: its manifest, where its files are, what the read proved."""

    number: int | None                  # the tape file; None: a whole LTFS volume
    manifest: Manifest | None           # an LTFS volume's: from its index, once read (read_unit)
    folder: Path
    listed_size: int = 0                # the bytes of its files, as listed before anything is read
    read: ReadResult | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return [r.path for r in self.manifest.files if r.kind == "file"] if self.manifest is not None else []

    @property
    def size(self) -> int:
        return sum(r.size for r in self.manifest.files if r.kind == "file") if self.manifest is not None else 0

    def known(self) -> Manifest:
        """Its manifest, once known (an LTFS volume's after the read)."""
        if self.manifest is None:
            raise UsageError("the source's files are not known before it is read")
        return self.manifest

    def sources(self) -> list[Path]:
        """What the write reads: the staged cards (top-level entries), never the source's own metadata."""
        return sorted(p for p in self.folder.iterdir() if p.name != META_DIR)


def footage(path: str) -> bool:
    """Whether an indexed path is the source's footage: not its metadata (.lto-archive/), not a card's ASC MHL
    history (which travels on as a history, with its migration generation, never as files to compare)."""
    parts = path.split("/")
    return parts[0] != META_DIR and not (len(parts) > 2 and parts[1] == HISTORY_FOLDER)


def plan_units(dev: TapeDevice, staging: Path) -> list[Unit]:
    """The sessions on the source cartridge, from its manifests (no file data read)."""
    listing = list_tape(dev)
    if layout_on(dev) is not None:    # an LTFS volume is read as one unit, its files found by its index
        size = sum(m.size for t in listing.tape_files for m in t.members if m.kind == "file")
        return [Unit(None, None, staging / "volume", size)] if size or listing.tape_files else []
    units: list[Unit] = []
    for t in listing.tape_files:
        if t.manifest is None:
            raise UsageError(f"tape file {t.tape_file} of the source has no manifest: its files cannot be proven "
                             f"(verify it with its copy log first)", tape_file=t.tape_file)
        units.append(Unit(t.tape_file, t.manifest, staging / str(t.tape_file)))
        units[-1].listed_size = units[-1].size
    if not units:
        raise UsageError("the source cartridge holds no session to migrate")
    return units


def check_room(staging: Path, units: list[Unit]) -> int:
    """Refuse before anything is read when the staging folder's disk cannot hold the cartridge's files."""
    need = sum(u.listed_size for u in units) + MARGIN
    disk = next(p for p in (staging, *staging.parents) if p.exists())    # nothing is made before the check
    free = shutil.disk_usage(disk).free
    if free < need:
        raise UsageError(f"the staging folder {staging} has {free:,} bytes free; the source's files need "
                         f"{need:,} (with {MARGIN >> 20} MiB for metadata): give --staging on a disk with room",
                         staging=str(staging), free=free, needed=need)
    return need


def read_unit(dev: TapeDevice, unit: Unit, progress: ProgressCallback | None = None) -> None:
    """Restore one session into its staging folder, every file hashed and compared with its manifest."""
    unit.folder.mkdir(parents=True, exist_ok=False)     # STAGING/<label>/<n>
    tape_files = None if unit.number is None else [unit.number]
    unit.read = restore_tape(dev, unit.folder, tape_files=tape_files, progress=progress)
    r = unit.read
    if unit.manifest is None:         # an LTFS volume: what its index says, as the read proved it
        found = [t.manifest for t in r.tape_files if t.manifest is not None]
        if not found:
            unit.problems.append("the volume's index names no file to migrate")
            return
        unit.manifest = Manifest(found[0].session, [f for m in found for f in m.files if footage(f.path)])
    unit.problems += [f"{f['path']}: {f['reason']}" for f in r.failed]
    unit.problems += [e.message for e in r.errors]
    unit.problems += [f"{u['path']}: {u['reason']}" for u in r.unproven]
    unit.problems += [f"{x['path']}: not restored ({x.get('message', '')})" for x in r.refused]
    proven = {p for t in r.tape_files for p in t.verified}
    missing = [p for p in unit.files if p not in proven]
    if missing and not unit.problems:
        unit.problems.append(f"{len(missing)} file(s) were not proven by the read: {', '.join(missing[:5])}")


def compare_catalog(unit: Unit, catalogued: dict[str, dict[str, str]]) -> None:
    """Every file's hashes as read (its manifest's, which the read proved) against what the catalog holds."""
    for rec in unit.known().files if unit.manifest is not None else []:
        want = catalogued.get(rec.path)
        if rec.kind != "file" or not want:
            continue
        common = sorted(set(want) & set(rec.hashes))
        bad = [a for a in common if want[a].lower() != rec.hashes[a].lower()]
        if bad:
            unit.problems.append(f"{rec.path}: the catalog holds {bad[0]} {want[bad[0]]}, the cartridge "
                                 f"{rec.hashes[bad[0]]}")
        elif not common and rec.status == OK:
            unit.problems.append(f"{rec.path}: no hash algorithm in common with the catalog's")


def add_migration_generation(unit: Unit, source: str, target: str, operator: str | None) -> list[str]:
    """Each staged card's history (at its root, or the one the source kept in its metadata, moved to the
    card's root so that it travels on) gains a "migration" generation: a transfer whose files were read back
    from `source` and verified. The cards' names."""
    cards: list[str] = []
    if unit.manifest is None:
        return cards
    for top in unit.sources():
        if not top.is_dir():
            continue
        meta = unit.folder / META_DIR          # restored as .lto-archive/tape-file-N/mhl/<card>/ascmhl
        kept = [p for p in (meta / "mhl" / top.name / HISTORY_FOLDER,
                            *sorted(meta.glob(f"*/mhl/{top.name}/{HISTORY_FOLDER}"))) if p.is_dir()]
        if not (top / HISTORY_FOLDER).exists() and kept:
            shutil.move(str(kept[-1]), str(top / HISTORY_FOLDER))
        prior = read_history(top, missing_ok=True)
        s = unit.known().session
        creator = CreatorInfo.create(operator or s.operator or None, comment=(
            f"migration: {top.name} read back from {source} (session {s.session_id}, {s.format}) and verified, "
            f"to be written to {target}"))   # (the write's own generation follows it)
        build = generation_from_manifest(unit.known(), top.name, process=TRANSFER,
                                         prior=prior if prior.generations else None, creator=creator)
        failed = [p for p, o in build.outcomes.items() if o == "failed"]
        if failed:
            unit.problems.append(f"{top.name}: {len(failed)} file(s) differ from the card's ASC MHL history: "
                                 f"{', '.join(failed[:5])}")
            continue
        write_generation(top, build.generation)
        cards.append(top.name)
    return cards


__all__ = ["Unit", "MARGIN", "footage", "plan_units", "check_room", "read_unit", "compare_catalog", "add_migration_generation"]
