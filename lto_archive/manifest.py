"""What one archive session holds: the data model of the manifest and copy log.

The same manifest goes onto tape as `.lto-archive/manifest.json` (so the tape
describes itself without any database) and next to the job as its copy log.
Encoding (JSON, checksum lists, the printable log) is kept apart from the model.
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, field
from datetime import datetime, timezone
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from .errors import CorruptArchive
from .hashing import ALGORITHMS, CHECKSUM_LISTS, checksum_line

MANIFEST_FORMAT = "lto-archive-manifest"
MANIFEST_VERSION = 1
META_DIR = ".lto-archive"
SESSION_FORMAT = "lto-archive-session"
SESSION_MEMBER = f"{META_DIR}/session.json"
MANIFEST_MEMBER = f"{META_DIR}/manifest.json"
COPY_LOG_MEMBER = f"{META_DIR}/copy-log.txt"

# file status values
OK = "ok"                      # on tape, hashed while read, unchanged: may be verified
CHANGED = "changed"            # size or mtime differed after reading: never called verified
READ_ERROR = "read-error"      # the source failed part-way: member padded with zeros
UNREADABLE = "unreadable"      # could not be opened: not on tape
NOT_WRITTEN = "not-written"    # no room, or the job stopped before it
LOST = "lost"                  # was being written when the device failed: not complete on tape
SKIPPED = "skipped"            # special file (socket, device): not archived


@dataclass
class FileRecord:
    """One member of the archive, as the copy log and verification need it."""

    path: str
    kind: str = "file"
    size: int = 0
    mtime: str = ""
    mode: int = 0o644
    hashes: dict[str, str] = field(default_factory=dict)
    status: str = OK
    message: str = ""
    source: str = ""
    tape_file: int | None = None
    partition: int | None = None
    block: int | None = None       # record where its (first) header starts
    offset: int | None = None      # byte offset of the header inside that record
    header_offset: int | None = None  # byte offset in the tape file
    linkname: str = ""
    # a file split across the cartridges of a span set (docs/spanning.md): this record is one
    # part, `hashes` are the part's; {"number", "offset", "length", "size" (whole file),
    # "last" (bool), "file_hashes" (the whole file's, known on the cartridge of the last part)}
    part: dict | None = None

    @property
    def provable(self) -> bool:
        return self.kind == "file" and self.status == OK


#: session fields a manifest leaves out when they are empty, so a session without them reads as before they existed
OMITTED_WHEN_EMPTY = ("production", "queue_job")


@dataclass
class SessionInfo:
    """Who wrote what, where and when: the copy log's head."""

    session_id: str
    tool: str
    format: str
    algorithms: list[str]
    record_size: int
    operator: str
    host: str
    sources: list[str]
    device: str
    barcode: str | None
    generation: str
    tape_file: int | None
    partition: int | None
    start_block: int | None
    started: str
    finished: str = ""
    duration_s: float = 0.0
    bytes_copied: int = 0
    files: int = 0
    mb_per_s: float = 0.0
    status: str = ""
    destinations: list[dict] = field(default_factory=list)   # every tape/folder of a fan-out job
    # a job that spans cartridges (docs/spanning.md): {"set_id", "job", "sequence", "last",
    # "previous", "data_tape_file", "manifest_tape_file"}; empty for a one-cartridge job
    span: dict = field(default_factory=dict)
    production: str = ""       # write --production; "" (not written at all: older manifests stay as they were)
    queue_job: int | None = None   # the queued job (api/queue.py) this session is; None: not written at all



def utc_now() -> datetime:
    return datetime.now(timezone.utc)


_last_iso: tuple[float, str] = (-1.0, "")   # a file's mtime is asked twice in a row (scan, then open)
_last_second: tuple[int, str] = (-(2**62), "")   # the seconds' text of the last time formatted


def iso(ts: datetime | float) -> str:
    """UTC, microseconds, "Z": what `datetime.fromtimestamp(ts, utc).isoformat(timespec="microseconds")`
    gives, with the seconds' text made once per second (a frame sequence's files share their seconds)."""
    global _last_iso, _last_second
    if not isinstance(ts, datetime):
        last = _last_iso
        if last[0] == ts:
            return last[1]
        frac, whole = math.modf(ts)
        us = round(frac * 1e6)        # as fromtimestamp rounds: half to even, then carried into the second
        if us >= 1_000_000:
            whole, us = whole + 1, us - 1_000_000
        elif us < 0:
            whole, us = whole - 1, us + 1_000_000
        sec = int(whole)
        seconds = _last_second      # read once: another thread may replace it meanwhile
        if seconds[0] != sec:
            seconds = _last_second = (sec, datetime.fromtimestamp(sec, timezone.utc).replace(tzinfo=None).isoformat())
        text = f"{seconds[1]}.{us:06d}Z"
        _last_iso = (ts, text)
        return text
    return ts.isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class Manifest:
    session: SessionInfo
    files: list[FileRecord]

    def _head(self) -> dict[str, Any]:
        files = size = ok = 0
        for f in self.files:        # one pass, no list of them (10^6 records on disk: record_file.py)
            if f.kind == "file":
                files += 1
                size += f.size
                ok += f.status == OK
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "session": {k: v for k, v in asdict(self.session).items() if k not in OMITTED_WHEN_EMPTY or v},
            "totals": {"files": files, "bytes": size, "ok": ok, "problems": files - ok},
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self._head(), "files": [dict(vars(f)) for f in self.files]}

    def json_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """to_json's bytes in pieces of about `chunk_size`: no per-file dicts or whole-document strings
        (10^5 files: ~40 MB of JSON, which to_dict + join held four times over)."""
        head = json.dumps(self._head(), ensure_ascii=False)[:-1]
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        lines = getattr(self.files, "json_lines", None)     # a RecordFile holds each record's line already
        if lines is not None:
            yield from _joined_lines(f'{head}, "files": [\n '.encode("utf-8", "surrogateescape"), lines(), chunk_size)
            return
        per = max(1, chunk_size // 512)      # records per part (a record's line: ~300-500 bytes)
        records = iter(self.files)
        text, sep = f'{head}, "files": [\n ', ""
        while batch := list(islice(records, per)):      # a part's records joined at once: no loop per record
            yield (text + sep + ",\n ".join(map(dumps, map(vars, batch)))).encode("utf-8", "surrogateescape")
            text, sep = "", ",\n "
        yield (text + "\n]}\n").encode("utf-8", "surrogateescape")

    def to_json(self) -> bytes:
        """One file per line: the C encoder (no indent) keeps 10^5 files fast, lines keep it greppable."""
        return b"".join(self.json_chunks())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Manifest":
        """The manifest in `data`; ManifestDamaged (a CorruptArchive) when it is not one, or a value has
        the wrong type (what the readers and the catalog rely on is checked here, once)."""
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, list):
            manifest_from_head(data, [])     # says what is wrong with it, when its head is wrong too
            raise ManifestDamaged("an lto-archive manifest without its session or its list of files")
        return manifest_from_head(data, file_records(files))

    @classmethod
    def from_json(cls, raw: str | bytes) -> "Manifest":
        """The manifest in `raw` (UTF-8, names not in UTF-8 as the writer kept them: surrogateescape)."""
        return cls.from_dict(load_json(raw, "manifest"))

    @classmethod
    def parse(cls, raw: bytes, what: str) -> "Manifest":
        """A manifest or copy log that EXISTS: parsed, or CorruptArchive naming `what` (damage, never absence)."""
        try:
            m = cls.from_json(raw)
            if not isinstance(m.files, list):
                raise TypeError("no list of files")
            return m
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CorruptArchive(f"the manifest {what} is damaged: it cannot be parsed ({why(exc)})") from None

    def checksum_lists(self) -> dict[str, bytes]:
        """File name -> contents, one list per algorithm, for md5sum -c / xxhsum -c.

        Paths are relative to the restore folder: run the tool from there.
        """
        return {CHECKSUM_LISTS[algo][0]: b"".join(self.checksum_chunks(algo)) for algo in self.session.algorithms}

    def checksum_names(self) -> list[tuple[str, str]]:
        """(algorithm, file name) of every checksum list, in the order `checksum_lists` gives them."""
        return [(algo, CHECKSUM_LISTS[algo][0]) for algo in self.session.algorithms]

    def checksum_chunks(self, algo: str, lines: int = 8192) -> Iterator[bytes]:
        """One checksum list's bytes in parts of `lines` lines (10^6 files: never the whole list, or a
        list of its lines, at once)."""
        out: list[str] = []
        for f in self.files:
            if f.kind != "file" or f.status != OK:
                continue
            # a file split across cartridges is listed (whole) where its last part is
            h = (f.part.get("file_hashes") or {}) if f.part else f.hashes
            value = h.get(algo)
            if value is None:
                continue
            line = checksum_line(algo, value, f.path)
            if line:
                out.append(line)
                if len(out) >= lines:
                    yield "".join(out).encode("utf-8", "surrogateescape")
                    out.clear()
        if out:
            yield "".join(out).encode("utf-8", "surrogateescape")

    def copy_log_text(self) -> str:
        """The human copy log (CST RT-030 2.2): who, when, what, where, and every file."""
        return "".join(self._copy_log_parts())

    def copy_log_chunks(self) -> Iterator[bytes]:
        """copy_log_text's bytes (UTF-8, names as the writer kept them) in parts."""
        for part in self._copy_log_parts():
            yield part.encode("utf-8", "surrogateescape")

    def _copy_log_parts(self, lines: int = 8192) -> Iterator[str]:
        s = self.session
        head = [
            "lto-archive copy log",
            f"session      {s.session_id}",
            f"status       {s.status}",
            f"operator     {s.operator}",
            f"host         {s.host}",
            f"tool         {s.tool}",
            f"started      {s.started}",
            f"finished     {s.finished}",
            f"duration     {s.duration_s:.1f} s",
            f"throughput   {s.mb_per_s:.1f} MB/s",
            f"source       {', '.join(s.sources)}",
            f"device       {s.device}",
            f"barcode      {s.barcode or '-'}",
            f"generation   {s.generation}",
            f"format       {s.format}, {s.record_size} byte records",
            f"tape file    {s.tape_file} (partition {s.partition}, block {s.start_block})",
            f"hashes       {', '.join(s.algorithms)}",
            *([f"production   {s.production}"] if s.production else []),
            *([f"queued job   {s.queue_job}"] if s.queue_job is not None else []),
            "",
        ]
        count = total = 0
        for f in self.files:
            if f.kind == "file":
                count += 1
                total += f.size
        head += [f"files        {count}, {total} bytes", ""]
        out = ["\n".join(head)]
        for f in self.files:
            if f.kind != "file":
                continue
            hashes = " ".join([f"{a}:{h}" for a, h in f.hashes.items()])
            note = f" ({f.message})" if f.message else ""
            out.append(f"\n{f.status:<12} {f.size:>14}  {f.path}  {hashes}{note}")
            if len(out) >= lines:
                yield "".join(out)
                out.clear()
        out.append("\n")
        yield "".join(out)


def _joined_lines(head: bytes, lines: Iterator[Any], chunk_size: int) -> Iterator[bytes]:
    """The manifest's bytes from its head and its records' lines: what json_chunks makes of the records."""
    buf = bytearray(head)
    sep = b""
    for line in lines:
        buf += sep
        buf += line
        sep = b",\n "
        if len(buf) >= chunk_size:
            yield bytes(buf)
            buf.clear()
    buf += b"\n]}\n"
    yield bytes(buf)


def manifest_from_head(head: Any, records: Sequence[FileRecord]) -> Manifest:
    """The manifest of a document's head (format, session) and its file records (checked already): the
    session checked as `Manifest.from_dict` checks it; ManifestDamaged when it is wrong."""
    if not isinstance(head, dict) or head.get("format") != MANIFEST_FORMAT:
        raise ManifestDamaged("not an lto-archive manifest")
    session = head.get("session")
    if not isinstance(session, dict):
        raise ManifestDamaged("an lto-archive manifest without its session or its list of files")
    info = SessionInfo(**_typed(SessionInfo, session, "session"))
    odd = [k for k, v in vars(info).items() if isinstance(v, str) and k != "device" and not_utf8(v)]
    if odd:     # names of files and folders may be any bytes (surrogateescape); what we wrote never is
        raise ManifestDamaged(f"the manifest's session has {', '.join(odd)} not in UTF-8")
    bad = [a for a in info.algorithms if a not in ALGORITHMS]
    if bad:
        raise ManifestDamaged(f"the manifest names unknown hash algorithms: {', '.join(bad)}")
    return Manifest(info, records)  # type: ignore[arg-type]


def why(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


class ManifestDamaged(CorruptArchive, ValueError):
    """A manifest, copy log or session record that exists but cannot be read: damage, not absence.
    (A ValueError too, for callers that already treat a manifest they cannot parse as one.)"""


MAX_JSON_BYTES = 1 << 30     # a manifest of 10^6 files is ~300 MB
MAX_JSON_DEPTH = 16


def load_json(raw: str | bytes | bytearray | memoryview, what: str) -> Any:
    """JSON from `raw`, as our writers encode it; anything else (bad UTF-8 is kept as surrogateescape,
    too deep, too long a number, not JSON) is ManifestDamaged naming `what`."""
    if len(raw) > MAX_JSON_BYTES:
        raise ManifestDamaged(f"the {what} is larger than any lto-archive writes ({len(raw)} bytes)")
    try:
        doc = json.loads(raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError) as exc:
        raise ManifestDamaged(f"the {what} cannot be parsed: {str(exc)[:200]}") from None
    check_depth(doc, what)
    return doc


def check_depth(doc: Any, what: str, levels: int = MAX_JSON_DEPTH) -> None:
    """ManifestDamaged when `doc` nests deeper than `levels` (ours nest 4 deep; a deeper one would break
    whoever walks it recursively)."""
    level, depth = [doc], 0
    while level:
        depth += 1
        if depth > levels:
            raise ManifestDamaged(f"the {what} nests deeper than any lto-archive writes ({MAX_JSON_DEPTH} levels)")
        level = [v for c in level if isinstance(c, (dict, list)) for v in (c.values() if isinstance(c, dict) else c)]


def _type_ok(value: Any, kind: str) -> bool:
    """`value` is of the (annotated) type `kind`, as JSON gives it: "int | None", "dict[str, str]", ..."""
    if value is None:
        return "None" in kind
    base = kind.split(" | ")[0]
    if base == "int":      # what SQLite (the catalog) and a tape can hold: a signed 64-bit number
        return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    if base == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 2**63
    if base == "str":
        return isinstance(value, str)
    if base == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if base == "list[dict]":
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    if base == "dict[str, str]":
        return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
    return base == "dict" and isinstance(value, dict)


def not_utf8(value: str) -> bool:
    """`value` holds a lone surrogate: bytes that were not UTF-8 (kept with surrogateescape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _typed(cls: Any, data: Any, what: str) -> dict[str, Any]:
    """The known fields of dataclass `cls` in `data`, each of its declared type, and every required one."""
    if not isinstance(data, dict):
        raise ManifestDamaged(f"the manifest's {what} is not an object")
    fields = cls.__dataclass_fields__
    out = {k: v for k, v in data.items() if k in fields}
    for name, f in fields.items():
        if name not in out:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ManifestDamaged(f"the manifest's {what} has no {name}")
        elif not _type_ok(out[name], str(f.type)):
            raise ManifestDamaged(f"the manifest's {what} has a {name} of the wrong type ({type(out[name]).__name__})")
    return out


_INT_RANGE = 2**63
#: FileRecord's fields in the order the writers give them (`vars(f)`): a record whose keys are exactly these
_RECORD_KEYS = tuple(FileRecord.__dataclass_fields__)
#: the types a FileRecord field may have on the fast path (`part`, a span set's, goes the slow way)
_FAST_TYPES: dict[str, frozenset[type]] = {
    "int": frozenset((int,)), "int | None": frozenset((int, type(None))), "str": frozenset((str,)),
    "dict[str, str]": frozenset((dict,)), "dict | None": frozenset((type(None),)),
}
#: record signatures (the type of each value, in field order) seen good -> the positions of their ints
_GOOD_SIGNATURES: dict[tuple[type, ...], tuple[int, ...]] = {}
_HASHES_AT = _RECORD_KEYS.index("hashes")


def _signature_ints(sig: tuple[type, ...]) -> tuple[int, ...] | None:
    """The positions of the ints in a record of value types `sig`, when every type is one `_typed` accepts
    for its field (exact types, no `part`): None otherwise. Remembered (at most 2^5 signatures pass)."""
    ints = _GOOD_SIGNATURES.get(sig)
    if ints is not None:
        return ints
    fields = FileRecord.__dataclass_fields__
    if len(sig) != len(_RECORD_KEYS) or not all(t in _FAST_TYPES.get(str(fields[k].type), ())
                                                  for k, t in zip(_RECORD_KEYS, sig)):
        return None
    ints = _GOOD_SIGNATURES[sig] = tuple(i for i, t in enumerate(sig) if t is int)
    return ints


def file_records(files: list[Any], first: int = 0) -> list[FileRecord]:
    """Every FileRecord of a manifest's list. The fast path takes a record as the writers write it (all
    fields, in order, exact JSON types, ints in range, hashes all strings, no span part) with one signature
    lookup; anything else goes through `_typed`, which accepts or refuses it (ManifestDamaged) field by field."""
    out: list[FileRecord] = []
    append = out.append
    keys, hashes_at, lo, hi = _RECORD_KEYS, _HASHES_AT, -_INT_RANGE, _INT_RANGE
    for i, f in enumerate(files):
        if type(f) is dict and tuple(f) == keys:
            vals = tuple(f.values())
            ints = _signature_ints(tuple(map(type, vals)))
            if ints is not None:
                nums = [vals[j] for j in ints]
                hashes = vals[hashes_at]
                if (lo <= min(nums) and max(nums) < hi
                        and all(type(h) is str for h in hashes.values())):
                    append(FileRecord(*vals))
                    continue
        append(FileRecord(**_typed(FileRecord, f, f"file {first + i}")))
    return out


def parse_session_record(raw: bytes | bytearray | memoryview, what: str = SESSION_MEMBER) -> dict[str, Any]:
    """The session record (`.lto-archive/session.json`) that EXISTS, as read from a tape file: its dict, its
    algorithms (known ones) and span checked; else ManifestDamaged (a CorruptArchive) naming it."""
    doc = load_json(raw, f"session record {what}")
    if not isinstance(doc, dict) or doc.get("format", SESSION_FORMAT) != SESSION_FORMAT:
        raise ManifestDamaged(f"the session record {what} is damaged: not an lto-archive session record")
    algorithms = doc.get("algorithms")
    if algorithms is not None and (not isinstance(algorithms, list)
                                   or not all(isinstance(a, str) and a in ALGORITHMS for a in algorithms)):
        raise ManifestDamaged(f"the session record {what} is damaged: its algorithms are not a list of known hash algorithms")
    if not isinstance(doc.get("span") or {}, dict):
        raise ManifestDamaged(f"the session record {what} is damaged: its span is not an object")
    return doc
