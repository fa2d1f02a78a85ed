"""Catalog import: a job that reads a cartridge (or a folder) and writes what it holds into the catalog.

The catalog is a store that never reads a tape; this is the engine side.

- `import_tape(catalog, device)`: rebuild the entries of the loaded cartridge
  from the tape alone: each tape file's `.lto-archive/manifest.json` (TAR,
  CPIO, any registered format), or for an LTFS volume its current index with
  the `ltfs.hash.*` checksums and the sessions' manifests stored on it.
  Importing the same tape twice changes nothing (catalog.imported).
- `import_folder(catalog, root)`: a folder destination, from the job manifests it holds.
- `record_job(catalog, result, devices)`: every destination of a write job (each
  tape with its own positions and `tape_used`, each `--copy-to` folder) and the
  job's read-back of each, as verifications.
- `tape_used(device)`: bytes used on the loaded cartridge, every partition.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..catalog.imported import (IndexedFile, TapeFileFound, record_folder_import, record_ltfs_index,
                                record_tape_files)
from ..catalog.record import Recorded, medium_used, record_read, record_write
from ..catalog.schema import CatalogError
from ..catalog.store import Catalog
from ..errors import ArchiveError, EndOfData, LtoArchiveError
from ..formats.ltfs.index import MODIFY
from ..formats.ltfs.volume import open_volume, partition_of
from ..manifest import MANIFEST_MEMBER, META_DIR, SESSION_MEMBER, Manifest
from ..tape import mam
from ..tape.device import TapeDevice
from .folder_verify import folder_manifests
from .ltfs_read import read_file_bytes, stored_hashes
from .medium import LtfsVolume, TapeFiles, open_medium
from .read import locate_tape_file, open_tape_file

MiB = 1 << 20


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
            return medium_used(medium)
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


def record_job(catalog: Catalog, result: Any, devices: "list[TapeDevice]") -> list[Recorded]:
    """Every destination of a write job (a jobs.write.WriteResult): each tape at its own positions with its
    use, each folder, and the read-back the job did of each (`result.readbacks`, `result.folders`) as
    verifications.

    A tape the job dropped (the device failed) is not recorded; one whose read-back failed is, with
    the failures. `devices`: the job's tape devices, in the order given to write_archive.
    """
    out = []
    who = result.manifest.session.operator or None
    for i, dev in enumerate(devices):
        info = result.destinations[i] if i < len(result.destinations) else {}
        if info.get("status") == "failed" and i not in result.readbacks:
            continue
        uuid = info.get("volume_uuid")       # an LTFS volume's (the LTFS write job says it), else None
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


def read_tape_file(device: TapeDevice, n: int) -> TapeFileFound:
    """The tape file here (number `n`): its session document, manifest and file members with their
    positions (no hashing). A member whose data the tape file does not hold to its end (a job killed,
    or the drive's buffer lost with the power, inside it) is not one: its header alone is no copy."""
    found = TapeFileFound(n)
    fmt, stream, reader = open_tape_file(device)
    found.format = fmt.name if fmt is not None else ""
    ends: list[int] = []
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
                ends.append(m.data_offset + m.size)
    except ArchiveError as exc:
        found.error = exc.message
    finally:
        if not stream.at_end:
            stream.skip_to_end()
    held = stream.bytes_read            # the whole tape file's bytes, read to its filemark or end of data
    found.members = [m for m, end in zip(found.members, ends) if end <= held]
    return found


def import_tape(catalog: Catalog, device: TapeDevice, manifest: Manifest | None = None) -> Recorded:
    """Rebuild the catalog entries of the loaded cartridge from what is on it (idempotent).

    The tape is read first, then written to the catalog in one transaction.
    TAR/CPIO: every tape file's manifest; a tape file without one (the job
    failed, or another tool wrote it) is catalogued from its members, without
    hashes, as 'unproven'. LTFS: the current index, its `ltfs.hash.*`
    checksums and the sessions' manifests on the volume. `manifest` (a copy log or a job's journal)
    stands in for the manifest of its tape file when that has none (a job that was killed): the members
    it lists that are whole on tape are catalogued with its hashes.
    """
    medium = device.medium()
    layout = open_medium(device)
    if manifest is not None and isinstance(layout, TapeFiles):
        return _import_tape_files(catalog, device, medium, manifest)
    return _IMPORT[type(layout)](catalog, device, medium)


def _import_tape_files(catalog: Catalog, device: TapeDevice, medium: Any, manifest: Manifest | None = None) -> Recorded:
    found: list[TapeFileFound] = []
    n = 0
    while locate_tape_file(device, n):
        found.append(read_tape_file(device, n))
        if manifest is not None and found[-1].manifest is None and manifest.session.tape_file in (None, n):
            found[-1].manifest = whole_members(manifest, found[-1])
        n += 1
    return record_tape_files(catalog, medium, found, device=getattr(device, "name", None),
                             partition=device.partitions - 1, used=tape_used(device))


def whole_members(manifest: Manifest, f: TapeFileFound) -> Manifest:
    """The manifest less the files that are not whole members of the tape file as read."""
    sizes = {path: size for path, size, *_ in f.members}
    return Manifest(manifest.session, [r for r in manifest.files if r.kind != "file" or sizes.get(r.path) == r.size])


def _import_ltfs(catalog: Catalog, device: TapeDevice, medium: Any) -> Recorded:
    state = open_volume(device)
    notes = list(state.notes)
    manifests: list[Manifest] = []
    files: list[IndexedFile] = []
    for path, node in state.index.files():
        if node.symlink is not None:
            continue
        if path.startswith(META_DIR + "/"):
            if path.endswith("/manifest.json"):
                try:
                    raw = b"".join(bytes(v) for v in read_file_bytes(device, node, state.block_size))
                    manifests.append(Manifest.from_json(raw))
                except (LtoArchiveError, EndOfData, ValueError, KeyError, TypeError) as exc:
                    notes.append(f"{path}: cannot be read ({getattr(exc, 'message', exc)}); its files are "
                                 f"catalogued from the index alone")
            continue
        extent = None
        if node.extents:
            ext = min(node.extents, key=lambda e: e.file_offset)
            extent = (partition_of(ext.partition), ext.start_block, ext.byte_offset)
        files.append(IndexedFile(path, node.length, node.time_ns(MODIFY) / 1e9, stored_hashes(node), extent))
    return record_ltfs_index(catalog, medium, files, manifests, volume_uuid=state.label.volume_uuid,
                             creator=state.index.creator, notes=notes, used=tape_used(device))


_IMPORT: dict[type, Callable[[Catalog, TapeDevice, Any], Recorded]] = {TapeFiles: _import_tape_files,
                                                                      LtfsVolume: _import_ltfs}   # per layout


def import_folder(catalog: Catalog, root: str | Path) -> Recorded:
    """Rebuild a folder destination's entries from the job manifests it holds (`.lto-archive/*/manifest.json`).

    Each job's cleanly copied files that are in the folder now are catalogued
    as copies on it (nothing is hashed: `verify_folder` proves them). Safe to repeat.
    """
    root = Path(root)
    if not root.is_dir():
        raise CatalogError(f"{root} is not a folder (is the drive mounted?)", folder=str(root))
    manifests, notes = folder_manifests(root)
    return record_folder_import(catalog, root, manifests, notes)


__all__ = ["import_tape", "import_folder", "record_job", "tape_used", "read_tape_file"]
