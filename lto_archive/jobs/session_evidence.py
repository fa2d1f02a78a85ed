"""A session's own evidence on tape: its custody record and its paperwork .7z, so a cartridge proves its own
history twenty years later without the catalog or the log folder (docs/paperwork.md, docs/tape-format.md).

Written by every write path at the session's close, as its last members before the manifest (which stays the
very last: its presence marks a closed session): `.lto-archive/paperwork.7z` then `.lto-archive/custody.jsonl`
in a tape file, the same two names under `.lto-archive/<session>/` on an LTFS volume. The custody record is the
session's own hash-linked chain (lto_archive/chain.py, as the catalog's entries are made): the session started,
what it wrote (with the SHA-256 of its manifest and copy log), the paperwork it put on tape (its SHA-256, so
even an encrypted one is checked without its password), and a checkpoint naming the entries before it.
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
from .spool import Spooled, session_file_chunks
from ..paperwork import CUSTODY_NAME, PAPERWORK_NAME, check_packed, pack_stored_chunks, stored_bound

CUSTODY_MEMBER = f"{META_DIR}/{CUSTODY_NAME}"
PAPERWORK_MEMBER = f"{META_DIR}/{PAPERWORK_NAME}"
CUSTODY_BYTES = 8192          # the custody record's five entries, without the texts the session gives them
MEMBERS = 2


def custody_entries(manifest: Manifest) -> list[dict[str, Any]]:
    """The session's chain as known when it closes: started, and what it wrote (its manifest's and copy log's
    SHA-256 as they go on tape)."""
    s = manifest.session
    started = link(None, s.started, "write", s.session_id, {
        "phase": "started", "session": s.session_id, "format": s.format, "operator": s.operator or "",
        "host": s.host, "sources": list(s.sources)})
    copy_log = hashlib.sha256()
    for part in manifest.copy_log_chunks():      # (10^6 files: never the whole copy log at once)
        copy_log.update(part)
    written = link(started, s.finished or iso(utc_now()), "write", s.session_id, {
        "phase": "written", "session": s.session_id, "format": s.format, "status": s.status, "files": s.files,
        "bytes": s.bytes_copied, "operator": s.operator or "",
        "manifest_sha256": _sha256_chunks(manifest), "copy_log_sha256": copy_log.hexdigest()})
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


def _paperwork_items(manifest: Manifest, cards: list[Any], custody: bytes) -> Iterator[tuple[str, Iterable[bytes]]]:
    """What the paperwork holds, each item made when it is taken (one held at a time): the session's files as
    `paperwork.session_files` names them (jobs/spool.py makes them chunk by chunk), its custody record, each
    card's ASC MHL history."""
    for name, make in session_file_chunks(manifest):
        yield name, make()
    yield f"{META_DIR}/{manifest.session.session_id}/{CUSTODY_NAME}", [custody]
    for card in cards:
        for rel, data in card.files.items():
            yield f"mhl/{card.top}/{rel}", [data]


def evidence_files(manifest: Manifest, cards: list[Any], opts: Any, notes: list[str],
                   base: str = META_DIR) -> dict[str, bytes]:
    """`evidence_members`' members, each as its bytes."""
    out: dict[str, bytes] = {}
    for name, data in evidence_members(manifest, cards, opts, notes, base).items():
        if isinstance(data, Spooled):
            with data:
                data = b"".join(data.chunks())
        out[name] = data
    return out


def evidence_members(manifest: Manifest, cards: list[Any], opts: Any, notes: list[str],
                     base: str = META_DIR) -> dict[str, bytes | Spooled]:
    """The two members, in the order they go on tape under `base`: the paperwork (unless
    `opts.paperwork` is False; AES-256 with `opts.paperwork_password`) and the custody record. The paperwork
    holds the record's first entries and a checkpoint; the record on tape goes on with the paperwork's SHA-256
    and a checkpoint. A paperwork that cannot be made is a note in `notes`, never a failed session."""
    entries = custody_entries(manifest)
    _checkpoint(entries)
    sid = manifest.session.session_id
    out: dict[str, bytes | Spooled] = {}
    if getattr(opts, "paperwork", True):
        password = getattr(opts, "paperwork_password", None)
        sha = hashlib.sha256()
        try:      # spooled: the paperwork of 10^6 files is hundreds of MB, never held whole
            packed = Spooled(pack_stored_chunks(_paperwork_items(manifest, cards, _jsonl(entries)),
                                                password=password), sha)
        except (OSError, ValueError, MemoryError) as exc:
            notes.append(f"the session's paperwork was not put on tape: {exc}")
        else:
            out[f"{base}/{PAPERWORK_NAME}"] = packed
            entries.append(link(entries[-1], iso(utc_now()), "write", sid, {
                "phase": "paperwork", "session": sid, "member": f"{base}/{PAPERWORK_NAME}", "bytes": packed.size,
                "sha256": sha.hexdigest(), "encrypted": password is not None}))
            _checkpoint(entries)
    out[f"{base}/{CUSTODY_NAME}"] = _jsonl(entries)
    return out


def custody_room(info: SessionInfo) -> int:
    """Upper bound of the custody record's bytes (on tape, and again in the paperwork)."""
    texts = 4 * len(canonical(info.operator or "")) + len(canonical(info.host)) + len(canonical(info.session_id)) * 12
    return CUSTODY_BYTES + texts + sum(len(canonical(s)) + 1 for s in info.sources)


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
        """Why the member `path` with `data` (its bytes, or its chunks: a paperwork's are spooled, never held
        whole) is not sound ("" when it is; else also said to `on_damage`). The files' proofs never depend on
        it: a damaged paperwork is damage of the tape file, nothing more."""
        if path.endswith("/" + PAPERWORK_NAME):
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
           "paperwork_room",
           "EvidenceCheck"]
