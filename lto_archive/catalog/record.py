"""Filling the catalog: from a write job's result, a verify/restore result, or a tape itself.

- `record_write(catalog, result, medium, volume_uuid=None, folder=None)`: after a
  write job, its session, files, hashes and positions.
- `record_read(catalog, result, medium, who=None)`: after verify or restore, one
  verification row per file read back (ok, failed, unproven).
- `record_job(catalog, result, devices)`: every destination of a write job (each
  tape with its own positions and `tape_used`, each `--copy-to` folder) and the
  job's read-back of each, as verifications.
- `record_folder_read(catalog, result, who)`, `import_folder(catalog, root)`: a
  folder copy verified later (jobs.folder_verify), or rebuilt from the job
  manifests it holds. A folder destination records the filesystem volume it
  is on (folder_volume.py): two folders of one disk are one copy for `baf`.
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
from ..folder_volume import folder_volume
from ..tape import mam
from ..tape.device import MediumInfo, TapeDevice
from .schema import CatalogError
from .store import Catalog

if TYPE_CHECKING:
    from ..jobs.folder_verify import FolderVerifyResult
    from ..jobs.read import ReadResult
    from ..jobs.write import WriteResult

ON_MEDIUM = frozenset({OK, CHANGED, READ_ERROR})
MiB = 1 << 20
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


def tape_used(device: TapeDevice) -> int | None:
    """Bytes used on the loaded cartridge, every partition (LTFS: index + data partition), without moving.

    One partition: the drive's estimate (capacity - remaining, as `device.medium()`
    says). Two (LTFS): the cartridge memory as the drive keeps it up to date, per
    partition MAXIMUM CAPACITY IN PARTITION minus REMAINING CAPACITY IN PARTITION
    (MAM 0x0001 and 0x0000, in MiB), summed; None when the device has no
    cartridge memory or lacks them (unknown, never guessed).
    """
    try:
        medium = device.medium()
        if medium.partitions == 1:
            return _used(medium)
        read = getattr(device, "read_attribute", None)
        if read is None:
            return None
        total = 0
        for p in range(medium.partitions):
            most, left = read(p, mam.MAXIMUM_CAPACITY_IN_PARTITION), read(p, mam.REMAINING_CAPACITY_IN_PARTITION)
            if most is None or left is None:
                return None
            total += max(0, int.from_bytes(most, "big") - int.from_bytes(left, "big")) * MiB
        return total
    except LtoArchiveError:
        return None


def tape_label(barcode: str | None, volume_uuid: str | None, device: str | None) -> str:
    """How the catalog names a cartridge: its barcode, else its LTFS volume UUID, else the device it was in."""
    if barcode:
        return barcode
    if volume_uuid:
        return f"ltfs:{volume_uuid}"
    return f"device:{device or '?'}"


def _tape_destination(catalog: Catalog, medium: MediumInfo | None, *, barcode: str | None,
                      volume_uuid: str | None, device: str | None, generation: str | None, fmt: str | None,
                      used: int | None = None) -> int:
    barcode = (medium.barcode if medium is not None else None) or barcode
    return catalog.destination(
        "tape", label=tape_label(barcode, volume_uuid, device), barcode=barcode, volume_uuid=volume_uuid,
        generation=_generation_name(medium, generation), fmt=fmt,
        capacity=medium.capacity if medium is not None else None, used=used if used is not None else _used(medium))


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
    from ..span.catalog import record_part, record_span_volume
    for rec in manifest.files:
        if rec.kind == "file" and rec.status in ON_MEDIUM:
            if rec.part:      # one part of a file split across the cartridges of a span set
                record_part(catalog, dest, job, rec, positions)
            else:
                _record_copy(catalog, dest, job, rec, where=None if positions else (None,) * 5)
            out.files += 1
    if s.span:
        record_span_volume(catalog, s, dest, job)
    out.jobs.append(s.session_id)
    return job


# --- after a write job -------------------------------------------------------------------------

def record_write(catalog: Catalog, result: "WriteResult", medium: MediumInfo | None, volume_uuid: str | None = None,
                 folder: Path | None = None, *, used: int | None = None) -> Recorded:
    """Record a finished write job (a jobs.write.WriteResult) in the catalog.

    `medium`: the loaded cartridge (`device.medium()` after the job) for its
    barcode, generation, capacity and use; None when unknown (the session's
    barcode is used). `volume_uuid`: the LTFS volume's (`open_volume(dev).label
    .volume_uuid`), so that a cartridge without barcode is still one volume.
    `used`: bytes used on the cartridge (`tape_used(device)`; default: the
    drive's estimate for one-partition cartridges).
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
            return out
        dest = _tape_destination(catalog, medium, barcode=s.barcode, volume_uuid=volume_uuid, device=s.device,
                                 generation=s.generation, fmt=s.format, used=used)
        out.destination = _label_of(catalog, dest)
        _record_manifest(catalog, dest, manifest, "job", out, status=status)
    return out


def _folder_destination(catalog: Catalog, root: Path, fmt: str | None) -> int:
    path = str(root.resolve())
    try:
        volume = folder_volume(path)
    except OSError:
        volume = None               # unplugged since: known by its path only
    return catalog.folder_destination(path, volume, fmt)


def _record_folder_write(catalog: Catalog, result: "WriteResult", root: Path, status: str, out: Recorded) -> None:
    manifest: Manifest = result.manifest
    s = manifest.session
    dest = _folder_destination(catalog, root, s.format)
    out.destination = _label_of(catalog, dest)
    path = str(root.resolve())
    done = next((f for f in getattr(result, "folders", None) or [] if str(Path(f.root).resolve()) == path), None)
    fields = _job_fields(s)
    fields["status"] = status
    job = catalog.job(s.session_id, dest, "job", **fields)
    out.jobs.append(s.session_id)
    # what the folder got: as the job reports it, else (only the manifest is known) every clean copy
    written = set(done.written) if done is not None else {r.path for r in manifest.files}
    verified = set(done.verified) if done is not None else set()
    for rec in manifest.files:
        if rec.kind != "file" or rec.status != OK or rec.path not in written:
            continue            # only clean copies go to folders; a refused or lost one is not there
        cid = _record_copy(catalog, dest, job, rec, where=(None,) * 5)
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


def record_job(catalog: Catalog, result: "WriteResult", devices: "list[TapeDevice]") -> list[Recorded]:
    """Every destination of a write job: each tape at its own positions with its use, each folder, and
    the read-back the job did of each (`result.readbacks`, `result.folders`) as verifications.

    A tape the job dropped (the device failed) is not recorded; one whose read-back failed is, with
    the failures. `devices`: the job's tape devices, in the order given to write_archive.
    """
    out = []
    ltfs = result.manifest.session.format == "ltfs"
    who = result.manifest.session.operator or None
    for i, dev in enumerate(devices):
        info = result.destinations[i] if i < len(result.destinations) else {}
        if info.get("status") == "failed" and i not in result.readbacks:
            continue
        uuid = None
        if ltfs:
            from ..formats.ltfs.volume import open_volume
            uuid = open_volume(dev).label.volume_uuid
        medium = dev.medium()
        rec = record_write(catalog, result.for_destination(i), medium, volume_uuid=uuid, used=tape_used(dev))
        readback = result.readbacks.get(i)
        if readback is not None:
            proved = record_read(catalog, readback, medium, who, volume_uuid=uuid)
            rec.verifications += proved.verifications
            rec.notes.extend(proved.notes)
        out.append(rec)
    for done in result.folders:
        if done.status != "failed":
            out.append(record_write(catalog, result, None, folder=done.root))
    return out


# --- folders: verified later, rebuilt from their own manifests ------------------------------------

def _catalogue_folder(catalog: Catalog, root: Path, manifests: list[Manifest], recorded_from: str,
                      out: Recorded) -> int:
    """The folder's jobs and the files each copied cleanly that are in the folder now (idempotent)."""
    fmts = ",".join(sorted({m.session.format for m in manifests if m.session.format}))
    dest = _folder_destination(catalog, root, fmts or None)
    out.destination = _label_of(catalog, dest)
    for m in manifests:
        job = catalog.job(m.session.session_id, dest, recorded_from, **_job_fields(m.session))
        out.jobs.append(m.session.session_id)
        for rec in m.files:
            if rec.kind == "file" and rec.status == OK and (root / rec.path).is_file() \
                    and not (root / rec.path).is_symlink():
                _record_copy(catalog, dest, job, rec, where=(None,) * 5)
                out.files += 1
    return dest


def import_folder(catalog: Catalog, root: str | Path) -> Recorded:
    """Rebuild a folder destination's entries from the job manifests it holds (`.lto-archive/*/manifest.json`).

    Each job's cleanly copied files that are in the folder now are catalogued
    as copies on it (nothing is hashed: `verify_folder` proves them). Safe to repeat.
    """
    from ..jobs.folder_verify import folder_manifests
    root = Path(root)
    if not root.is_dir():
        raise CatalogError(f"{root} is not a folder (is the drive mounted?)", folder=str(root))
    manifests, notes = folder_manifests(root)
    out = Recorded(notes=notes)
    if not manifests:
        out.notes.append(f"{root} holds no lto-archive job manifest: nothing to import")
        return out
    with catalog.transaction():
        _catalogue_folder(catalog, root, manifests, "folder", out)
    return out


def record_folder_read(catalog: Catalog, result: "FolderVerifyResult", who: str | None = None) -> Recorded:
    """Record what `jobs.folder_verify.verify_folder` proved: one verification per file read back.

    A folder (or a job in it) the catalog does not know yet is catalogued from its manifests first.
    """
    out = Recorded(notes=list(result.notes))
    if not result.sessions:
        return out
    who = who or getpass.getuser()
    host = socket.gethostname()
    with catalog.transaction():
        dest = _catalogue_folder(catalog, result.root, [s.manifest for s in result.sessions], "verify", Recorded())
        out.destination = _label_of(catalog, dest)
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
                                 generation=first.generation if first else None, fmt=fmts or None,
                                 used=tape_used(device))
        label = out.destination = _label_of(catalog, dest)
        partition = device.partitions - 1
        from ..span.catalog import record_part, record_span_volume
        spanned = {f.manifest.session.span.get("data_tape_file") for f in found
                   if f.manifest is not None and f.manifest.session.span}
        for f in found:
            if f.manifest is None and f.number in spanned:
                continue      # a span set's volume: its manifest is the next tape file's
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
                    if rec.part:
                        record_part(catalog, dest, job, rec)
                    else:
                        _record_copy(catalog, dest, job, rec, where=where)
                    out.files += 1
                if f.manifest.session.span:
                    record_span_volume(catalog, f.manifest.session, dest, job)
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
            member = rec.part.get("member", rec.path) if rec.part else rec.path   # a span set's part: NAME.partNNNN
            node = nodes.get(member)
            length = rec.part.get("length") if rec.part else rec.size
            if rec.kind == "file" and rec.status in ON_MEDIUM and node is not None and (
                    node.length == length or rec.status == READ_ERROR):   # (cut short: only that part is on it)
                owner[member] = (m, rec)

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
                                 device=first.device if first else None, generation=None, fmt="ltfs",
                                 used=tape_used(device))
        out.destination = _label_of(catalog, dest)
        jobs: dict[str, int] = {}
        for m in manifests:
            if any(o[0] is m for o in owner.values()):
                jobs[m.session.session_id] = catalog.job(m.session.session_id, dest, "tape", **_job_fields(m.session))
                out.jobs.append(m.session.session_id)
                if m.session.span:     # a volume of an LTFS span set
                    from ..span.catalog import record_span_volume
                    record_span_volume(catalog, m.session, dest, jobs[m.session.session_id])
        foreign_job: int | None = None
        for path, node in nodes.items():
            if path in owner:
                m, rec = owner[path]
                if rec.part:           # one part of a file split across an LTFS span set
                    from ..span.catalog import record_part
                    record_part(catalog, dest, jobs[m.session.session_id], rec)
                    out.files += 1
                    continue
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


__all__ = ["record_write", "record_read", "record_job", "import_tape", "import_folder", "record_folder_read",
           "tape_used", "Recorded", "tape_label", "ON_MEDIUM", "UNPROVEN", "CatalogError"]
