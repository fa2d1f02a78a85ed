"""Migration: each source cartridge read (and proven) into staging, written to the target, the target read
back and compared with the source's hashes, and only then the source marked superseded in the catalog.

The cartridges are opened through callables, one at a time (source, then target), so one drive of a library
serves both: the robot swaps them. Several sources to one target is consolidation: each source session
becomes one session on the target.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import Catalog
from ..catalog.anchor import chain_anchor
from ..catalog.custody import append
from ..catalog.lineage import catalog_hashes, destination_id, link_copies, record_migration, supersede
from ..catalog.record import record_read, tape_destination, tape_label
from ..errors import LtoArchiveError, UsageError, VerificationFailed
from ..formats.registry import is_volume_layout, layout_on
from ..jobs.catalog_import import import_tape, record_job
from ..jobs.write import WriteOptions, write_archive
from ..progress import ProgressCallback
from ..manifest import Manifest
from ..tape import TapeDevice
from .stage import Unit, add_migration_generation, check_room, compare_catalog, plan_units, read_unit

Opener = Callable[[], AbstractContextManager[TapeDevice]]


@dataclass
class SourceMigration:
    """One source cartridge: proven (superseded) or not, and why."""

    label: str
    status: str = "failed"                  # proven, failed
    files: int = 0
    bytes: int = 0
    sessions: list[tuple[str, str]] = field(default_factory=list)   # (old session id, new session id)
    cards: list[str] = field(default_factory=list)                  # histories given a migration generation
    problems: list[str] = field(default_factory=list)
    copies_linked: int = 0
    staging_kept: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.label, "status": self.status, "files": self.files, "bytes": self.bytes,
                "sessions": [list(s) for s in self.sessions], "cards": self.cards, "problems": self.problems,
                "copies_linked": self.copies_linked, "staging_kept": self.staging_kept}


@dataclass
class Migration:
    """What `migrate` did: one entry per source, the target, the format written."""

    target: str
    format: str
    sources: list[SourceMigration] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.sources) and all(s.status == "proven" for s in self.sources)

    @property
    def status(self) -> str:
        return "ok" if self.ok else "failed"

    def raise_for_status(self) -> None:
        bad = [s for s in self.sources if s.status != "proven"]
        if bad:
            raise VerificationFailed(f"{len(bad)} source cartridge(s) not migrated (kept, not superseded): " + "; ".join(
                f"{s.label}: {s.problems[0] if s.problems else 'failed'}" for s in bad),
                sources=[s.label for s in bad])

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "target": self.target, "format": self.format,
                "sources": [s.to_dict() for s in self.sources]}


def label_of(dev: TapeDevice) -> str:
    """How the catalog names the loaded cartridge (its barcode; an LTFS volume without one: its uuid)."""
    return tape_label(dev.medium().barcode, None, getattr(dev, "name", None) or str(dev))


def _stage_source(store: Catalog, dev: TapeDevice, staging: Path, out: SourceMigration,
                  progress: ProgressCallback | None = None) -> list[Unit]:
    """Read the whole source into staging: its units planned, the room checked first, each unit proven."""
    units = plan_units(dev, staging)
    check_room(staging, units)
    source_id = destination_id(store, out.label)
    if source_id is None:                       # never catalogued: rebuild its rows from the cartridge first
        import_tape(store, dev)
        source_id = destination_id(store, out.label)
    known = catalog_hashes(store, source_id) if source_id is not None else {}
    for unit in units:
        read_unit(dev, unit, progress)
        if unit.read is not None:
            record_read(store, unit.read, dev.medium())      # the source's read is a proof of its copies too
        compare_catalog(unit, known)
        out.problems += unit.problems
    return units


def _prove(unit: Unit, result: Any) -> list[str]:
    """The target's copy against the source's: every file written ok, read back and proven, same hashes."""
    problems = []
    dest = result.destinations[0] if result.destinations else {}
    if result.error is not None:
        problems.append(f"the target failed: {result.error.message}")
    if dest.get("status") != "ok":
        problems.append(f"the target's read-back: {dest.get('status')} {dest.get('error') or ''}".strip())
    written: Manifest = result.manifest
    by_path = {r.path: r for r in written.files}
    for rec in unit.known().files:
        if rec.kind != "file":
            continue
        new = by_path.get(rec.path)
        common = sorted(set(rec.hashes) & set(new.hashes)) if new is not None else []
        if new is None or new.status != "ok":
            problems.append(f"{rec.path}: not written to the target ({new.status if new else 'missing'})")
        elif new.size != rec.size or not common or any(new.hashes[a] != rec.hashes[a] for a in common):
            problems.append(f"{rec.path}: the target's copy differs from the source's (size or hash)")
    return problems


def _write_unit(dev: TapeDevice, unit: Unit, fmt: str, opts: dict[str, Any], out: SourceMigration,
                target: str) -> Any:
    s = unit.known().session
    out.cards += add_migration_generation(unit, out.label, target, opts.get("operator"))
    if unit.problems:
        out.problems += [p for p in unit.problems if p not in out.problems]
        return None
    options = WriteOptions(format=fmt, algorithms=tuple(s.algorithms) or ("xxh128", "md5"), verify=True,
                           device_name=str(getattr(dev, "name", "") or target),
                           **{k: v for k, v in opts.items() if k != "progress"})
    result = write_archive([str(p) for p in unit.sources()], [dev], options, progress=opts.get("progress"))
    problems = _prove(unit, result)
    out.problems += problems
    if not problems:
        out.sessions.append((s.session_id, result.manifest.session.session_id))
        out.files += len(unit.files)
        out.bytes += unit.size
    return result


def _target_format(dev: TapeDevice, fmt: str | None, units: list[Unit]) -> str:
    layout = layout_on(dev)
    is_ltfs = layout is not None
    if fmt is None:
        if layout is not None:
            return layout.name
        first = units[0].manifest.session.format if units[0].manifest is not None else ""
        return first if first and not is_volume_layout(first) else "tar"    # a tape-file format like the source's
    if is_volume_layout(fmt) and not is_ltfs:
        raise UsageError(f"the target is not an LTFS volume: format it first (lto-archive format) to migrate "
                         f"to {fmt}", format=fmt)
    return fmt


def _finish(store: Catalog, out: SourceMigration, target: str, who: str) -> None:
    """The catalog and the custody log: lineage always; the source superseded only when proven."""
    source_id, target_id = destination_id(store, out.label), destination_id(store, target)
    if source_id is None or target_id is None:
        out.problems.append("the catalog does not hold both cartridges")
        out.status = "failed"
    mid = 0
    if source_id is not None and target_id is not None:
        mid = record_migration(store, source_id, target_id, status=out.status, files=out.files, size=out.bytes,
                               sessions=out.sessions, who=who, message="; ".join(out.problems[:5]))
        out.copies_linked = link_copies(store, mid, source_id, target_id, [n for _, n in out.sessions])
        if out.status == "proven":
            supersede(store, source_id, target_id, mid)
    data = {"migration": mid, "status": out.status, "files": out.files, "bytes": out.bytes,
            "sessions": [list(s) for s in out.sessions]}
    append(store, "migration", out.label, dict(data, role="source", to=target))
    append(store, "migration", target, dict(data, role="target", **{"from": out.label}))


def migrate_one(store: Catalog, open_source: Opener, open_target: Opener, staging: Path, fmt: str | None,
                opts: dict[str, Any]) -> tuple[SourceMigration, str, str]:
    """One source cartridge to the target; the staging folder is emptied when the source was proven. The
    source's outcome, the format written and the target's catalog label."""
    with open_source() as src:
        out = SourceMigration(label_of(src))
        where = staging / out.label.replace("/", "_")
        if where.exists():
            raise UsageError(f"the staging folder {where} exists already: empty it or give another --staging",
                             staging=str(where))
        units = _stage_source(store, src, where, out, opts.get("progress"))
    with open_target() as dev:
        fmt = _target_format(dev, fmt, units)
        label = label_of(dev)
        for unit in units if not out.problems else []:
            try:
                anchored = dict(opts, custody_anchor=chain_anchor(store))   # its on-tape record states it
                result = _write_unit(dev, unit, fmt, anchored, out, label)
            except LtoArchiveError as exc:       # refused before a byte was written (room, names, medium)
                out.problems.append(exc.message)
                break
            if result is not None:
                label = next((r.destination for r in record_job(store, result, [dev]) if r.destination), label)
            if out.problems:
                break
        out.status = "proven" if not out.problems else "failed"
        if destination_id(store, label) is None:      # nothing written to it: still named by the failed migration
            tape_destination(store, dev.medium(), barcode=None, volume_uuid=None, device=label, generation=None,
                             fmt=None)
        _finish(store, out, label, opts.get("operator") or "")
    if out.status == "proven":
        shutil.rmtree(where)
    else:
        out.staging_kept = str(where)
    return out, fmt, label


def migrate(store: Catalog, sources: Sequence[Opener], open_target: Opener, staging: Path, *,
            format: str | None = None, operator: str | None = None, log_dir: Path | None = None,
            production: str = "", target_name: str = "", progress: ProgressCallback | None = None) -> Migration:
    """Every source, in order, to the one target (consolidation when several); see the module's docstring."""
    if not sources:
        raise UsageError("migrate needs at least one source cartridge (--from)")
    opts: dict[str, Any] = {"operator": operator, "log_dir": log_dir, "production": production, "progress": progress}
    result = Migration(target_name, format or "")
    for open_source in sources:
        one, fmt, label = migrate_one(store, open_source, open_target, staging, format, opts)
        result.format, result.target = result.format or fmt, label
        result.sources.append(one)
    return result


__all__ = ["Migration", "SourceMigration", "migrate", "migrate_one", "label_of"]
