"""Filling the catalog: from a write job's result, a verify/restore result, or a tape itself.

- `record_write(catalog, result, medium, volume_uuid=None, folder=None)`: after a
  write job, its session, files, hashes and positions.
- `record_read(catalog, result, medium, who=None)`: after verify or restore, one
  verification row per file read back (ok, failed, unproven).
- `import_tape(catalog, device)`: rebuild the entries of the loaded cartridge
  from the tape alone: each tape file's `.lto-archive/manifest.json` (TAR,
  CPIO, any registered format), or for an LTFS volume its current index with
  the `ltfs.hash.*` checksums and the sessions' manifests stored on it.
  Importing the same tape twice changes nothing.

A catalog filled by the jobs and one rebuilt by `import_tape` from the same
tapes hold the same destinations, jobs, files, hashes and copies with their
positions (the test suite proves it), except a job's `finished` time: the copy
log closes a few milliseconds after the manifest went to tape, and the catalog
keeps the job's own when it has it.

Only files that are on the medium are catalogued: status ok, changed (on tape,
never proven) and read-error (on tape, part zero-filled or cut short). Files
that were not written (no room, unreadable, lost in a device failure) are not
copies of anything.
"""

from __future__ import annotations

import getpass
import json
import re
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ArchiveError, EndOfData, LtoArchiveError
from ..manifest import (CHANGED, MANIFEST_MEMBER, META_DIR, OK, READ_ERROR, SESSION_MEMBER, FileRecord, Manifest,
                        SessionInfo, iso, utc_now)
from ..tape.device import MediumInfo, TapeDevice
from .schema import CatalogError
from .store import Catalog

if TYPE_CHECKING:
    from ..jobs.read import ReadResult
    from ..jobs.write import WriteResult

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

def _generation_name(medium: MediumInfo | None, fallback: str | None) -> str | None:
    if medium is not None:
        gen = medium.generation
        return getattr(gen, "name", None) or str(gen)
    return fallback or None


def _used(medium: MediumInfo | None) -> int | None:
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


def _tape_destination(catalog: Catalog, medium: MediumInfo | None, *, barcode: str | None,
                      volume_uuid: str | None, device: str | None, generation: str | None, fmt: str | None) -> int:
    barcode = (medium.barcode if medium is not None else None) or barcode
    return catalog.destination(
        "tape", label=tape_label(barcode, volume_uuid, device), barcode=barcode, volume_uuid=volume_uuid,
        generation=_generation_name(medium, generation), fmt=fmt,
        capacity=medium.capacity if medium is not None else None, used=_used(medium))


def _job_fields(s: SessionInfo) -> dict[str, Any]:
    return {"tool": s.tool, "format": s.format, "operator": s.operator, "host": s.host, "device": s.device,
            "started": s.started, "finished": s.finished, "status": s.status, "algorithms": s.algorithms,
            "sources": s.sources, "record_size": s.record_size or None, "tape_file": s.tape_file,
            "partition": s.partition, "start_block": s.start_block}


def _record_copy(catalog: Catalog, dest: int, job: int, rec: FileRecord, *, status: str | None = None,
                 where: tuple[int | None, int | None, int | None, int | None, int | None] | None = None,
                 hashes: dict[str, str] | None = None) -> int:
    fid = catalog.file(rec.path, rec.size, rec.mtime, hashes if hashes is not None else rec.hashes)
    tape_file, partition, block, offset, header = where or (rec.tape_file, rec.partition, rec.block, rec.offset,
                                                            rec.header_offset)
    return catalog.copy(fid, dest, job, tape_file=tape_file, partition=partition, block=block, block_offset=offset,
                        header_offset=header, status=status or rec.status)


def _record_manifest(catalog: Catalog, dest: int, manifest: Manifest, recorded_from: str, out: Recorded,
                     *, status: str | None = None, positions: bool = True) -> int:
    s = manifest.session
    fields = _job_fields(s)
    if status:
        fields["status"] = status
    job = catalog.job(s.session_id, dest, recorded_from, **fields)
    for rec in manifest.files:
        if rec.kind == "file" and rec.status in ON_MEDIUM:
            _record_copy(catalog, dest, job, rec, where=None if positions else (None,) * 5)
            out.files += 1
    out.jobs.append(s.session_id)
    return job


# --- after a write job -------------------------------------------------------------------------

def record_write(catalog: Catalog, result: "WriteResult", medium: MediumInfo | None, volume_uuid: str | None = None,
                 folder: Path | None = None) -> Recorded:
    """Record a finished write job (a jobs.write.WriteResult) in the catalog.

    `medium`: the loaded cartridge (`device.medium()` after the job) for its
    barcode, generation, capacity and use; None when unknown (the session's
    barcode is used). `volume_uuid`: the LTFS volume's (`open_volume(dev).label
    .volume_uuid`), so that a cartridge without barcode is still one volume.
    `folder`: the copy went to this folder, not to tape (no tape positions).
    """
    manifest: Manifest = result.manifest
    s = manifest.session
    out = Recorded()
    with catalog.transaction():
        if folder is not None:
            path = str(Path(folder).resolve())
            dest = catalog.destination("folder", label=path, folder=path, fmt=s.format)
            out.destination = path
        else:
            dest = _tape_destination(catalog, medium, barcode=s.barcode, volume_uuid=volume_uuid, device=s.device,
                                     generation=s.generation, fmt=s.format)
            out.destination = _label_of(catalog, dest)
        _record_manifest(catalog, dest, manifest, "job", out, status=getattr(result, "status", None) or s.status,
                         positions=folder is None)
    return out


def _label_of(catalog: Catalog, dest: int) -> str:
    return str(catalog.conn.execute("SELECT label FROM destinations WHERE id = ?", (dest,)).fetchone()[0])


# --- after verify / restore ----------------------------------------------------------------------

_LTFS_SESSION = re.compile(r"ltfs-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-gen\d+")


def record_read(catalog: Catalog, result: "ReadResult", medium: MediumInfo | None, who: str | None = None, *,
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
            if ltfs and uuid is None:
                m = _LTFS_SESSION.fullmatch(man.session.session_id)   # type: ignore[union-attr]
                uuid = m.group(1) if m else None
            row = catalog.find_destination(barcode=barcode, volume_uuid=uuid,
                                           label=tape_label(barcode, uuid, man.session.device if man else None))
            if man is not None and not ltfs:
                # the tape file's manifest (or the copy log standing in for it): catalogue it if new
                dest = _tape_destination(catalog, medium, barcode=man.session.barcode, volume_uuid=uuid,
                                         device=man.session.device, generation=man.session.generation,
                                         fmt=man.session.format)
                _record_manifest(catalog, dest, man, "verify", Recorded())
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
            out.destination = _label_of(catalog, dest)
            results = ([(p, "ok", "") for p in t.verified]
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
    return out


# --- rebuilding from a tape ------------------------------------------------------------------------

@dataclass
class _TapeFileFound:
    number: int
    format: str = ""
    session: dict[str, Any] | None = None
    manifest: Manifest | None = None
    members: list[tuple[str, int, float, int, int, int]] = field(default_factory=list)  # path, size, mtime,
    error: str | None = None                                                          # block, offset, header


def _read_tape_file(device: TapeDevice, n: int) -> _TapeFileFound:
    """One tape file's session document, manifest and file members with their positions (no hashing)."""
    from ..formats.tapefile import TapeFileReader
    from ..formats.tar_reader import TarReader
    from ..jobs.read import _peek_format

    found = _TapeFileFound(n)
    fmt = _peek_format(device)
    found.format = fmt.name if fmt is not None else ""
    stream = TapeFileReader(device)
    reader = fmt.reader(stream) if fmt is not None else TarReader(stream)
    try:
        for m in reader:
            if m.path == SESSION_MEMBER:
                try:
                    found.session = json.loads(reader.read_data(m))
                except ValueError:
                    pass
            elif m.path == MANIFEST_MEMBER:
                try:
                    found.manifest = Manifest.from_json(reader.read_data(m))
                except (ValueError, KeyError, TypeError):
                    found.error = "its manifest cannot be parsed"
            elif m.path.startswith(META_DIR + "/"):
                continue
            elif m.kind == "file":
                block, offset = stream.block_of(m.header_offset)
                found.members.append((m.path, m.size, m.mtime, block, offset, m.header_offset))
    except ArchiveError as exc:
        found.error = exc.message
    finally:
        if not stream.at_end:
            stream.skip_to_end()
    return found


def import_tape(catalog: Catalog, device: TapeDevice) -> Recorded:
    """Rebuild the catalog entries of the loaded cartridge from what is on it (idempotent).

    The tape is read first, then written to the catalog in one transaction.
    TAR/CPIO: every tape file's manifest; a tape file without one (the job
    failed, or another tool wrote it) is catalogued from its members, without
    hashes, as 'unproven'. LTFS: the current index, its `ltfs.hash.*`
    checksums and the sessions' manifests on the volume.
    """
    from ..jobs.ltfs_read import is_ltfs
    medium = device.medium()
    if is_ltfs(device):
        return _import_ltfs(catalog, device, medium)
    from ..jobs.read import _locate_tape_file
    found: list[_TapeFileFound] = []
    n = 0
    while _locate_tape_file(device, n):
        found.append(_read_tape_file(device, n))
        n += 1
    out = Recorded()
    if not found:
        out.notes.append("the tape holds no tape file: nothing to import")
        return out
    first = next((f.manifest.session for f in found if f.manifest is not None), None)
    with catalog.transaction():
        fmts = ",".join(sorted({(f.manifest.session.format if f.manifest else f.format) or "" for f in found} - {""}))
        dest = _tape_destination(catalog, medium, barcode=first.barcode if first else None, volume_uuid=None,
                                 device=first.device if first else getattr(device, "name", None),
                                 generation=first.generation if first else None, fmt=fmts or None)
        label = out.destination = _label_of(catalog, dest)
        partition = device.partitions - 1
        for f in found:
            if f.error:
                out.notes.append(f"tape file {f.number}: {f.error}")
            if f.manifest is not None:
                seen = {p: (blk, off, hdr) for p, _s, _m, blk, off, hdr in f.members}
                job = catalog.job(f.manifest.session.session_id, dest, "tape", **_job_fields(f.manifest.session))
                out.jobs.append(f.manifest.session.session_id)
                for rec in f.manifest.files:
                    if rec.kind != "file" or rec.status not in ON_MEDIUM:
                        continue
                    where = None
                    if rec.block is None and rec.path in seen:     # a manifest without positions: as read
                        blk, off, hdr = seen[rec.path]
                        where = (f.number, partition, blk, off, hdr)
                    _record_copy(catalog, dest, job, rec, where=where)
                    out.files += 1
                continue
            # no manifest: what the tape shows, unproven
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
                _record_copy(catalog, dest, job, rec, status=UNPROVEN, where=(f.number, partition, blk, off, hdr),
                             hashes={})
                out.files += 1
    return out


def _import_ltfs(catalog: Catalog, device: TapeDevice, medium: MediumInfo) -> Recorded:
    from ..formats.ltfs.index import MODIFY
    from ..formats.ltfs.volume import open_volume, partition_of
    from ..jobs.ltfs_read import read_file_bytes, stored_hashes

    state = open_volume(device)
    ix = state.index
    uuid = state.label.volume_uuid
    out = Recorded(notes=list(state.notes))
    manifests: list[Manifest] = []
    nodes = {}
    for path, node in ix.files():
        if node.symlink is not None:
            continue
        if path.startswith(META_DIR + "/"):
            if path.endswith("/manifest.json"):
                try:
                    raw = b"".join(bytes(v) for v in read_file_bytes(device, node, state.block_size))
                    manifests.append(Manifest.from_json(raw))
                except (LtoArchiveError, EndOfData, ValueError, KeyError, TypeError) as exc:
                    out.notes.append(f"{path}: cannot be read ({getattr(exc, 'message', exc)}); its files are "
                                     f"catalogued from the index alone")
            continue
        nodes[path] = node
    manifests.sort(key=lambda m: (m.session.started, m.session.session_id))
    owner: dict[str, tuple[Manifest, FileRecord]] = {}
    for m in manifests:
        for rec in m.files:
            node = nodes.get(rec.path)
            if rec.kind == "file" and rec.status in ON_MEDIUM and node is not None and (
                    node.length == rec.size or rec.status == READ_ERROR):   # (cut short: only that part is on it)
                owner[rec.path] = (m, rec)

    def where(node: Any, rec: FileRecord | None) -> tuple[int | None, ...]:
        if node.extents:
            ext = min(node.extents, key=lambda e: e.file_offset)
            return (None, partition_of(ext.partition), ext.start_block, ext.byte_offset,
                    rec.header_offset if rec is not None else None)
        if rec is not None:
            return (rec.tape_file, rec.partition, rec.block, rec.offset, rec.header_offset)
        return (None, None, None, None, None)

    with catalog.transaction():
        first = manifests[0].session if manifests else None
        dest = _tape_destination(catalog, medium, barcode=first.barcode if first else None, volume_uuid=uuid,
                                 device=first.device if first else None, generation=None, fmt="ltfs")
        out.destination = _label_of(catalog, dest)
        jobs: dict[str, int] = {}
        for m in manifests:
            if any(o[0] is m for o in owner.values()):
                jobs[m.session.session_id] = catalog.job(m.session.session_id, dest, "tape", **_job_fields(m.session))
                out.jobs.append(m.session.session_id)
        foreign_job: int | None = None
        for path, node in nodes.items():
            if path in owner:
                m, rec = owner[path]
                hashes = dict(stored_hashes(node))
                hashes.update(rec.hashes)
                _record_copy(catalog, dest, jobs[m.session.session_id], rec, where=where(node, rec), hashes=hashes)
            else:
                if foreign_job is None:
                    sid = f"ltfs:{uuid}:index"
                    foreign_job = catalog.job(sid, dest, "tape", tool=ix.creator, format="ltfs", status="foreign")
                    out.jobs.append(sid)
                    out.notes.append("files without an lto-archive session (written by another tool) are "
                                     "catalogued from the index")
                hashes = stored_hashes(node)
                rec = FileRecord(path=path, size=node.length, mtime=iso(node.time_ns(MODIFY) / 1e9))
                _record_copy(catalog, dest, foreign_job, rec, status=OK if hashes else UNPROVEN,
                             where=where(node, None), hashes=hashes)
            out.files += 1
    return out


__all__ = ["record_write", "record_read", "import_tape", "Recorded", "tape_label", "ON_MEDIUM", "UNPROVEN",
           "CatalogError"]
