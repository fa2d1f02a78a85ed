"""The store side of rebuilding the catalog from what a cartridge or a folder holds.

The engine reads (jobs/catalog_import.py: `import_tape`, `import_folder`) and
hands over what it found; these write the rows, in one transaction each, and
are idempotent: importing the same tape twice changes nothing.

- `record_tape_files(catalog, medium, found, ...)`: TAR, CPIO, AXF (any
  registered format): each tape file's manifest; a tape file without one (the
  job failed, or another tool wrote it) is catalogued from its members, without
  hashes, as 'unproven'.
- `record_ltfs_index(catalog, medium, files, manifests, ...)`: an LTFS volume's
  current index with its `ltfs.hash.*` checksums and the sessions' manifests
  stored on it.
- `record_folder_import(catalog, root, manifests, notes)`: a folder destination
  from the job manifests it holds.

A catalog filled by the jobs and one rebuilt from the same tapes hold the same
destinations, jobs, files, hashes and copies with their positions (the test
suite proves it), except a job's `finished` time: the copy log closes a few
milliseconds after the manifest went to tape, and the catalog keeps the job's
own when it has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..manifest import OK, READ_ERROR, FileRecord, Manifest, iso
from .record import (ON_MEDIUM, UNPROVEN, Medium, Recorded, catalogue_folder, checked, job_fields, label_of, record_copy,
                     tape_destination)
from .spans import record_part, record_span_volume
from .store import Catalog

Where = tuple[int | None, int | None, int | None, int | None, int | None]   # tape file, partition, block, offset,
                                                                               # header offset


@dataclass
class TapeFileFound:
    """One tape file as the engine read it: its session document, manifest and file members (no hashing)."""

    number: int
    format: str = ""
    session: dict[str, Any] | None = None
    manifest: Manifest | None = None
    members: list[tuple[str, int, float, int, int, int]] = field(default_factory=list)  # path, size, mtime,
    error: str | None = None                                                          # block, offset, header


@dataclass
class IndexedFile:
    """One file of an LTFS volume's index, as the engine read it."""

    path: str
    size: int
    mtime: float                                  # seconds
    hashes: dict[str, str]                        # its stored ltfs.hash.* checksums, by our algorithm names
    extent: tuple[int, int, int] | None = None    # partition, block, byte offset of its first extent


# --- TAR, CPIO, AXF ---------------------------------------------------------------------------------------

def record_tape_files(catalog: Catalog, medium: Medium | None, found: list[TapeFileFound], *, device: str | None,
                      partition: int, used: int | None) -> Recorded:
    """The entries of a cartridge's tape files, from their manifests (or their members: 'unproven')."""
    out = Recorded()
    if not found:
        out.notes.append("the tape holds no tape file: nothing to import")
        return out
    first = next((f.manifest.session for f in found if f.manifest is not None), None)
    with catalog.transaction():
        fmts = ",".join(sorted({(f.manifest.session.format if f.manifest else f.format) or "" for f in found} - {""}))
        dest = tape_destination(catalog, medium, barcode=first.barcode if first else None, volume_uuid=None,
                                device=first.device if first else device,
                                generation=first.generation if first else None, fmt=fmts or None, used=used)
        label = out.destination = label_of(catalog, dest)
        spanned = {f.manifest.session.span.get("data_tape_file") for f in found
                   if f.manifest is not None and f.manifest.session.span}
        for f in found:
            if f.manifest is None and f.number in spanned:
                continue      # a span set's volume: its manifest is the next tape file's
            if f.error:
                out.notes.append(f"tape file {f.number}: {f.error}")
            if f.manifest is not None:
                _from_manifest(catalog, dest, f, partition, out)
            else:
                _from_members(catalog, dest, label, f, partition, out)
    return out


def _from_manifest(catalog: Catalog, dest: int, f: TapeFileFound, partition: int, out: Recorded) -> None:
    assert f.manifest is not None
    manifest = checked(f.manifest)
    session = manifest.session
    seen = {p: (blk, off, hdr) for p, _s, _m, blk, off, hdr in f.members}
    job = catalog.job(session.session_id, dest, "tape", **job_fields(session))
    out.jobs.append(session.session_id)
    for rec in manifest.files:
        if rec.kind != "file" or rec.status not in ON_MEDIUM:
            continue
        where: Where | None = None
        if rec.block is None and rec.path in seen:     # a manifest without positions: as read
            blk, off, hdr = seen[rec.path]
            where = (f.number, partition, blk, off, hdr)
        if rec.part:
            record_part(catalog, dest, job, rec)
        else:
            record_copy(catalog, dest, job, rec, where=where)
        out.files += 1
    if session.span:
        record_span_volume(catalog, session, dest, job)


def _from_members(catalog: Catalog, dest: int, label: str, f: TapeFileFound, partition: int, out: Recorded) -> None:
    """No manifest: what the tape shows, unproven."""
    s = f.session or {}
    session_id = s.get("session_id") or f"{label}:tape-file-{f.number}"
    job = catalog.job(session_id, dest, "tape", tool=s.get("tool", ""), format=f.format,
                      operator=s.get("operator", ""), host=s.get("host", ""), started=s.get("started", ""),
                      status="no-manifest" if f.session else "foreign", algorithms=s.get("algorithms", []),
                      sources=s.get("sources", []), record_size=s.get("record_size"), tape_file=f.number,
                      partition=partition)
    out.jobs.append(session_id)
    out.notes.append(f"tape file {f.number}: no lto-archive manifest; its {len(f.members)} files are "
                     f"catalogued without checksums (unproven)")
    for path, size, mtime, blk, off, hdr in f.members:
        rec = FileRecord(path=path, size=size, mtime=iso(mtime))
        record_copy(catalog, dest, job, rec, status=UNPROVEN, where=(f.number, partition, blk, off, hdr), hashes={})
        out.files += 1


# --- LTFS -----------------------------------------------------------------------------------------------

def _owners(files: dict[str, IndexedFile], manifests: list[Manifest]) -> dict[str, tuple[Manifest, FileRecord]]:
    """Which session's record each file of the index is (the latest session that wrote it whole)."""
    owner: dict[str, tuple[Manifest, FileRecord]] = {}
    for m in manifests:
        for rec in m.files:
            member = rec.part.get("member", rec.path) if rec.part else rec.path   # a span set's part: NAME.partNNNN
            node = files.get(member)
            length = rec.part.get("length") if rec.part else rec.size
            if rec.kind == "file" and rec.status in ON_MEDIUM and node is not None and (
                    node.size == length or rec.status == READ_ERROR):   # (cut short: only that part is on it)
                owner[member] = (m, rec)
    return owner


def _where(f: IndexedFile, rec: FileRecord | None) -> Where:
    if f.extent is not None:
        partition, block, offset = f.extent
        return (None, partition, block, offset, rec.header_offset if rec is not None else None)
    if rec is not None:
        return (rec.tape_file, rec.partition, rec.block, rec.offset, rec.header_offset)
    return (None, None, None, None, None)


def record_ltfs_index(catalog: Catalog, medium: Medium | None, files: list[IndexedFile], manifests: list[Manifest],
                      *, volume_uuid: str, creator: str, notes: list[str], used: int | None) -> Recorded:
    """An LTFS volume's files (its index, not the sessions' own metadata) with the sessions that wrote them."""
    out = Recorded(notes=list(notes))
    manifests = sorted(manifests, key=lambda m: (m.session.started, m.session.session_id))
    by_path = {f.path: f for f in files}
    owner = _owners(by_path, manifests)
    with catalog.transaction():
        first = manifests[0].session if manifests else None
        dest = tape_destination(catalog, medium, barcode=first.barcode if first else None, volume_uuid=volume_uuid,
                                device=first.device if first else None, generation=None, fmt="ltfs", used=used)
        out.destination = label_of(catalog, dest)
        jobs: dict[str, int] = {}
        for m in manifests:
            if any(o[0] is m for o in owner.values()):
                jobs[m.session.session_id] = catalog.job(m.session.session_id, dest, "tape", **job_fields(m.session))
                out.jobs.append(m.session.session_id)
                if m.session.span:     # a volume of an LTFS span set
                    record_span_volume(catalog, m.session, dest, jobs[m.session.session_id])
        foreign_job: int | None = None
        for f in by_path.values():
            if f.path in owner:
                m, rec = owner[f.path]
                if rec.part:           # one part of a file split across an LTFS span set
                    record_part(catalog, dest, jobs[m.session.session_id], rec)
                else:
                    record_copy(catalog, dest, jobs[m.session.session_id], rec, where=_where(f, rec),
                                hashes={**f.hashes, **rec.hashes})
                out.files += 1
                continue
            if foreign_job is None:
                sid = f"ltfs:{volume_uuid}:index"
                foreign_job = catalog.job(sid, dest, "tape", tool=creator, format="ltfs", status="foreign")
                out.jobs.append(sid)
                out.notes.append("files without an lto-archive session (written by another tool) are "
                                 "catalogued from the index")
            rec = FileRecord(path=f.path, size=f.size, mtime=iso(f.mtime))
            record_copy(catalog, dest, foreign_job, rec, status=OK if f.hashes else UNPROVEN, where=_where(f, None),
                        hashes=dict(f.hashes))
            out.files += 1
    return out


# --- folders ----------------------------------------------------------------------------------------

def record_folder_import(catalog: Catalog, root: Path, manifests: list[Manifest], notes: list[str]) -> Recorded:
    """A folder destination from the job manifests it holds: each job's cleanly copied files in it now."""
    out = Recorded(notes=list(notes))
    if not manifests:
        out.notes.append(f"{root} holds no lto-archive job manifest: nothing to import")
        return out
    with catalog.transaction():
        catalogue_folder(catalog, root, manifests, "folder", out)
    return out


__all__ = ["TapeFileFound", "IndexedFile", "record_tape_files", "record_ltfs_index", "record_folder_import"]
