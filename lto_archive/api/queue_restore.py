"""A queued restore, safe to retry: the files an earlier attempt placed are proven, not restored again.

A restore never overwrites (unless `--overwrite`), and places a file under its real name only once it is whole
and proven (restore_target.py). A restore retried after its node died finds in DEST the files its first
attempt placed: the retry runs the restore again without overwriting, and every file it refused because it
exists counts as restored when its bytes in DEST have the very checksums the tape's manifest gives it (all
of them); the tape file's own metadata (`.lto-archive/tape-file-N/`) when DEST holds that same session's.
Anything else that exists (a file of someone else's, bytes that differ) stays refused, as on a first attempt:
nothing in DEST is ever replaced by a retry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..hashing import MultiHasher
from .reading import restore

CHUNK = 1 << 20
METADATA = ".lto-archive/tape-file-"


class RetriedRestore:
    """A retried restore's result: the restore's, with what the earlier attempt placed counted as restored."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def to_dict(self) -> dict[str, Any]:
        return self.doc


def queued_restore(spec: str, args: dict[str, Any], common: dict[str, Any], attempt: int) -> Any:
    """The restore a queued job asks for, on attempt `attempt` (1: the first)."""
    overwrite = bool(args.get("overwrite"))
    result = restore(spec, args["dest"], list(args.get("patterns") or ()), overwrite=overwrite, **common)
    if attempt <= 1 or overwrite:
        return result
    return RetriedRestore(settle_retry(result, Path(args["dest"]), attempt))


def _same_file(path: Path, record: Any) -> bool:
    """`path` (in DEST) is the file `record` describes: a regular file with every checksum it gives."""
    if record is None or record.kind != "file" or not record.hashes or path.is_symlink() or not path.is_file():
        return False
    hasher = MultiHasher(list(record.hashes))
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)
    return hasher.hexdigests() == {k: v.lower() for k, v in record.hashes.items()}


def _same_session(dest: Path, relpath: str, session_id: str | None) -> bool:
    """A metadata file of tape file N in DEST, whose folder's manifest is this session's."""
    folder = relpath.split("/", 2)[1]
    try:
        doc = json.loads((dest / ".lto-archive" / folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return bool(session_id) and isinstance(doc, dict) and (doc.get("session") or {}).get("session_id") == session_id


def settle_retry(result: Any, dest: Path, attempt: int) -> dict[str, Any]:
    """The retried restore's result as a dict, each refusal of a file the earlier attempt placed resolved."""
    doc: dict[str, Any] = dict(result.to_dict())
    raw_files = list(getattr(result.raw, "tape_files", []))
    total = 0
    for tf, raw in zip(doc.get("tape_files") or [], raw_files):
        manifest = getattr(raw, "manifest", None)
        records = {f.path: f for f in (manifest.files if manifest is not None else [])}
        still: list[Any] = []
        already: list[str] = []
        for r in tf.get("refused") or []:
            path = str(r.get("path", ""))
            target = dest / path
            placed = r.get("reason") == "exists" and os.path.normpath(path) == path and not path.startswith("/") and (
                _same_file(target, records.get(path)) if not path.startswith(METADATA)
                else _same_session(dest, path, tf.get("session_id")))
            if placed:
                already.append(path)
            else:
                still.append(r)
        tf["refused"], tf["already_restored"] = still, already
        total += len(already)
    doc["attempt"], doc["already_restored"] = attempt, total
    if doc.get("status") == "refused" and not any(tf.get("refused") for tf in doc.get("tape_files") or []):
        doc["status"] = "ok"
    return doc


__all__ = ["queued_restore", "settle_retry", "RetriedRestore"]
