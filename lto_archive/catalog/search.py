"""Finding footage in the catalog, exporting it, and planning a restore.

`search` answers "which tapes and folders hold it, and where": by name
pattern, by hash (any algorithm, a prefix is enough), by camera and reel
(read from the path, see CAMERA_REEL), by date (the file's mtime, or when
it was written). Each hit is a file (path, size, mtime, hashes) with every
copy: the destination (barcode or folder, with its shelf location), format,
tape file / partition / block, the job, and when it was last verified.

`restore_plan` turns paths or patterns into the cartridges to load, fewest
first, each with its files in tape order so a restore can locate straight to
each one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, NamedTuple

from ..errors import UsageError
from ..fsutil import atomic_write
from ..manifest import OK, iso, utc_now
from .schema import SCHEMA_VERSION
from .store import Catalog

#: Camera and reel from the usual card and clip names, on any path component:
#: ARRI/Sony/Canon `A001C007_210315_R1AB.mxf`, `A001R1AB/`, RED `A001_C007_0315XY_001.R3D`,
#: `A001_0315XY.RDM/`, Blackmagic `A001_08151234_C001.braw`, plain folders `A001/`, `A001_C007/`.
#: The last match on the path wins (the file's own name before its folders'). A bare `T001.WAV`
#: (a sound recorder's take) is not a reel: without a clip number the name must go on (`_`, `/`, `R1AB`).
CAMERA_REEL = r"(?:^|/)(?P<camera>[A-Z])(?P<reel>\d{3})(?:_?C\d{3,4}(?=[_./]|$)|(?=[_/]|R[0-9A-Z]{2,}|$))"
REEL_REGEX_SETTING = "camera_reel_regex"

_HEX = re.compile(r"[0-9a-f]+")
_SQL_CHUNK = 500


def compile_reel_regex(regex: str | None) -> re.Pattern[str]:
    try:
        rx = re.compile(regex or CAMERA_REEL)
    except re.error as exc:
        raise UsageError(f"the camera/reel pattern {regex!r} is not a regular expression: {exc}") from None
    if not {"camera", "reel"} & set(rx.groupindex):
        raise UsageError(f"the camera/reel pattern {regex!r} has no named group (?P<camera>...) or (?P<reel>...)")
    return rx


def camera_reel(path: str, regex: re.Pattern[str] | str | None = None) -> tuple[str | None, str | None]:
    """(camera, reel) named by a path, e.g. 'DAY1/A001_C007/A001C007_x.mxf' -> ('A', '001'); None when unnamed."""
    rx = regex if isinstance(regex, re.Pattern) else compile_reel_regex(regex)
    last = None
    for last in rx.finditer(path):
        pass
    if last is None:
        return None, None
    g = last.groupdict()
    return g.get("camera"), g.get("reel")


def _same_reel(a: str | None, b: str) -> bool:
    if a is None:
        return False
    if a.isdigit() and b.isdigit():
        return int(a) == int(b)
    return a.lower() == b.lower()


def parse_when(text: str, *, end: bool = False) -> str:
    """A date or time from the command line as the catalog's ISO UTC text.

    '2026-03-15' is that day in local time (its start, or with `end` its last
    microsecond); '2026-03-15T14:00' is local unless it names a zone ('Z', '+01:00').
    """
    t = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
            d = date.fromisoformat(t)
            dt = datetime(d.year, d.month, d.day)
            if end:
                dt += timedelta(days=1) - timedelta(microseconds=1)
        else:
            dt = datetime.fromisoformat(t[:-1] + "+00:00" if t.endswith(("Z", "z")) else t)
    except ValueError:
        raise UsageError(f"not a date: {text!r} (examples: 2026-03-15, 2026-03-15T14:00, 2026-03-15T13:00Z)",
                         value=text) from None
    if dt.tzinfo is None:
        dt = dt.astimezone()          # local time
    return iso(dt.astimezone(timezone.utc))


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _fnmatch_to_glob(pattern: str) -> str:
    return pattern.replace("[!", "[^")


@dataclass
class CopyHit:
    """One copy of a file: where it is, who wrote it, when it was last proven."""

    destination: str                 # barcode, 'ltfs:<uuid>', or the folder
    kind: str                        # tape, folder
    barcode: str | None
    volume_uuid: str | None
    folder: str | None
    location: str                    # shelf location (free text)
    generation: str | None
    format: str                      # of the job that wrote it: tar, cpio, ltfs ...
    session_id: str
    written: str                     # the job's start
    operator: str
    tape_file: int | None
    partition: int | None
    block: int | None
    block_offset: int | None
    header_offset: int | None
    record_size: int | None
    status: str                      # as written: ok, changed, read-error, unproven
    verified: str | None = None      # last verification that proved it
    last_check: str | None = None    # last verification of any result...
    last_result: str | None = None   # ...and its result (ok, failed, unproven)
    volume_id: str | None = None     # a folder's filesystem volume ('fs-uuid:...'): one disk, one copy
    part: int | None = None          # one part of a file split across the cartridges of a span set


@dataclass
class FileHit:
    path: str
    size: int
    mtime: str
    hashes: dict[str, str]
    camera: str | None = None
    reel: str | None = None
    copies: list[CopyHit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _when_conds(date_field: str, since: str | None, until: str | None, conds: list[str], args: list[Any]) -> None:
    """search's `since`/`until` criteria: on the file's mtime, or on when a copy of it was written."""
    lo = parse_when(since) if since else None
    hi = parse_when(until, end=True) if until else None
    if date_field not in ("mtime", "written"):
        raise UsageError(f"date_field is 'mtime' or 'written', not {date_field!r}")
    if date_field == "mtime":
        if lo:
            conds.append("f.mtime >= ?")
            args.append(lo)
        if hi:
            conds.append("f.mtime <= ?")
            args.append(hi)
    elif lo or hi:
        sub = "EXISTS (SELECT 1 FROM copies c JOIN jobs j ON j.id = c.job_id WHERE c.file_id = f.id"
        if lo:
            sub += " AND j.started >= ?"
            args.append(lo)
        if hi:
            sub += " AND j.started <= ?"
            args.append(hi)
        conds.append(sub + ")")


def search(catalog: Catalog, pattern: str | None = None, *, hash: str | None = None, camera: str | None = None,
           reel: str | None = None, since: str | None = None, until: str | None = None, date_field: str = "mtime",
           reel_regex: str | None = None, destination: str | None = None, production: str | None = None,
           limit: int | None = None) -> list[FileHit]:
    """Files matching every criterion given (none: every file), by path.

    `pattern`: without wildcards, part of the path ('A001C007' finds it anywhere);
    with `*`, `?` or `[...]`, a glob on the file name, or on the whole path when
    it holds a '/'; case is ignored. `hash`: hex digest or prefix, any algorithm
    ('md5:' prefix to name one). `camera`, `reel`: as CAMERA_REEL (or
    `reel_regex`, or the catalog's `camera_reel_regex` setting) reads them from
    the path; reel '1' and '001' are the same. `since`, `until`: ISO dates or
    times (see parse_when), on the file's mtime or, with date_field='written',
    on when a copy was written. `destination`: only copies on this tape (barcode,
    label, volume UUID) or folder. `production`: files a job of this production wrote (write
    --production; case ignored).
    """
    conds: list[str] = []
    args: list[Any] = []
    if pattern:
        pat = pattern.strip().lower()
        if any(c in pat for c in "*?["):
            conds.append(("lower(f.path)" if "/" in pat else "lower(f.name)") + " GLOB ?")
            args.append(_fnmatch_to_glob(pat))
        else:
            conds.append("instr(lower(f.path), ?) > 0")
            args.append(pat)
    if hash:
        algo, _, hx = hash.strip().lower().rpartition(":")
        if not hx or not _HEX.fullmatch(hx):
            raise UsageError(f"not a hash or hash prefix: {hash!r} (hex digits, optionally 'md5:' before them)",
                             value=hash)
        cond = "f.id IN (SELECT h.file_id FROM file_hashes h WHERE h.hex GLOB ?"     # uses file_hashes_hex
        args.append(hx + "*")
        if algo:
            cond += " AND h.algorithm = ?"
            args.append(algo)
        conds.append(cond + ")")
    _when_conds(date_field, since, until, conds, args)
    if production:
        conds.append("f.id IN (SELECT c.file_id FROM copies c JOIN jobs j ON j.id = c.job_id "
                     "WHERE lower(j.production) = ?)")
        args.append(production.strip().lower())
    dest_id = None
    if destination:
        row = catalog.find_destination(barcode=destination, volume_uuid=destination, folder=destination,
                                       label=destination)
        if row is None:
            return []
        dest_id = row["id"]
        conds.append("EXISTS (SELECT 1 FROM copies c WHERE c.file_id = f.id AND c.destination_id = ?)")
        args.append(dest_id)
    where = " WHERE " + " AND ".join(conds) if conds else ""
    rows = catalog.conn.execute(f"SELECT f.id, f.path, f.size, f.mtime FROM files f{where} "
                                f"ORDER BY f.path, f.mtime, f.id", args).fetchall()
    rx = compile_reel_regex(reel_regex or catalog.get_setting(REEL_REGEX_SETTING))
    hits: dict[int, FileHit] = {}
    for fid, path, size, mtime in rows:
        cam, rl = camera_reel(path, rx)
        if camera and (cam is None or cam.lower() != camera.strip().lower()):
            continue
        if reel and not _same_reel(rl, reel.strip()):
            continue
        hits[fid] = FileHit(path, size, mtime, {}, cam, rl)
        if limit is not None and len(hits) >= limit:
            break
    _fill(catalog, hits, dest_id)
    return list(hits.values())


_COPY_SQL = (
    "SELECT c.file_id, d.label, d.kind, d.barcode, d.volume_uuid, d.folder, d.location, d.generation, j.format, "
    "j.session_id, j.started, j.operator, c.tape_file, c.partition, c.block, c.block_offset, c.header_offset, "
    "j.record_size, c.status, "
    "(SELECT max(v.at) FROM verifications v WHERE v.copy_id = c.id AND v.result = 'ok'), "
    "(SELECT v.at FROM verifications v WHERE v.copy_id = c.id ORDER BY v.at DESC, v.id DESC LIMIT 1), "
    "(SELECT v.result FROM verifications v WHERE v.copy_id = c.id ORDER BY v.at DESC, v.id DESC LIMIT 1), "
    "d.volume_id, c.part_number "
    "FROM copies c JOIN destinations d ON d.id = c.destination_id JOIN jobs j ON j.id = c.job_id "
)


def _fill(catalog: Catalog, hits: dict[int, FileHit], dest_id: int | None = None) -> None:
    ids = list(hits)
    for i in range(0, len(ids), _SQL_CHUNK):
        chunk = ids[i:i + _SQL_CHUNK]
        marks = ",".join("?" * len(chunk))
        for fid, algo, hx in catalog.conn.execute(
                f"SELECT file_id, algorithm, hex FROM file_hashes WHERE file_id IN ({marks}) "
                f"ORDER BY file_id, algorithm", chunk):
            hits[fid].hashes[algo] = hx
        extra, args = ("", chunk) if dest_id is None else (" AND c.destination_id = ?", [*chunk, dest_id])
        for row in catalog.conn.execute(
                _COPY_SQL + f"WHERE c.file_id IN ({marks}){extra} ORDER BY d.kind DESC, d.label, j.started, c.id",
                args):
            hits[row[0]].copies.append(CopyHit(*row[1:]))


# --- export --------------------------------------------------------------------------------

_COPY_COLUMNS = ["destination", "kind", "barcode", "volume_uuid", "folder", "location", "generation", "format",
                 "session_id", "written", "operator", "tape_file", "partition", "block", "block_offset",
                 "header_offset", "record_size", "status", "verified", "last_check", "last_result", "volume_id"]


def rows(hits: Iterable[FileHit]) -> tuple[list[str], list[dict[str, Any]]]:
    """One flat row per copy (a file without copies: one row with empty copy columns), and the columns.

    Hashes get one column each, named after the algorithm (`md5`, `xxh128`, ...); `directory` is the
    file's folder in the archive, `folder` the destination folder of a copy that is not on tape.
    """
    hits = list(hits)
    algorithms = sorted({a for h in hits for a in h.hashes})
    columns = ["path", "name", "directory", "size", "mtime", "camera", "reel", *algorithms, *_COPY_COLUMNS]
    out = []
    for h in hits:
        base: dict[str, Any] = {"path": h.path, "name": h.path.rsplit("/", 1)[-1],
                                "directory": h.path.rsplit("/", 1)[0] if "/" in h.path else "", "size": h.size,
                                "mtime": h.mtime, "camera": h.camera, "reel": h.reel}
        base.update({a: h.hashes.get(a) for a in algorithms})
        copies: list[CopyHit | None] = list(h.copies) or [None]
        for c in copies:
            row = dict(base)
            row.update({k: (getattr(c, k) if c is not None else None) for k in _COPY_COLUMNS})
            out.append(row)
    return columns, out


def write_csv(hits: Iterable[FileHit], fp: IO[str]) -> int:
    """CSV with a header line, one line per copy; returns the number of lines written after the header."""
    columns, data = rows(hits)
    w = csv.DictWriter(fp, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in data:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return len(data)


def search_document(hits: Sequence[FileHit], criteria: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"format": "lto-archive-catalog-search", "version": 1, "criteria": criteria or {},
            "files": len(hits), "copies": sum(len(h.copies) for h in hits), "results": [h.to_dict() for h in hits]}


def catalog_document(catalog: Catalog) -> dict[str, Any]:
    """The whole catalog as one JSON-ready document: tapes and folders, jobs, files with all their copies."""
    jobs = catalog._q("SELECT j.session_id, d.label AS destination, j.tool, j.format, j.operator, j.host, j.device, "
                      "j.started, j.finished, j.status, j.algorithms, j.sources, j.record_size, j.tape_file, "
                      "j.partition, j.start_block FROM jobs j JOIN destinations d ON d.id = j.destination_id "
                      "ORDER BY j.started, j.session_id")
    for j in jobs:
        j["algorithms"] = json.loads(j["algorithms"] or "[]")
        j["sources"] = json.loads(j["sources"] or "[]")
    hits = search(catalog)
    return {"format": "lto-archive-catalog", "version": 1, "schema_version": SCHEMA_VERSION,
            "exported": iso(utc_now()), "catalog": str(catalog.path), "destinations": catalog.tapes(),
            "jobs": jobs, "files": [h.to_dict() for h in hits]}


def export_file(catalog: Catalog, fmt: str, path: str | Path, hits: Sequence[FileHit] | None = None) -> int:
    """`export` to a file that appears whole or not at all (fsutil.atomic_write); returns rows/files written."""
    buf = io.StringIO()
    n = export(catalog, fmt, buf, hits)
    atomic_write(path, buf.getvalue())
    return n


def export(catalog: Catalog, fmt: str, fp: IO[str], hits: Sequence[FileHit] | None = None) -> int:
    """Write the whole catalog (or these search hits) as 'csv' or 'json' to fp; returns rows/files written."""
    if fmt == "csv":
        return write_csv(hits if hits is not None else search(catalog), fp)
    if fmt == "json":
        doc = search_document(hits) if hits is not None else catalog_document(catalog)
        json.dump(doc, fp, indent=1, ensure_ascii=False)
        fp.write("\n")
        return len(doc["results"] if hits is not None else doc["files"])
    raise UsageError(f"export format is 'csv' or 'json', not {fmt!r}", format=fmt)


# --- restore planning ---------------------------------------------------------------------

@dataclass
class PlanEntry:
    """One file to restore from one cartridge, with everything needed to locate straight to it."""

    path: str
    size: int
    mtime: str
    hashes: dict[str, str]
    session_id: str
    format: str
    tape_file: int | None
    partition: int | None
    block: int | None
    block_offset: int | None
    header_offset: int | None
    record_size: int | None
    job_start_block: int | None      # where its tape file (TAR/CPIO) or session (LTFS) starts
    status: str
    verified: str | None

    @property
    def position(self) -> tuple[int, int, int, int]:
        return (self.partition if self.partition is not None else -1,
                self.tape_file if self.tape_file is not None else -1,
                self.block if self.block is not None else -1,
                self.block_offset if self.block_offset is not None else -1)


class CartridgePlan(NamedTuple):
    barcode: str                     # the catalog's label: barcode, or 'ltfs:<uuid>' / 'device:<name>'
    entries: list[PlanEntry]         # in tape order


class RestorePlan(list):
    """[CartridgePlan(barcode, entries), ...]: the cartridges to load, the one holding most files first.

    `tapes[barcode]`: its shelf location, volume UUID, generation, formats.
    `unmatched`: patterns that name no catalogued file. `not_on_tape`: files
    the catalog knows only on folders (or with no copy at all); `split`: those of
    them that are on tape only in parts across a span set (`lto-archive span
    restore` joins them). `loaded`: the cartridges of the plan that are already
    in a drive (they come first).
    """

    def __init__(self) -> None:
        super().__init__()
        self.tapes: dict[str, dict[str, Any]] = {}
        self.unmatched: list[str] = []
        self.not_on_tape: list[str] = []
        self.split: list[str] = []
        self.loaded: list[str] = []

    def to_dict(self) -> dict[str, Any]:
        return {"cartridges": [{"barcode": c.barcode, **self.tapes.get(c.barcode, {}), "files": len(c.entries),
                                "bytes": sum(e.size for e in c.entries), "loaded": c.barcode in self.loaded,
                                "entries": [asdict(e) for e in c.entries]} for c in self],
                "unmatched": self.unmatched, "not_on_tape": self.not_on_tape, "split": self.split}


def _match_sql(patterns: Sequence[str]) -> tuple[str, list[str]]:
    """As restore takes them: a glob on the whole path, the exact path, or a folder (everything under it)."""
    conds, args = [], []
    for p in patterns:
        folder = p.rstrip("/")
        conds.append("(f.path GLOB ? OR f.path = ? OR f.path GLOB ?)")
        args += [_fnmatch_to_glob(p), folder, _glob_escape(folder) + "/*"]
    return " OR ".join(conds), args


def restore_plan(catalog: Catalog, paths: Sequence[str], *, loaded: Sequence[str] = ()) -> RestorePlan:
    """Which cartridges to load to restore these paths (globs, exact paths or folders), files in tape order.

    Each file is taken from one tape copy, sound copies (written ok, last check
    not failed) before others: first from the cartridges already `loaded`
    (barcodes, LTFS volume UUIDs or catalog labels of what the drives hold: no
    trip to the shelf), then from the fewest other cartridges that hold the
    rest (the minimum set; past MAX_EXACT_COVER candidate sets, greedy: the
    tape holding most of what is still needed first). Ties by barcode; on one
    tape, verified copies and later jobs first. Loaded cartridges come first in
    the plan, then the others, most files first.
    """
    plan = RestorePlan()
    if not paths:
        raise UsageError("name at least one path or pattern to restore")
    sql, args = _match_sql(paths)
    files = {fid: (path, size, mtime) for fid, path, size, mtime in
             catalog.conn.execute(f"SELECT f.id, f.path, f.size, f.mtime FROM files f WHERE {sql}", args)}
    for p in paths:
        one_sql, one_args = _match_sql([p])
        if not catalog.conn.execute(f"SELECT 1 FROM files f WHERE {one_sql} LIMIT 1", one_args).fetchone():
            plan.unmatched.append(p)
    hits = {fid: FileHit(path, size, mtime, {}) for fid, (path, size, mtime) in files.items()}
    _fill(catalog, hits)
    # per file: its usable tape copies, best first
    options: dict[int, list[CopyHit]] = {}
    for fid, h in hits.items():
        tape = [c for c in h.copies if c.kind == "tape" and c.part is None]
        tape.sort(key=lambda c: (c.status != OK, c.last_result == "failed", c.verified is None,
                                 _neg(c.written or ""), c.destination))
        if tape:
            options[fid] = tape
        else:
            plan.not_on_tape.append(h.path)
            if any(c.part is not None for c in h.copies):
                plan.split.append(h.path)
    plan.not_on_tape.sort()
    plan.split.sort()
    need = set(options)
    chosen: dict[str, list[tuple[int, CopyHit]]] = {}
    in_drives = []
    for name in loaded:
        row = catalog.find_destination(barcode=name, volume_uuid=name, label=name)
        if row is not None and row["kind"] == "tape" and row["label"] not in in_drives:
            in_drives.append(row["label"])
    # first from copies that are sound (written ok, last check not failed), then from whatever is left
    for acceptable in (_sound, lambda c: True):
        by_tape: dict[str, set[int]] = {}
        for fid in need:
            for label in dict.fromkeys(c.destination for c in options[fid]):
                if acceptable(_best_on(options[fid], label)):
                    by_tape.setdefault(label, set()).add(fid)
        for label in in_drives:                                  # already loaded: take all they can give
            take = by_tape.get(label, set()) & need
            if take:
                chosen.setdefault(label, []).extend((fid, _best_on(options[fid], label)) for fid in sorted(take))
                need -= take
        for label in _fewest_cartridges({lb: fids & need for lb, fids in by_tape.items() if lb not in in_drives}):
            take = by_tape[label] & need
            if take:
                chosen.setdefault(label, []).extend((fid, _best_on(options[fid], label)) for fid in sorted(take))
                need -= take
    plan.loaded = [label for label in in_drives if label in chosen]
    for label, picks in chosen.items():
        entries = [PlanEntry(hits[fid].path, hits[fid].size, hits[fid].mtime, hits[fid].hashes, c.session_id,
                             c.format, c.tape_file, c.partition, c.block, c.block_offset, c.header_offset,
                             c.record_size, _job_start(catalog, c.session_id), c.status, c.verified)
                   for fid, c in picks]
        entries.sort(key=lambda e: (e.position, e.path))
        plan.append(CartridgePlan(label, entries))
        c0 = picks[0][1]
        plan.tapes[label] = {"location": c0.location, "volume_uuid": c0.volume_uuid, "generation": c0.generation,
                             "formats": sorted({c.format for _, c in picks})}
    return plan


#: candidate cartridge sets tried, at most, to find the fewest cartridges exactly (then greedy)
MAX_EXACT_COVER = 20_000


def _fewest_cartridges(holds: dict[str, set[int]]) -> list[str]:
    """The fewest cartridges that together hold every file any of them holds, in the order to load them
    (most files first, ties by label). Exact while cheap (set cover is NP-hard), else greedy."""
    from itertools import combinations
    from math import comb

    holds = {lb: f for lb, f in holds.items() if f}
    every = set().union(*holds.values()) if holds else set()
    greedy: list[str] = []
    left = set(every)
    while left:
        label = max(holds, key=lambda lb: (len(holds[lb] & left), _neg(lb)))
        greedy.append(label)
        left -= holds[label]
    best = greedy
    labels = sorted(holds)
    tried = 0
    for k in range(1, len(greedy)):
        tried += comb(len(labels), k)
        if tried > MAX_EXACT_COVER:
            break
        found = [c for c in combinations(labels, k) if set().union(*(holds[lb] for lb in c)) == every]
        if found:
            best = list(max(found, key=lambda c: (sum(len(holds[lb]) for lb in c), [_neg(lb) for lb in c])))
            break
    # load order: the one holding most of what is still needed first
    order, left = [], set(every)
    rest = list(best)
    while rest:
        label = max(rest, key=lambda lb: (len(holds[lb] & left), _neg(lb)))
        order.append(label)
        rest.remove(label)
        left -= holds[label]
    return order


def _sound(c: CopyHit) -> bool:
    return c.status == OK and c.last_result != "failed"


def _best_on(copies: list[CopyHit], label: str) -> CopyHit:
    return next(c for c in copies if c.destination == label)


def _job_start(catalog: Catalog, session_id: str) -> int | None:
    row = catalog.conn.execute("SELECT start_block FROM jobs WHERE session_id = ?", (session_id,)).fetchone()
    return row[0] if row else None


class _neg(str):
    """Reverses string order inside sort keys (later first / alphabetical first under max)."""

    def __lt__(self, other: object) -> bool:
        return str.__gt__(self, other)  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        return str.__lt__(self, other)  # type: ignore[operator]


__all__ = ["search", "camera_reel", "CAMERA_REEL", "parse_when", "FileHit", "CopyHit", "rows", "write_csv",
           "export", "export_file", "catalog_document", "search_document", "restore_plan", "RestorePlan", "CartridgePlan",
           "PlanEntry", "REEL_REGEX_SETTING", "MAX_EXACT_COVER"]
