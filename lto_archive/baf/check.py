"""Is this camera card safe to format? Every file on it, as it is NOW, against the catalog.

CST RT-030 2.3.1: a card is formatted only after the lab has delivered a
"Bon à Formater" (OK to format). Here that means: every file on the card has
at least N copies, on N distinct destinations (cartridges or folders), whose
bytes are proven equal to the card's by a read-back, not merely written.

The card is walked and every file hashed now (so a clip edited, re-recorded or
added after the copy is caught); then, per file:

1. Which catalogued files are it. The catalog stores a file under the path it
   has in the archive, and a write job names each source after its folder:
   `write /media/A001_C007` archives `CLIPS/x.mxf` as `A001_C007/CLIPS/x.mxf`.
   So a card file is looked up as `ROOT/<path under the card>`, ROOT being
   the card folder's name (as the write job names it), or `root_name` when the
   card was archived under another name (`--root-name`; it may hold slashes:
   `DAY01/A001_C007` when the job archived the folder holding the card).
2. Which of those hold the card's bytes now: same size and the same hash, in
   an algorithm the catalog holds for that entry (xxh128 preferred, then xxh3,
   xxh64, sha256, sha1, md5; the card file is hashed once with what is needed).
   The modification time is not part of it: a copy with the same bytes is a
   copy, whatever the clock said.
3. Their copies that count: written ok (not 'changed', 'read-error',
   'unproven') and whose latest read-back (verify or restore) was ok. A copy
   whose last check failed does not count, whatever it proved before.
4. Distinct destinations among them: two jobs writing the same clip to one
   cartridge are one copy, and two folders on one filesystem volume (one
   disk: CopyProof.medium) are one copy. The file is covered when there are
   at least N.

Anything else is a refusal naming, per file, what is missing ("no copy",
"only 1 of 2 verified copies (...)", "changed on the card since it was copied
(xxh128 differs)", "copy on LTA002L9 never verified"). A card with no file at
all is refused too (an unmounted card is an empty folder). Symbolic links and
special files are refused: the catalog records no copy of them.

The card's ASC MHL history (`ascmhl/` at its root) is not checked: the write
job never copies it as plain files but writes the card's updated history (a
new generation appended) with every copy, so the catalog holds no copy of the
card's own `ascmhl/` files. They are listed as `not_checked`, and the
certificate says so.
"""

from __future__ import annotations

import json
import os
import stat as stat_mod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..catalog.store import Catalog
from ..errors import ExitCode, JobIncomplete, SourceError, UsageError, VerificationFailed
from ..hashing import ALGORITHMS, MultiHasher
from ..manifest import OK, iso, utc_now
from ..mhl.model import HISTORY_FOLDER
from ..scan import scan_sources

#: the algorithm a card file is hashed with, best first, among those the catalog holds for it
PREFERRED_ALGORITHMS: tuple[str, ...] = ("xxh128", "xxh3", "xxh64", "sha256", "sha1", "md5")
NOT_CHECKED_REASON = (f"the card's ASC MHL history ({HISTORY_FOLDER}/): the write job writes it, updated with a new "
                      f"generation, with every copy instead of copying these files")
READ_CHUNK = 4 << 20
MESSAGE_FILES = 50          # files named in an exception's message; all of them are in its data

# file states
COVERED = "covered"
NO_COPY = "no-copy"                 # nothing catalogued under its path (or no copy of that content)
TOO_FEW = "too-few"                 # fewer than N verified copies on distinct destinations
CHANGED = "changed"                 # on the card, it differs from every catalogued copy of that path
UNPROVEN = "unproven"               # catalogued, but without a checksum to compare with
UNREADABLE = "unreadable"           # cannot be read on the card
MOVING = "changed-while-checked"    # its size or time changed while it was hashed
NOT_A_FILE = "not-a-file"           # a symbolic link or special file


class NotSafeToFormat(JobIncomplete):
    """The card cannot be certified OK to format: some file lacks N verified copies (exit 5).

    `data["missing_files"]`: one entry per file not covered: path, state, reasons, the copies that count.
    """


class CardChangedSinceCopy(NotSafeToFormat, VerificationFailed):
    """At least one file on the card differs from every copy catalogued for it (exit 3)."""

    exit_code = ExitCode.VERIFY_FAILED


@dataclass
class CopyProof:
    """One copy of a file's bytes, where it is, who wrote it and the read-back that proves it."""

    destination: str                 # the catalog's label: barcode, 'ltfs:<uuid>', or the folder
    kind: str                        # tape, folder
    barcode: str | None
    volume_uuid: str | None
    folder: str | None
    location: str                    # shelf location (free text)
    generation: str | None
    format: str                      # tar, cpio, ltfs, axf ...
    tape_file: int | None
    partition: int | None
    block: int | None
    block_offset: int | None
    header_offset: int | None
    session_id: str
    written_at: str                  # the job's start
    written_by: str
    written_host: str
    status: str                      # as written: ok, changed, read-error, unproven
    verified_at: str | None = None   # the latest read-back that proved it (None: none did)
    verified_by: str | None = None
    verified_host: str | None = None
    verified_phase: str | None = None
    verified_result: str | None = None
    last_check_at: str | None = None       # the latest read-back whatever its result...
    last_check_by: str | None = None
    last_check_result: str | None = None   # ok, failed, unproven
    last_check_message: str = ""
    volume_id: str | None = None           # a folder's filesystem volume (lto_archive/folder_volume.py)
    split_over: int = 0                    # a file split across the cartridges of a span set: how many
    missing: str = ""                      # split: why the parts do not make the whole file

    @property
    def medium(self) -> str:
        """What makes two copies distinct: the cartridge, or the disk a folder is on (its volume)."""
        if self.kind == "folder" and self.volume_id:
            return f"volume {self.volume_id}"
        return f"{self.kind} {self.destination}"

    @property
    def counts(self) -> bool:
        """Written ok, and its latest read-back proved it."""
        return self.status == OK and self.last_check_result == "ok" and not self.missing

    def position(self) -> str:
        """'tape file 0 block 12', 'partition 1 block 5' (LTFS), 'folder /x'."""
        if self.kind == "folder":
            return f"folder {self.folder or self.destination}"
        if self.split_over:
            return f"split over {self.split_over} cartridges"
        parts = []
        if self.tape_file is not None:
            parts.append(f"tape file {self.tape_file}")
        elif self.partition is not None:
            parts.append(f"partition {self.partition}")
        if self.block is not None:
            parts.append(f"block {self.block}")
        return " ".join(parts) or "position unknown"

    def where(self) -> str:
        """'LTA001L9 tape file 0 block 12'."""
        return self.position() if self.kind == "folder" else f"{self.destination} {self.position()}"

    def proof(self) -> str:
        """'verified 2026-11-23 by jane'."""
        if self.verified_at is None:
            return "never verified"
        return f"verified {self.verified_at[:10]} by {self.verified_by or '?'}"

    def why_not(self, counted: "list[CopyProof] | None" = None) -> str:
        """Why this copy does not count (empty when it does); `counted`: the copies that count."""
        on = f"copy on {self.destination}" if self.kind == "tape" else f"copy in {self.folder or self.destination}"
        same = next((c for c in counted or [] if c.medium == self.medium and c.destination != self.destination),
                    None)
        if same is not None and self.counts:
            return (f"{on} is on the same disk ({self.volume_id}) as the copy in {same.folder or same.destination}: "
                    f"one disk is one copy")
        if self.missing:
            return f"{on}: {self.missing}"
        if self.status != OK:
            return f"{on} was written as {self.status!r} (not proven when written)"
        if self.last_check_result is None:
            return f"{on} never verified"
        if self.last_check_result != "ok":
            why = f": {self.last_check_message}" if self.last_check_message else ""
            return (f"{on} {'failed' if self.last_check_result == 'failed' else 'was unproven by'} its last check "
                    f"({self.last_check_at or '?'} by {self.last_check_by or '?'}{why})")
        return ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FileCheck:
    """One file on the card and what proves it is safe elsewhere."""

    path: str                                        # as the catalog names it: ROOT/...
    card_path: str                                   # on the card, as found
    size: int
    mtime: str                                       # ISO UTC, on the card now
    state: str = NO_COPY
    hashes: dict[str, str] = field(default_factory=dict)           # computed on the card now
    catalog_hashes: dict[str, str] = field(default_factory=dict)   # recorded for the matching content
    copies: list[CopyProof] = field(default_factory=list)          # the ones that count, one per destination
    others: list[CopyProof] = field(default_factory=list)          # copies of that content that do not count
    reasons: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.state == COVERED

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "card_path": self.card_path, "size": self.size, "mtime": self.mtime,
                "state": self.state, "hashes": self.hashes, "catalog_hashes": self.catalog_hashes,
                "copies": [c.to_dict() for c in self.copies], "others": [c.to_dict() for c in self.others],
                "reasons": self.reasons}


@dataclass
class CardCheck:
    """The whole card against the catalog."""

    source: str                      # the card folder, absolute
    root_name: str                   # its name in the catalog's paths
    copies_required: int
    catalog: str
    checked_at: str
    files: list[FileCheck] = field(default_factory=list)
    folders: int = 0
    not_checked: list[str] = field(default_factory=list)    # the card's ascmhl/ files (see the module doc)

    @property
    def covered(self) -> bool:
        return bool(self.files) and all(f.covered for f in self.files)

    @property
    def missing(self) -> list[FileCheck]:
        return [f for f in self.files if not f.covered]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def summary(self) -> dict[str, Any]:
        return {"card": self.source, "root_name": self.root_name, "copies_required": self.copies_required,
                "files": len(self.files), "bytes": self.total_bytes, "covered": sum(f.covered for f in self.files),
                "missing": len(self.missing), "not_checked": len(self.not_checked)}

    def refusal(self) -> NotSafeToFormat | None:
        """The exception to raise when the card is not safe to format (None when it is)."""
        missing = self.missing
        if not missing:
            return None
        n = self.copies_required
        lines = [f"NOT OK to format {self.source}: {len(missing)} of {len(self.files)} file(s) lack {n} verified "
                 f"cop{'y' if n == 1 else 'ies'} on distinct destinations:"]
        for f in missing[:MESSAGE_FILES]:
            lines.append(f"  {f.path}: {'; '.join(f.reasons)}")
        if len(missing) > MESSAGE_FILES:
            lines.append(f"  ... and {len(missing) - MESSAGE_FILES} more (all of them with --json)")
        cls = CardChangedSinceCopy if any(f.state == CHANGED for f in missing) else NotSafeToFormat
        return cls("\n".join(lines), **self.summary(),
                   missing_files=[{"path": f.path, "state": f.state, "reasons": f.reasons,
                                   "copies": [c.where() for c in f.copies],
                                   "others": [c.where() for c in f.others]} for f in missing])

    def raise_if_not_covered(self) -> None:
        exc = self.refusal()
        if exc is not None:
            raise exc


# --- the catalog side ------------------------------------------------------------------------

_COPIES_SQL = (
    "SELECT c.id, c.file_id, d.label, d.kind, d.barcode, d.volume_uuid, d.folder, d.location, d.generation, "
    "j.format, c.tape_file, c.partition, c.block, c.block_offset, c.header_offset, j.session_id, j.started, "
    "j.operator, j.host, c.status, d.id, d.volume_id, c.part_number, c.part_offset, c.part_length, "
    "(SELECT v.set_id FROM span_volumes v WHERE v.destination_id = c.destination_id AND v.job_id = c.job_id) "
    "FROM copies c JOIN destinations d ON d.id = c.destination_id JOIN jobs j ON j.id = c.job_id "
    "WHERE c.file_id = ? ORDER BY d.label, j.started, c.id")


class _Lookup:
    def __init__(self, catalog: Catalog) -> None:
        self.conn = catalog.conn
        algos: set[str] = set()
        for (raw,) in self.conn.execute("SELECT DISTINCT algorithms FROM jobs"):
            try:
                algos.update(a for a in json.loads(raw or "[]") if isinstance(a, str))
            except ValueError:
                pass
        #: the algorithm to look a path-less card file up with (only a hint is at stake)
        self.hint_algorithm = next((a for a in PREFERRED_ALGORITHMS if a in algos), "xxh128")

    def candidates(self, path: str) -> list[tuple[int, int, dict[str, str]]]:
        """(file id, size, hashes) of every catalogued file with this path."""
        out = []
        for fid, size in self.conn.execute("SELECT id, size FROM files WHERE path = ? ORDER BY id", (path,)):
            hashes = dict(self.conn.execute("SELECT algorithm, hex FROM file_hashes WHERE file_id = ?", (fid,)))
            out.append((int(fid), int(size), hashes))
        return out

    def same_content_elsewhere(self, algorithm: str, hexdigest: str, limit: int = 3) -> list[str]:
        return [p for (p,) in self.conn.execute(
            "SELECT DISTINCT f.path FROM file_hashes h JOIN files f ON f.id = h.file_id "
            "WHERE h.hex = ? AND h.algorithm = ? ORDER BY f.path LIMIT ?", (hexdigest, algorithm, limit))]

    def copies(self, file_id: int) -> list[tuple[int, CopyProof]]:
        """(destination id, proof) of every copy of this catalogued file, with its read-backs."""
        out = []
        sets: dict[str, list[tuple[int, int, int, CopyProof]]] = {}     # span set -> its parts of this file
        for row in self.conn.execute(_COPIES_SQL, (file_id,)).fetchall():
            cid = row[0]
            (label, kind, barcode, volume_uuid, folder, location, generation, fmt, tape_file, partition, block,
             block_offset, header_offset) = row[2:15]
            proof = CopyProof(label, kind, barcode, volume_uuid, folder, location, generation, fmt, tape_file,
                              partition, block, block_offset, header_offset, session_id=row[15],
                              written_at=row[16] or "", written_by=row[17] or "", written_host=row[18] or "",
                              status=row[19], volume_id=row[21])
            last = self.conn.execute("SELECT at, who, result, message FROM verifications WHERE copy_id = ? "
                                     "ORDER BY at DESC, id DESC LIMIT 1", (cid,)).fetchone()
            if last is not None:
                proof.last_check_at, proof.last_check_by, proof.last_check_result, proof.last_check_message = last
            ok = self.conn.execute("SELECT at, who, host, phase, result FROM verifications WHERE copy_id = ? AND "
                                   "result = 'ok' ORDER BY at DESC, id DESC LIMIT 1", (cid,)).fetchone()
            if ok is not None:
                (proof.verified_at, proof.verified_by, proof.verified_host, proof.verified_phase,
                 proof.verified_result) = ok
            if row[22] is not None:        # one part of a split file: the set's parts together are one copy
                sets.setdefault(row[25] or f"job {row[15]}", []).append((row[22], row[23] or 0, row[24] or 0, proof))
                continue
            out.append((int(row[20]), proof))
        if sets:
            (size,) = self.conn.execute("SELECT size FROM files WHERE id = ?", (file_id,)).fetchone()
            out.extend((0, _joined(parts, int(size))) for parts in sets.values())
        return out


def _joined(parts: list[tuple[int, int, int, CopyProof]], size: int) -> CopyProof:
    """The parts of a split file on the cartridges of one span set, as one copy: it counts only when
    the parts cover the whole file and every part was written ok and proven by its latest read-back."""
    latest: dict[int, tuple[int, int, CopyProof]] = {}
    for number, offset, length, proof in sorted(parts, key=lambda p: (p[0], p[3].verified_at or "")):
        latest[number] = (offset, length, proof)
    ordered = [latest[n] for n in sorted(latest)]
    at = 0
    for offset, length, _ in ordered:
        if offset != at:
            break
        at += length
    proofs = [p for _, _, p in ordered]
    labels = "+".join(dict.fromkeys(p.destination for p in proofs))
    bad = next((p for p in proofs if not p.counts), None)
    first = proofs[0]
    joined = replace(first, destination=labels, split_over=len(proofs), tape_file=None, block=None)
    if at != size:
        joined.missing = (f"only {at:,} of {size:,} bytes of this split file are catalogued on its cartridges "
                          f"(a cartridge of the set is missing from the catalog)")
    elif bad is not None:
        joined.status, joined.last_check_result = bad.status, bad.last_check_result
        joined.last_check_at, joined.last_check_by = bad.last_check_at, bad.last_check_by
        joined.last_check_message = f"part on {bad.destination}: {bad.last_check_message or bad.last_check_result}"
    checks = [p.verified_at for p in proofs]
    if bad is None and at == size and all(checks):
        oldest = min(proofs, key=lambda p: p.verified_at or "")     # the set is proven as of its oldest proof
        joined.verified_at, joined.verified_by, joined.verified_host = (oldest.verified_at, oldest.verified_by,
                                                                        oldest.verified_host)
    return joined


def _preferred(hashes: dict[str, str]) -> str | None:
    return next((a for a in PREFERRED_ALGORITHMS if a in hashes), None) or \
        next((a for a in sorted(hashes) if a in ALGORITHMS), None)


def _hash_file(path: Path, algorithms: list[str], st: os.stat_result) -> tuple[dict[str, str], str | None, str]:
    """(hashes, None, ''), or ({}, state, reason) when it cannot be read or changed while read."""
    hasher = MultiHasher(algorithms)
    done = 0
    try:
        with open(path, "rb", buffering=0) as fp:
            while True:
                chunk = fp.read(READ_CHUNK)
                if not chunk:
                    break
                hasher.update(chunk)
                done += len(chunk)
            after = os.fstat(fp.fileno())
    except OSError as exc:
        return {}, UNREADABLE, f"cannot be read on the card: {exc.strerror or exc}"
    if done != st.st_size or after.st_size != st.st_size or after.st_mtime_ns != st.st_mtime_ns:
        return {}, MOVING, "changed while it was being checked (is the card still being written?)"
    return hasher.hexdigests(), None, ""


def _short(hexdigest: str) -> str:
    return hexdigest[:16] + "..." if len(hexdigest) > 16 else hexdigest


# --- the card side -----------------------------------------------------------------------------

ProgressFn = Callable[[str, int, int], None]     # (path, bytes done, bytes total)


def card_root_name(source: str | os.PathLike[str]) -> str:
    """The name a write job gives this source folder in the archive (and so in the catalog's paths)."""
    root = Path(source)
    return root.resolve().name if root.name in ("", ".", "..") else root.name


def check_card(catalog: Catalog, source: str | os.PathLike[str], copies: int = 2, *, root_name: str | None = None,
               progress: ProgressFn | None = None) -> CardCheck:
    """Every file on the card SOURCE, as it is now, against the catalog (see the module's doc for the rules).

    Returns the CardCheck whatever the outcome; `raise_if_not_covered()` turns
    a refusal into NotSafeToFormat (exit 5) or CardChangedSinceCopy (exit 3).
    An empty card, or SOURCE not a folder, raises SourceError at once.
    """
    if copies < 1:
        raise UsageError(f"--copies is at least 1, not {copies}", copies=copies)
    src = Path(source)
    if not src.exists():
        raise SourceError(f"the card {src} does not exist (is it mounted?)", path=str(src))
    if not src.is_dir():
        raise SourceError(f"the card {src} is not a folder: give the card's folder (its mount point)", path=str(src))
    top = card_root_name(src)
    root = (root_name if root_name is not None else top).strip("/")
    if not root or any(part in ("", ".", "..") for part in root.split("/")):
        raise UsageError(f"--root-name {root_name!r} is not a relative folder name as the archive holds it",
                         value=root_name)
    entries = scan_sources([src.resolve()])
    resolved_top = entries[0].name
    history = f"{resolved_top}/{HISTORY_FOLDER}"
    result = CardCheck(source=str(src.resolve()), root_name=root, copies_required=copies,
                       catalog=str(Path(catalog.path).resolve()), checked_at=iso(utc_now()))
    files = []
    for e in entries[1:]:
        name = root + e.name[len(resolved_top):]
        if e.name == history or e.name.startswith(history + "/"):
            if e.kind != "dir":
                result.not_checked.append(name)
        elif e.kind == "dir":
            result.folders += 1
        elif e.kind == "file":
            files.append((name, e))
        else:
            fc = FileCheck(name, str(e.path), 0, iso(e.st.st_mtime), state=NOT_A_FILE)
            what = "a symbolic link" if e.kind == "symlink" else "a special file (device, socket, pipe)"
            fc.reasons.append(f"{what}: the catalog records no copy of it; remove it or archive its target")
            result.files.append(fc)
    if not files and not result.files:
        raise SourceError(f"the card {src} holds no file: nothing to certify (is it mounted? is it the right "
                          f"folder?)", path=str(src))
    lookup = _Lookup(catalog)
    total = sum(e.size for _, e in files)
    done = 0
    for name, e in files:
        if progress is not None:
            progress(name, done, total)
        result.files.append(_check_file(lookup, name, e.path, e.st, copies))
        done += e.size
    if progress is not None:
        progress("", done, total)
    result.files.sort(key=lambda f: f.path.split("/"))
    return result


_Candidate = tuple[int, int, dict[str, str]]     # (catalogued file id, size, hashes)


def _check_file(lookup: _Lookup, name: str, path: Path, st: os.stat_result, n: int) -> FileCheck:
    fc = FileCheck(name, str(path), st.st_size, iso(st.st_mtime))
    if not stat_mod.S_ISREG(st.st_mode):                 # (scan_sources already sorted these out)
        fc.state = NOT_A_FILE
        fc.reasons.append("not a regular file")
        return fc
    cands = lookup.candidates(name)
    algos = {a for a in (_preferred(h) for _, _, h in cands) if a is not None}
    need = [a for a in PREFERRED_ALGORITHMS if a in algos] + sorted(a for a in algos if a not in
                                                                    PREFERRED_ALGORITHMS)
    hashes, problem, reason = _hash_file(path, need or [lookup.hint_algorithm], st)
    if problem:
        fc.state = problem
        fc.reasons.append(reason)
        return fc
    fc.hashes = hashes
    if not cands:
        _no_copy_here(fc, lookup, need[0] if need else lookup.hint_algorithm)
        return fc
    matching = []
    hashless = []
    for fid, size, known in cands:
        common = [a for a in hashes if a in known]
        if not common:
            hashless.append(fid)
        elif size == st.st_size and all(known[a] == hashes[a] for a in common):
            matching.append((fid, known))
    if not matching:
        _no_matching_copy(fc, lookup, cands, hashless, need)
        return fc
    for _, known in matching:
        for a, h in known.items():
            fc.catalog_hashes.setdefault(a, h)
    fc.copies, fc.others = _proven_copies(lookup, [fid for fid, _ in matching])
    _judge_coverage(fc, n)
    return fc


def _no_copy_here(fc: FileCheck, lookup: _Lookup, algo: str) -> None:
    """No catalogued file has this path: say so, and where the same content is catalogued."""
    fc.state = NO_COPY
    elsewhere = [p for p in lookup.same_content_elsewhere(algo, fc.hashes[algo]) if p != fc.path]
    if elsewhere:
        fc.reasons.append(f"no copy under this name; the same content is catalogued as {elsewhere[0]}"
                          + (f" and {len(elsewhere) - 1} more" if len(elsewhere) > 1 else "")
                          + " (archived under another folder name? see --root-name)")
    else:
        fc.reasons.append("no copy")


def _no_matching_copy(fc: FileCheck, lookup: _Lookup, cands: list[_Candidate], hashless: list[int],
                      need: list[str]) -> None:
    """No catalogued version equals the card's file: it changed since, or no checksum proves it."""
    differ = [(fid, size, known) for fid, size, known in cands if fid not in hashless]
    if differ:
        fc.state = CHANGED
        fid, size, known = differ[-1]                     # the latest catalogued version
        algo = next(a for a in need if a in known)
        where = sorted({p.destination for f, _, _ in differ for _, p in lookup.copies(f)})
        sizes = (f"; size {fc.size:,} on the card, {size:,} when copied" if size != fc.size else "")
        fc.reasons.append(f"changed on the card since it was copied ({algo} differs: card "
                          f"{_short(fc.hashes[algo])}, copied {_short(known[algo])}"
                          + (f" on {', '.join(where)}" if where else "") + f"{sizes})")
    else:
        fc.state = UNPROVEN
        where = sorted({p.destination for f in hashless for _, p in lookup.copies(f)})
        fc.reasons.append(f"catalogued without a checksum ({', '.join(where) or 'no copy'}): nothing proves "
                          f"the copy equals the card")


def _proven_copies(lookup: _Lookup, file_ids: list[int]) -> tuple[list[CopyProof], list[CopyProof]]:
    """The copies that count (the latest proven one per cartridge or disk; folders: their
    volume), tapes first; and the others, on destinations without a counting copy."""
    best: dict[str, CopyProof] = {}
    others: list[CopyProof] = []
    for fid in file_ids:
        for _dest, proof in lookup.copies(fid):
            if proof.counts:
                cur = best.get(proof.medium)
                if cur is None or (proof.verified_at or "") > (cur.verified_at or ""):
                    if cur is not None and cur.destination != proof.destination:
                        others.append(cur)
                    best[proof.medium] = proof
                elif cur.destination != proof.destination:
                    others.append(proof)
            else:
                others.append(proof)
    copies = sorted(best.values(), key=lambda p: (p.kind != "tape", p.destination))
    proven = {p.destination for p in copies}
    return copies, [p for p in others if p.destination not in proven]


def _judge_coverage(fc: FileCheck, n: int) -> None:
    """COVERED with `n` counting copies; otherwise why not (each reason once)."""
    if len(fc.copies) >= n:
        fc.state = COVERED
        return
    if not fc.copies and not fc.others:
        fc.state = NO_COPY
        fc.reasons.append("no copy")
        return
    fc.state = TOO_FEW
    if fc.copies:
        fc.reasons.append(f"only {len(fc.copies)} of {n} verified copies ("
                          + "; ".join(f"{p.where()}, {p.proof()}" for p in fc.copies) + ")")
    else:
        fc.reasons.append(f"no verified copy (0 of {n})")
    seen = set()
    for p in fc.others:
        why = p.why_not(fc.copies)
        if why and why not in seen:
            seen.add(why)
            fc.reasons.append(why)


__all__ = ["check_card", "card_root_name", "CardCheck", "FileCheck", "CopyProof", "NotSafeToFormat",
           "CardChangedSinceCopy", "PREFERRED_ALGORITHMS", "COVERED", "NO_COPY", "TOO_FEW", "CHANGED", "UNPROVEN",
           "UNREADABLE", "MOVING", "NOT_A_FILE"]
