"""Filling the catalog: rows from a write job's result, a verify/restore result, or a folder's manifests.

The catalog is a store: nothing here reads a tape. The engine reads and calls these.

- `record_write(catalog, result, medium, volume_uuid=None, folder=None)`: after a
  write job, its session, files, hashes and positions.
- `record_read(catalog, result, medium, who=None)`: after verify or restore, one
  verification row per file read back (ok, failed, unproven).
- `record_folder_read(catalog, result, who)`: a folder copy verified later
  (jobs.folder_verify). A folder destination records the filesystem volume it
  is on (folder_volume.py): two folders of one disk are one copy for `baf`.
- Rebuilding from a tape or a folder (what it holds, read by the engine:
  jobs/catalog_import.py `import_tape`, `import_folder`, `record_job`) goes
  through catalog.imported, which records with the helpers here.

Only files that are on the medium are catalogued: status ok, changed (on tape,
never proven) and read-error (on tape, part zero-filled or cut short). Files
that were not written (no room, unreadable, lost in a device failure) are not
copies of anything.
"""

from __future__ import annotations

import getpass
import re
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..folder_volume import folder_volume
from ..manifest import (CHANGED, MANIFEST_FORMAT, META_DIR, OK, READ_ERROR, FileRecord, Manifest, ManifestDamaged,
                        SessionInfo, iso, utc_now)
from .custody import read_event, write_event
from .schema import CatalogError
from .spans import record_part, record_span_volume
from .store import Catalog


class Medium(Protocol):
    """What the catalog takes from a loaded cartridge (tape.device.Medium has it)."""

    @property
    def barcode(self) -> str | None: ...
    @property
    def generation(self) -> Any: ...
    @property
    def capacity(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    @property
    def partitions(self) -> int: ...


ON_MEDIUM = frozenset({OK, CHANGED, READ_ERROR})
UNPROVEN = "unproven"      # copy status: on tape, but nothing recorded to prove it (no manifest, no checksum)


@dataclass
class Recorded:
    """What one call put into the catalog."""

    destination: str | None = None          # its label: barcode, 'ltfs:<uuid>', folder path
    jobs: list[str] = field(default_factory=list)       # session ids
    files: int = 0                           # copies recorded (new or already known)
    verifications: int = 0
    unmatched: list[str] = field(default_factory=list)  # read back, but no copy in the catalog to attach it to
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- destinations --------------------------------------------------------------------------

def generation_name(medium: Medium | None, fallback: str | None) -> str | None:
    if medium is not None:
        gen = medium.generation
        return getattr(gen, "name", None) or str(gen)
    return fallback or None


def medium_used(medium: Medium | None) -> int | None:
    """The drive's estimate of bytes used; only meaningful where `remaining` covers the whole medium."""
    if medium is None or medium.partitions != 1:
        return None
    return max(0, medium.capacity - medium.remaining)


def tape_label(barcode: str | None, volume_uuid: str | None, device: str | None) -> str:
    """How the catalog names a cartridge: its barcode, else its LTFS volume UUID, else the device it was in."""
    if barcode:
        return barcode
    if volume_uuid:
        return f"ltfs:{volume_uuid}"
    return f"device:{device or '?'}"


def tape_destination(catalog: Catalog, medium: Medium | None, *, barcode: str | None,
                      volume_uuid: str | None, device: str | None, generation: str | None, fmt: str | None,
                      used: int | None = None) -> int:
    barcode = (medium.barcode if medium is not None else None) or barcode
    return catalog.destination(
        "tape", label=tape_label(barcode, volume_uuid, device), barcode=barcode, volume_uuid=volume_uuid,
        generation=generation_name(medium, generation), fmt=fmt,
        capacity=medium.capacity if medium is not None else None, used=used if used is not None else medium_used(medium))


def job_fields(s: SessionInfo) -> dict[str, Any]:
    return {"tool": s.tool, "format": s.format, "operator": s.operator, "production": s.production or None,
            "host": s.host, "device": s.device,
            "started": s.started, "finished": s.finished, "status": s.status, "algorithms": s.algorithms,
            "sources": s.sources, "record_size": s.record_size or None, "tape_file": s.tape_file,
            "partition": s.partition, "start_block": s.start_block, "queue_job": s.queue_job}


def record_copy(catalog: Catalog, dest: int, job: int, rec: FileRecord, *, status: str | None = None,
                 where: tuple[int | None, int | None, int | None, int | None, int | None] | None = None,
                 hashes: dict[str, str] | None = None) -> int:
    fid = catalog.file(rec.path, rec.size, rec.mtime, hashes if hashes is not None else rec.hashes)
    tape_file, partition, block, offset, header = where or (rec.tape_file, rec.partition, rec.block, rec.offset,
                                                            rec.header_offset)
    return catalog.copy(fid, dest, job, tape_file=tape_file, partition=partition, block=block, block_offset=offset,
                        header_offset=header, status=status or rec.status)


def checked(manifest: Manifest) -> Manifest:
    """`manifest` with every value of the type the catalog stores, else ManifestDamaged (a CorruptArchive).
    For one that did not come through Manifest.from_dict: a job's journal read back (`catalog import
    --manifest JOURNAL`) is built from its lines as they are."""
    try:
        return Manifest.from_dict({"format": MANIFEST_FORMAT, "session": asdict(manifest.session),
                                   "files": [dict(vars(f)) for f in manifest.files]})
    except (TypeError, ValueError, RecursionError) as exc:
        if isinstance(exc, ManifestDamaged):
            raise
        raise ManifestDamaged(f"the copy log cannot be catalogued: {str(exc)[:200]}") from None


def record_manifest(catalog: Catalog, dest: int, manifest: Manifest, recorded_from: str, out: Recorded,
                     *, status: str | None = None, positions: bool = True) -> int:
    if recorded_from != "job":      # what the job itself wrote is known good; what was read back is checked
        manifest = checked(manifest)
    s = manifest.session
    fields = job_fields(s)
    if status:
        fields["status"] = status
    job = catalog.job(s.session_id, dest, recorded_from, **fields)
    for rec in manifest.files:
        if rec.kind == "file" and rec.status in ON_MEDIUM:
            if rec.part:      # one part of a file split across the cartridges of a span set
                record_part(catalog, dest, job, rec, positions)
            else:
                record_copy(catalog, dest, job, rec, where=None if positions else (None,) * 5)
            out.files += 1
    if s.span:
        record_span_volume(catalog, s, dest, job)
    out.jobs.append(s.session_id)
    return job


# --- after a write job -------------------------------------------------------------------------

def record_write(catalog: Catalog, result: Any, medium: Medium | None, volume_uuid: str | None = None,
                 folder: Path | None = None, *, used: int | None = None) -> Recorded:
    """Record a finished write job (a jobs.write.WriteResult) in the catalog.

    `medium`: the loaded cartridge (`device.medium()` after the job) for its
    barcode, generation, capacity and use; None when unknown (the session's
    barcode is used). `volume_uuid`: the LTFS volume's (`open_volume(dev).label
    .volume_uuid`), so that a cartridge without barcode is still one volume.
    `used`: bytes used on the cartridge (`tapemedium_used(device)`; default: the
    drive's estimate for one-partition cartridges; jobs.catalog_import.tape_used reads it).
    `folder`: the copy went to this folder, not to tape (no tape positions): a
    destination of its own, with the filesystem volume it is on; the files the
    job wrote there and, when the job read them back (`result.folders`), one
    verification each.
    """
    manifest: Manifest = result.manifest
    s = manifest.session
    out = Recorded()
    status = getattr(result, "status", None) or s.status
    with catalog.transaction():
        if folder is not None:
            _record_folder_write(catalog, result, Path(folder), status, out)
            write_event(catalog, result, out, tape=False)       # the chain of custody (catalog/custody.py)
            return out
        dest = tape_destination(catalog, medium, barcode=s.barcode, volume_uuid=volume_uuid, device=s.device,
                                 generation=s.generation, fmt=s.format, used=used)
        out.destination = label_of(catalog, dest)
        record_manifest(catalog, dest, manifest, "job", out, status=status)
        write_event(catalog, result, out)
    return out


def folder_destination(catalog: Catalog, root: Path, fmt: str | None) -> int:
    path = str(root.resolve())
    try:
        volume = folder_volume(path)
    except OSError:
        volume = None               # unplugged since: known by its path only
    return catalog.folder_destination(path, volume, fmt)


def _record_folder_write(catalog: Catalog, result: Any, root: Path, status: str, out: Recorded) -> None:
    manifest: Manifest = result.manifest
    s = manifest.session
    dest = folder_destination(catalog, root, s.format)
    out.destination = label_of(catalog, dest)
    path = str(root.resolve())
    done = next((f for f in getattr(result, "folders", None) or [] if str(Path(f.root).resolve()) == path), None)
    fields = job_fields(s)
    fields["status"] = status
    job = catalog.job(s.session_id, dest, "job", **fields)
    out.jobs.append(s.session_id)
    # what the folder got: as the job reports it, else (only the manifest is known) every clean copy
    written = set(done.written) if done is not None else {r.path for r in manifest.files}
    verified = set(done.verified) if done is not None else set()
    for rec in manifest.files:
        if rec.kind != "file" or rec.status != OK or rec.path not in written:
            continue            # only clean copies go to folders; a refused or lost one is not there
        cid = record_copy(catalog, dest, job, rec, where=(None,) * 5)
        out.files += 1
        if done is None or done.verified_at is None:
            continue
        if rec.path in verified:
            result_, why = "ok", ""
        elif rec.path in done.failed:
            result_, why = "failed", done.failed[rec.path]
        else:
            continue
        catalog.add_verification(cid, at=done.verified_at, who=s.operator, host=s.host, phase="verify",
                                 result=result_, message=why)
        out.verifications += 1


# --- folders: verified later, rebuilt from their own manifests ------------------------------------

def catalogue_folder(catalog: Catalog, root: Path, manifests: list[Manifest], recorded_from: str,
                      out: Recorded) -> int:
    """The folder's jobs and the files each copied cleanly that are in the folder now (idempotent)."""
    fmts = ",".join(sorted({m.session.format for m in manifests if m.session.format}))
    dest = folder_destination(catalog, root, fmts or None)
    out.destination = label_of(catalog, dest)
    for m in manifests:
        job = catalog.job(m.session.session_id, dest, recorded_from, **job_fields(m.session))
        out.jobs.append(m.session.session_id)
        for rec in m.files:
            if rec.kind == "file" and rec.status == OK and in_folder(root, rec.path):
                record_copy(catalog, dest, job, rec, where=(None,) * 5)
                out.files += 1
    return dest


def in_folder(root: Path, path: str) -> bool:
    """Whether the manifest's `path` is a regular file inside `root` now. A path the disk cannot hold (a
    name over 255 bytes, a NUL) or that leads out of the folder ('..', absolute) is not there."""
    parts = path.split("/")
    if not path or path.startswith("/") or ".." in parts:
        return False
    try:
        return (root / path).is_file() and not (root / path).is_symlink()
    except (OSError, ValueError):
        return False


def record_folder_read(catalog: Catalog, result: Any, who: str | None = None) -> Recorded:
    """Record what `jobs.folder_verify.verify_folder` proved: one verification per file read back.

    A folder (or a job in it) the catalog does not know yet is catalogued from its manifests first.
    """
    out = Recorded(notes=list(result.notes))
    if not result.sessions:
        return out
    who = who or getpass.getuser()
    host = socket.gethostname()
    with catalog.transaction():
        dest = catalogue_folder(catalog, result.root, [s.manifest for s in result.sessions], "verify", Recorded())
        out.destination = label_of(catalog, dest)
        for s in result.sessions:
            out.jobs.append(s.session_id)
            job = catalog.conn.execute("SELECT id FROM jobs WHERE session_id = ?", (s.session_id,)).fetchone()[0]
            for path, res, why in ([(p, "ok", "") for p in s.verified]
                                   + [(f["path"], "failed", f["reason"]) for f in s.failed]
                                   + [(u["path"], "unproven", u["reason"]) for u in s.unproven]):
                found = catalog.conn.execute(
                    "SELECT c.id FROM copies c JOIN files f ON f.id = c.file_id WHERE c.destination_id = ? AND "
                    "c.job_id = ? AND f.path = ? ORDER BY c.id DESC LIMIT 1", (dest, job, path)).fetchone()
                if found is None:
                    out.unmatched.append(path)
                    continue
                catalog.add_verification(int(found[0]), at=result.at, who=who, host=host, phase="verify",
                                         result=res, message=why)
                out.verifications += 1
                out.files += 1
        read_event(catalog, "verify", result, out, who)
    return out


def label_of(catalog: Catalog, dest: int) -> str:
    return str(catalog.conn.execute("SELECT label FROM destinations WHERE id = ?", (dest,)).fetchone()[0])


# --- after verify / restore ----------------------------------------------------------------------

_LTFS_SESSION = re.compile(r"ltfs-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-gen\d+")


def record_read(catalog: Catalog, result: Any, medium: Medium | None, who: str | None = None, *,
                volume_uuid: str | None = None, when: str | None = None) -> Recorded:
    """Record what a verify or restore (a jobs.read.ReadResult) proved, one row per file read back.

    Files verified give 'ok', files that did not match 'failed' (with the
    reason), files that could not be proven 'unproven'. A TAR/CPIO tape file
    whose manifest was read is catalogued on the way when the catalog did not
    know it yet (so verifying an old tape fills the catalog). `who`: the
    operator (default: the login name); `when`: ISO time (default: now).
    A `list` result records nothing.
    """
    out = Recorded()
    if result.phase not in ("verify", "restore"):
        return out
    who = who or getpass.getuser()
    host = socket.gethostname()
    at = when or iso(utc_now())
    barcode = medium.barcode if medium is not None else None
    with catalog.transaction():
        for t in result.tape_files:
            man: Manifest | None = t.manifest
            ltfs = man is not None and t.manifest_source == "LTFS index"
            uuid = volume_uuid
            if ltfs and uuid is None and man is not None:
                m = _LTFS_SESSION.fullmatch(man.session.session_id)
                uuid = m.group(1) if m else None
            lookup: tuple[str, tuple[Any, ...]]
            row = catalog.find_destination(barcode=barcode, volume_uuid=uuid,
                                           label=tape_label(barcode, uuid, man.session.device if man else None))
            if man is not None and not ltfs:
                # the tape file's manifest (or the copy log standing in for it): catalogue it if new
                dest = tape_destination(catalog, medium, barcode=man.session.barcode, volume_uuid=uuid,
                                         device=man.session.device, generation=man.session.generation,
                                         fmt=man.session.format)
                record_manifest(catalog, dest, man, "verify", Recorded())
                job = catalog.conn.execute("SELECT id FROM jobs WHERE session_id = ?",
                                           (man.session.session_id,)).fetchone()[0]
                lookup = ("SELECT id FROM copies c WHERE c.destination_id = ? AND c.job_id = ? AND c.file_id IN "
                          "(SELECT id FROM files WHERE path = ?) ORDER BY id DESC LIMIT 1", (dest, job))
            elif row is not None:
                dest = int(row["id"])
                lookup = ("SELECT id FROM copies c WHERE c.destination_id = ? AND c.file_id IN "
                          "(SELECT id FROM files WHERE path = ?) ORDER BY c.job_id DESC, id DESC LIMIT 1", (dest,))
            else:
                out.notes.append(f"tape file {t.tape_file}: this cartridge is not in the catalog "
                                 f"(run: lto-archive catalog import)")
                out.unmatched.extend(t.verified + [f["path"] for f in t.failed])
                continue
            out.destination = label_of(catalog, dest)
            results = ([(p, "ok", "") for p in t.verified if p not in t.parts_verified]
                       + [(p, "ok", "") for p in t.parts_verified if not any(f["path"] == p for f in t.failed)]
                       + [(f["path"], "failed", f.get("reason", "")) for f in t.failed]
                       + [(u["path"], "unproven", u.get("reason", "")) for u in t.unproven])
            sql, args = lookup
            for path, res, message in results:
                found = catalog.conn.execute(sql, (*args, path)).fetchone()
                if found is None:
                    if not path.startswith(("(tape file", META_DIR + "/")):   # not footage: never catalogued
                        out.unmatched.append(path)
                    continue
                catalog.add_verification(int(found[0]), at=at, who=who, host=host, phase=result.phase,
                                         result=res, message=message)
                out.verifications += 1
        read_event(catalog, result.phase, result, out, who)
    return out


__all__ = ["record_write", "record_read", "record_folder_read", "record_manifest", "record_copy", "tape_destination",
           "folder_destination", "catalogue_folder", "job_fields", "label_of", "medium_used", "generation_name",
           "Recorded", "Medium", "tape_label", "ON_MEDIUM", "UNPROVEN", "CatalogError"]
