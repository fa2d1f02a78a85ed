"""A session's own evidence on tape: its custody record and its paperwork .7z, so a cartridge proves its own
history twenty years later without the catalog or the log folder (docs/paperwork.md, docs/tape-format.md).

Written by every write path at the session's close, as its last members before the manifest (which stays the
very last: its presence marks a closed session): `.lto-archive/paperwork.7z` then `.lto-archive/custody.jsonl`
in a tape file, the same two names under `.lto-archive/<session>/` on an LTFS volume. The custody record is the
session's own hash-linked chain (lto_archive/chain.py, as the catalog's entries are made): the session started,
what it wrote (with the SHA-256 of its manifest and copy log), the paperwork it put on tape (its SHA-256, so
even an encrypted one is checked without its password), and a checkpoint naming the entries before it. Its
first entry states the catalog chain's head when the job began, which the catalog's write entry then records
the record against (catalog/anchor.py); a span volume's also names its set and place.
The paperwork holds the manifest, checksum lists and copy log as on tape, each card's ASC MHL history and the
custody record known before it. `room` says what both may take, for jobs/room.py; `EvidenceCheck` is what the
readers check when they meet them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..chain import CHECKPOINT, canonical, checkpoint_data, link, read_jsonl, verify_chain
from ..manifest import META_DIR, Manifest, SessionInfo, iso, utc_now
from .spool import Parts, SessionFiles, Spooled, session_file_chunks
from ..paperwork import CUSTODY_NAME, PAPERWORK_NAME, check_packed, pack_stored, stored_bound

CUSTODY_MEMBER = f"{META_DIR}/{CUSTODY_NAME}"
PAPERWORK_MEMBER = f"{META_DIR}/{PAPERWORK_NAME}"
CUSTODY_BYTES = 8192          # the custody record's five entries, without the texts the session gives them
ANCHOR_BYTES = 512            # its first entry's catalog anchor and span set (a set id, numbers and a SHA-256)
MEMBERS = 2


def custody_entries(manifest: Manifest, files: SessionFiles | None = None,
                    anchor: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The session's chain as known when it closes: started (with `anchor`, the catalog chain's head when the
    job began: `{"seq", "sha256"}`, docs/custody.md; a volume of a span set: its set and place), and what it
    wrote (its manifest's and copy log's SHA-256 as they go on tape: of `files`' spooled bytes when given)."""
    s = manifest.session
    extra: dict[str, Any] = {"anchor": dict(anchor)} if anchor else {}
    if s.span:
        extra["span"] = {"set_id": s.span.get("set_id"), "sequence": s.span.get("sequence")}
    started = link(None, s.started, "write", s.session_id, {
        "phase": "started", "session": s.session_id, "format": s.format, "operator": s.operator or "",
        "host": s.host, "sources": list(s.sources), **extra})
    if files is not None:
        manifest_sha, copy_log_sha = files.manifest.sha256(), files.copy_log.sha256()
    else:
        copy_log = manifest.copy_log_text().encode("utf-8", "surrogateescape")
        manifest_sha, copy_log_sha = _sha256_chunks(manifest), hashlib.sha256(copy_log).hexdigest()
    written = link(started, s.finished or iso(utc_now()), "write", s.session_id, {
        "phase": "written", "session": s.session_id, "format": s.format, "status": s.status, "files": s.files,
        "bytes": s.bytes_copied, "operator": s.operator or "",
        "manifest_sha256": manifest_sha, "copy_log_sha256": copy_log_sha})
    return [started, written]


def _sha256_chunks(manifest: Manifest) -> str:
    h = hashlib.sha256()
    for chunk in manifest.json_chunks():
        h.update(chunk)
    return h.hexdigest()


def _jsonl(entries: list[dict[str, Any]]) -> bytes:
    return b"".join(canonical(e) + b"\n" for e in entries)


def _checkpoint(entries: list[dict[str, Any]]) -> None:
    entries.append(link(entries[-1], iso(utc_now()), CHECKPOINT, entries[-1]["subject"], checkpoint_data(entries[-1])))


def earlier_files(manifest: Manifest) -> Iterator[tuple[str, Parts]]:
    """What a span volume's paperwork holds of each earlier volume of its set: its manifest and copy log."""
    return ((name, make) for name, make in session_file_chunks(manifest)
            if name.endswith(("/manifest.json", "/copy-log.txt")))


def _paperwork_items(manifest: Manifest, cards: list[Any], custody: bytes, files: SessionFiles | None = None,
                     earlier: Iterable[tuple[str, Parts]] = ()) -> Iterator[tuple[str, Iterable[bytes]]]:
    """What the paperwork holds, each item made when it is taken (one held at a time): the earlier volumes'
    manifests and copy logs (a span set's), the session's files as `paperwork.session_files` names them
    (jobs/spool.py makes them chunk by chunk, or `files` has them spooled), its custody record, each card's ASC
    MHL history."""
    for name, make in earlier:
        yield name, make()
    for name, make in (files.items() if files is not None else session_file_chunks(manifest)):
        yield name, make()
    yield f"{META_DIR}/{manifest.session.session_id}/{CUSTODY_NAME}", [custody]
    for card in cards:
        for rel, data in card.files.items():
            yield f"mhl/{card.top}/{rel}", [data]


def evidence_files(manifest: Manifest, cards: list[Any], opts: Any, notes: list[str],
                   base: str = META_DIR, files: SessionFiles | None = None,
                   earlier: Iterable[tuple[str, Parts]] = ()) -> dict[str, bytes]:
    """The two members, in the order they go on tape under `base`: the paperwork (unless
    `opts.paperwork` is False; AES-256 with `opts.paperwork_password`) and the custody record. The paperwork
    holds the record's first entries and a checkpoint; the record on tape goes on with the paperwork's SHA-256
    and a checkpoint. `files`: the session's files as they go on tape, made once (jobs/spool.py), else made here
    again. A span volume's paperwork holds its `earlier` volumes' manifests and copy logs too (their names and
    makers, as `earlier_files` names them): the set so far. The record's first entry states
    `opts.custody_anchor` (the catalog chain's head at the job's start). A paperwork that cannot be made is a
    note in `notes`, never a failed session."""
    entries = custody_entries(manifest, files, getattr(opts, "custody_anchor", None))
    _checkpoint(entries)
    sid = manifest.session.session_id
    out: dict[str, bytes] = {}
    if getattr(opts, "paperwork", True):
        password = getattr(opts, "paperwork_password", None)
        try:
            packed = pack_stored(_paperwork_items(manifest, cards, _jsonl(entries), files, earlier),
                                 password=password)
        except (OSError, ValueError, MemoryError) as exc:
            notes.append(f"the session's paperwork was not put on tape: {exc}")
        else:
            out[f"{base}/{PAPERWORK_NAME}"] = packed
            entries.append(link(entries[-1], iso(utc_now()), "write", sid, {
                "phase": "paperwork", "session": sid, "member": f"{base}/{PAPERWORK_NAME}", "bytes": len(packed),
                "sha256": hashlib.sha256(packed).hexdigest(), "encrypted": password is not None}))
            _checkpoint(entries)
    out[f"{base}/{CUSTODY_NAME}"] = _jsonl(entries)
    return out


def record_head(files: dict[str, bytes]) -> dict[str, Any] | None:
    """What the catalog records of a session's on-tape custody record (`evidence_files`' members): its
    session, entries, last entry's SHA-256 and the anchor its first entry states (docs/custody.md)."""
    custody = next((data for name, data in files.items() if name.endswith("/" + CUSTODY_NAME)), None)
    if not custody:
        return None
    entries = list(read_jsonl(custody.decode("utf-8").splitlines()))
    first, last = entries[0], entries[-1]
    return {"session": first["subject"], "entries": int(last["seq"]), "head": last["hash"],
            "anchor": first["data"].get("anchor")}


def custody_room(info: SessionInfo) -> int:
    """Upper bound of the custody record's bytes (on tape, and again in the paperwork)."""
    texts = 4 * len(canonical(info.operator or "")) + len(canonical(info.host)) + len(canonical(info.session_id)) * 12
    return CUSTODY_BYTES + ANCHOR_BYTES + texts + sum(len(canonical(s)) + 1 for s in info.sources)


def paperwork_room(metadata: int, names: int, custody: int) -> int:
    """Upper bound of the paperwork's bytes, given `metadata`, the bytes of the session's other metadata files
    (manifest, copy log, checksum lists, histories) in `names` files: it packs those again, and the custody
    record (`custody` bytes at most)."""
    return stored_bound(metadata + custody, names + 1)


@dataclass
class EvidenceCheck:
    """What a reader checks when it meets a session's evidence members (`check`, in tape order): the paperwork
    is a whole 7z (read to its end when not encrypted), the custody record an unbroken chain, and the
    paperwork's SHA-256 the one the custody record states. The problems found, each one line."""

    paperwork: str = ""
    paperwork_sha256: str | None = None
    problems: list[str] = field(default_factory=list)

    @staticmethod
    def is_evidence(path: str) -> bool:
        return path.rsplit("/", 1)[-1] in (PAPERWORK_NAME, CUSTODY_NAME) and path.startswith(META_DIR + "/")

    def check(self, path: str, data: bytes | Iterable[Any], on_damage: Callable[[str], None] | None = None) -> str:
        """Why the member `path` with `data` is not sound ("" when it is; else also said to `on_damage`). The
        files' proofs never depend on it: a damaged paperwork is damage of the tape file, nothing more."""
        if path.endswith("/" + PAPERWORK_NAME):      # (chunks: spooled, never held whole)
            self.paperwork = path
            sha = hashlib.sha256()
            with Spooled([data] if isinstance(data, bytes) else (bytes(c) for c in data), sha) as sp:
                self.paperwork_sha256 = sha.hexdigest()
                why = check_packed(sp.file)
        else:
            why = self._custody_problem(data if isinstance(data, bytes) else b"".join(bytes(c) for c in data))
        if why.startswith("its SHA-256"):
            why = f"its paperwork ({self.paperwork}) is damaged: {why}"
        elif why:
            why = f"its {path.rsplit('/', 1)[-1]} ({path}) is damaged: {why}"
        if why:
            self.problems.append(why)
            if on_damage is not None:
                on_damage(why + " (the files' proofs do not depend on it)")
        return why

    def _custody_problem(self, data: bytes) -> str:
        try:
            entries = list(read_jsonl(data.decode("utf-8").splitlines()))
        except UnicodeDecodeError:
            return "it is not UTF-8 text"
        report = verify_chain(entries, require_checkpoint_at_end=True)
        if not report.ok:
            return report.problem
        stated = [e["data"].get("sha256") for e in entries if e["data"].get("phase") == "paperwork"]
        if stated and self.paperwork_sha256 is not None and stated[0] != self.paperwork_sha256:
            return "its SHA-256 is not the one the custody record states (it was changed or damaged)"
        return ""


__all__ = ["CUSTODY_MEMBER", "PAPERWORK_MEMBER", "MEMBERS", "custody_entries", "evidence_files", "custody_room",
           "paperwork_room", "record_head", "earlier_files",
           "EvidenceCheck"]
