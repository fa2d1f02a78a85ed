"""The store side of span sets: a part of a split file, and a cartridge's place in its set.

`record_part` and `record_span_volume` are called by catalog.record for every
manifest it records (after a job, a verify, an import): a part's file row is
the whole file (the whole file's hashes, once a manifest that knows them is
seen), its copy row says which part of it the cartridge holds.
"""

from __future__ import annotations

from typing import Any

from ..manifest import FileRecord, SessionInfo
from .store import Catalog


def record_part(catalog: Catalog, dest: int, job: int, rec: FileRecord, positions: bool = True) -> int:
    """One part of a split file on cartridge `dest`: a copy of the whole file, with its part number/offset/length."""
    part = rec.part or {}
    fid = catalog.file(rec.path, rec.size, rec.mtime, part.get("file_hashes") or {})
    where: dict[str, Any] = {}
    if positions:
        where = {"tape_file": rec.tape_file, "partition": rec.partition, "block": rec.block,
                 "block_offset": rec.offset, "header_offset": rec.header_offset}
    cid = catalog.copy(fid, dest, job, status=rec.status, **where)
    catalog.conn.execute("UPDATE copies SET part_number = ?, part_offset = ?, part_length = ? WHERE id = ?",
                         (part.get("number"), part.get("offset"), part.get("length"), cid))
    return cid


def record_span_volume(catalog: Catalog, session: SessionInfo, dest: int, job: int) -> None:
    """The volume a session is in its set (from its manifest's `span`)."""
    span = session.span
    catalog.conn.execute(
        "INSERT INTO span_volumes(set_id, sequence, job_id, destination_id, span_job, last, data_tape_file, "
        "manifest_tape_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(set_id, sequence) DO UPDATE SET "
        "job_id = excluded.job_id, destination_id = excluded.destination_id, last = excluded.last",
        (span["set_id"], span["sequence"], job, dest, span.get("job") or "", 1 if span.get("last") else 0,
         span.get("data_tape_file"), span.get("manifest_tape_file")))


__all__ = ["record_part", "record_span_volume"]
