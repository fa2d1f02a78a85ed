"""What the public API's jobs return: one shape for every target, with `.ok`, `.raise_for_status()` and
`.to_dict()` (the dict the CLI's `--json` prints).

The results wrap the engine's own results (`.raw`); attributes the wrapper does not define are read from
it, so a script can reach every detail the engine records without importing the engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import JobIncomplete, LtoArchiveError
from ..formats.registry import is_volume_layout

_ORDER = ["ok", "incomplete", "interrupted", "failed"]


class Wrapper:
    """Delegates what it does not define to the engine result it wraps."""

    raw: Any

    def __getattr__(self, name: str) -> Any:
        if name == "raw":                      # not set yet (copy, pickle): never recurse
            raise AttributeError(name)
        return getattr(self.raw, name)

    @property
    def status(self) -> str:
        return str(self.raw.status)

    @property
    def ok(self) -> bool:
        """True when every file is copied (or read) and proven, on every target."""
        try:
            self.raise_for_status()
        except LtoArchiveError:
            return False
        return self.status == "ok"

    def raise_for_status(self) -> None:
        self.raw.raise_for_status()


class ReadResult(Wrapper):
    """What `verify`, `restore` or `list_files` found: per tape file (or per cartridge of a set, or per
    session of a folder copy), the files verified, failed, unproven, restored and refused."""

    def __init__(self, raw: Any, *, recorded: Any = None, require_match: Sequence[str] | None = None,
                 require_complete: bool = False) -> None:
        self.raw = raw
        self.recorded = recorded             # what the catalog took from it (folder verify), or None
        self._require_match = require_match  # restore: the patterns; nothing restored is then an error
        self._require_complete = require_complete   # a span set: it must be read to its last volume

    @property
    def phase(self) -> str:
        return str(getattr(self.raw, "phase", "verify"))

    @property
    def tape_files(self) -> list[Any]:
        return list(getattr(self.raw, "tape_files", []))

    @property
    def notes(self) -> list[str]:
        return list(self.raw.notes)

    @property
    def verified(self) -> list[str]:
        if hasattr(self.raw, "sessions"):
            return list(self.raw.verified)
        return [p for t in self.tape_files for p in t.verified]

    @property
    def restored(self) -> list[str]:
        return [p for t in self.tape_files for p in getattr(t, "restored", [])]

    @property
    def failed(self) -> list[dict[str, Any]]:
        return list(self.raw.failed)

    @property
    def set_id(self) -> str | None:
        return getattr(self.raw, "set_id", None)

    def raise_for_status(self) -> None:
        self.raw.raise_for_status()
        if self._require_complete and not self.raw.complete:
            raise JobIncomplete(f"the set was not read to its last volume ({len(self.raw.barcodes)} read: "
                                f"{', '.join(b or '?' for b in self.raw.barcodes)})", set_id=self.raw.set_id)
        if self._require_match is not None and not any(t.restored for t in self.tape_files):
            raise JobIncomplete("nothing matched: no file was restored", patterns=list(self._require_match))

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = self.raw.to_dict()
        if self.recorded is not None:
            doc["recorded"] = self.recorded.to_dict()
        return doc


@dataclass(frozen=True)
class Position:
    """Where a file starts on the tape: its tape file (TAR/CPIO/AXF; an LTFS volume is one: 0), the
    record (block) its header (LTFS: its data, on the data partition) starts in, and the byte offset
    in that record."""

    tape_file: int | None
    block: int
    offset: int


@dataclass(frozen=True)
class FileEntry:
    """One member on a tape (or mounted LTFS volume)."""

    path: str
    size: int
    hashes: dict[str, str]
    position: Position
    kind: str = "file"
    mtime: float = 0.0
    linkname: str = ""
    session_id: str | None = None


class Listing(ReadResult):
    """What `list_files` found: iterate it for the FileEntry of every member, in tape order."""

    def __init__(self, raw: Any) -> None:
        super().__init__(raw)
        self.entries: list[FileEntry] = []
        for t in self.tape_files:
            known = {f.path: f.hashes for f in t.manifest.files} if t.manifest is not None else {}
            for m in t.members:
                self.entries.append(FileEntry(m.path, m.size, dict(m.hashes or known.get(m.path, {})),
                                              Position(m.tape_file, m.block, m.offset), m.kind, m.mtime,
                                              m.linkname, t.session_id))

    def __iter__(self) -> Iterator[FileEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, i: int) -> FileEntry:
        return self.entries[i]

    @property
    def status(self) -> str:
        return "damaged" if self.raw.errors else "ok"

    def raise_for_status(self) -> None:
        if self.raw.errors:
            raise self.raw.errors[0]

    def to_dict(self) -> dict[str, Any]:
        return {"notes": self.raw.notes, "tape_files": [
            {"tape_file": t.tape_file, "session_id": t.session_id, "error": t.error.to_dict() if t.error else None,
             "members": [asdict(m) for m in t.members]} for t in self.tape_files]}


@dataclass
class WriteResult:
    """What `write` did. One job (tapes, folders or an LTFS mount, one session): `job`. A job that spans
    cartridges: one set per drive in `sets` (`set_id` names the first), each with its read-back in `checks`
    when one was asked for."""

    job: Any = None
    sets: list[Any] = field(default_factory=list)
    checks: list[ReadResult | None] = field(default_factory=list)

    @property
    def set_id(self) -> str | None:
        return self.sets[0].set_id if self.sets else None

    @property
    def set_ids(self) -> list[str]:
        return [s.set_id for s in self.sets]

    @property
    def _results(self) -> list[Any]:
        return [self.job] if self.job is not None else list(self.sets)

    @property
    def files(self) -> list[Any]:
        return [f for r in self._results for f in r.files]

    @property
    def problems(self) -> list[Any]:
        return [f for r in self._results for f in r.problems]

    @property
    def notes(self) -> list[str]:
        return [n for r in self._results for n in r.notes]

    @property
    def log_paths(self) -> list[Path]:
        return [p for r in self._results for p in r.log_paths]

    @property
    def error(self) -> LtoArchiveError | None:
        return next((r.error for r in self._results if r.error is not None), None)

    @property
    def manifest(self) -> Any:
        """The job's manifest (a spanning job: its whole files, as a folder copy holds them)."""
        return self.job.manifest if self.job is not None else self.sets[0].whole_manifest()

    @property
    def destinations(self) -> list[dict[str, Any]]:
        return list(self.job.destinations) if self.job is not None else []

    @property
    def status(self) -> str:
        """ok, incomplete or failed: a job that spans cartridges is as good as its worst set."""
        if self.job is not None:
            return str(self.job.status)
        return max((str(s.status) for s in self.sets), key=_ORDER.index, default="ok")

    @property
    def ok(self) -> bool:
        return self.status == "ok" and all(c is None or c.ok for c in self.checks)

    def raise_for_status(self) -> None:
        if self.job is not None:
            self.job.raise_for_status()
        for s, check in zip(self.sets, self.checks + [None] * len(self.sets)):
            s.raise_for_status()
            if check is not None:
                check.raise_for_status()

    def to_dict(self) -> dict[str, Any]:
        if self.job is not None:
            r = self.job
            return {"status": r.status, "error": r.error.to_dict() if r.error else None, "notes": r.notes,
                    "destinations": r.destinations,
                    "session": r.manifest.to_dict()["session"], "log": [str(p) for p in r.log_paths],
                    "problems": [{"path": f.path, "status": f.status, "message": f.message} for f in r.problems]}
        docs = []
        for s, check in zip(self.sets, self.checks + [None] * len(self.sets)):
            doc = span_dict(s)
            if check is not None:
                doc["verify"] = check.to_dict()
            docs.append(doc)
        if len(docs) == 1:
            return docs[0]
        return {"status": self.status, "job": self.sets[0].job_id, "sets": docs}


def span_dict(r: Any) -> dict[str, Any]:
    """One set of a spanning job (a span.write.SpanResult) as a JSON-ready dict."""
    return {"status": r.status, "error": r.error.to_dict() if r.error else None, "set_id": r.set_id, "job": r.job_id,
            **({"drive": r.drive} if r.drive else {}),
            "cartridges": [{"sequence": v.manifest.session.span.get("sequence"), "barcode": v.manifest.session.barcode,
                            "tape_file": v.manifest.session.tape_file, "last": v.manifest.session.span.get("last"),
                            "files": len([f for f in v.files if not f.part]),
                            "parts": [{"path": f.path, **{k: f.part[k] for k in ("number", "offset", "length")}}
                                      for f in v.files if f.part],
                            "bytes": v.manifest.session.bytes_copied} for v in r.volumes],
            "folders": [f.to_dict() for f in r.folders],
            "log": [str(p) for p in r.log_paths],
            "problems": [{"path": f.path, "status": f.status, "message": f.message} for f in r.problems]}


def place_text(fmt: str | None, *, tape_file: int | None = None, block: int | None = None, offset: int | None = None,
               partition: int | None = None, style: str = "copy") -> str:
    """Where something is on a tape, in words, as the format places it (LTFS: partition and block; the
    others: tape file, record and offset). `style`: "copy" (a catalogued copy: with the format),
    "plan" (a file of a restore plan), "session" (where a write session starts)."""
    if is_volume_layout(fmt):         # LTFS: found through its index, by partition and block
        if style == "session":
            return f"LTFS session from b/{block}" if block is not None else "LTFS session"
        return f"block {block}" if style == "plan" else f"LTFS, partition {partition}, block {block}"
    if style == "session":
        return f"tape file {tape_file}"
    if style == "plan":
        return f"tape file {tape_file} block {block}+{offset}"
    return f"{fmt}, tape file {tape_file}, block {block}+{offset}"


@dataclass(frozen=True)
class FormatResult:
    """What `format_ltfs` made: the new, empty LTFS volume."""

    serial: str | None
    volume_uuid: str
    volume_name: str
    block_size: int
    generation: int

    ok = True
    status = "ok"

    def raise_for_status(self) -> None:
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"status": "ok", "serial": self.serial, "volume_uuid": self.volume_uuid,
                "volume_name": self.volume_name, "block_size": self.block_size, "generation": self.generation}


__all__ = ["place_text", "Wrapper", "ReadResult", "Listing", "FileEntry", "Position", "WriteResult", "FormatResult", "span_dict"]
