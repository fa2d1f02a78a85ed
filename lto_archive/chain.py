"""A hash-chained log: each entry names the one before it by its SHA-256, so an edited, deleted,
reordered or truncated entry breaks the chain where it happened (docs/custody.md).

An entry is a JSON object with `seq` (1, 2, ...), `at` (ISO 8601 UTC), `event` ("write", "verify", ...),
`subject` (a barcode, a folder, a session), `data` (what happened), `prev` (the previous entry's hash;
64 zeros for the first) and `hash`: the SHA-256 of the canonical JSON of every other field. A checkpoint
is an entry whose event is "checkpoint": it states how many entries came before it and the head hash,
optionally signed (Ed25519, the keys `baf keygen` makes), so the end of a log cannot be cut off unseen.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
CHECKPOINT = "checkpoint"
FIELDS = ("seq", "at", "event", "subject", "data", "prev", "hash")


def canonical(value: Any) -> bytes:
    """The one byte form of a JSON value the hashes are taken over (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: entry[k] for k in FIELDS if k != "hash"})).hexdigest()


def link(prev: dict[str, Any] | None, at: str, event: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
    """The entry that follows `prev` (None: the first entry)."""
    entry = {"seq": 1 if prev is None else int(prev["seq"]) + 1, "at": at, "event": event, "subject": subject,
             "data": data, "prev": GENESIS if prev is None else prev["hash"]}
    entry["hash"] = entry_hash(entry)
    return entry


def checkpoint_data(head: dict[str, Any] | None) -> dict[str, Any]:
    """What a checkpoint states: the number of entries before it and the hash of the last."""
    return {"entries": 0 if head is None else int(head["seq"]), "head": GENESIS if head is None else head["hash"]}


@dataclass(frozen=True)
class ChainReport:
    """What `verify_chain` found: `ok`, the entries checked, and the first bad one (its seq or position)."""

    entries: int
    checkpoints: int
    signed: int
    first_bad: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problem

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries": self.entries, "checkpoints": self.checkpoints, "signed": self.signed,
                "first_bad": self.first_bad, "problem": self.problem}


def _shape_problem(entry: Any) -> str:
    if not isinstance(entry, dict) or set(entry) != set(FIELDS):
        return "is not a custody entry (fields " + ", ".join(FIELDS) + ")"
    if not isinstance(entry["seq"], int) or not isinstance(entry["data"], dict):
        return "has a malformed seq or data"
    if not all(isinstance(entry[k], str) for k in ("at", "event", "subject", "prev", "hash")):
        return "has a malformed field"
    return ""


def verify_chain(entries: Iterable[Any], *, excerpt: bool = False, verify_signature: Any = None,
                 require_checkpoint_at_end: bool = False) -> ChainReport:
    """Check every link. `excerpt`: the entries are a tape's excerpt of a longer chain (the first need not
    be seq 1; each must still follow the one before). `verify_signature(data, signature) -> bool` checks
    signed checkpoints. `require_checkpoint_at_end`: an exported log ends with a checkpoint naming its
    last entry, so a truncated export is caught."""
    count = checkpoints = signed = 0
    prev: dict[str, Any] | None = None
    for position, entry in enumerate(entries, start=1):
        count += 1
        where = entry.get("seq", position) if isinstance(entry, dict) else position
        problem = _shape_problem(entry) or _link_problem(entry, prev, excerpt and prev is None)
        if not problem and entry["event"] == CHECKPOINT:
            checkpoints += 1
            problem, was_signed = _checkpoint_problem(entry, prev, verify_signature)
            signed += was_signed
        if problem:
            return ChainReport(count, checkpoints, signed, where if isinstance(where, int) else position,
                               f"entry {where} {problem}")
        prev = entry
    if require_checkpoint_at_end and (prev is None or prev["event"] != CHECKPOINT):
        return ChainReport(count, checkpoints, signed, None,
                           "the log does not end with a checkpoint: it was truncated (or is not an export)")
    return ChainReport(count, checkpoints, signed)


def _link_problem(entry: dict[str, Any], prev: dict[str, Any] | None, first_of_excerpt: bool) -> str:
    if entry_hash(entry) != entry["hash"]:
        return "was edited: its hash does not match its content"
    if first_of_excerpt:
        return ""
    want_seq = 1 if prev is None else int(prev["seq"]) + 1
    if entry["seq"] != want_seq:
        return f"is out of place: seq {entry['seq']} where {want_seq} belongs (an entry was deleted or moved)"
    if entry["prev"] != (GENESIS if prev is None else prev["hash"]):
        return "does not follow the entry before it (an entry was deleted, inserted or moved)"
    return ""


def _checkpoint_problem(entry: dict[str, Any], prev: dict[str, Any] | None, verify_signature: Any) -> tuple[str, int]:
    stated = {k: entry["data"].get(k) for k in ("entries", "head")}
    if prev is not None and stated != checkpoint_data(prev):
        return "is a checkpoint that does not state the entries before it", 0
    signature = entry["data"].get("signature")
    if signature is None:
        return "", 0
    if verify_signature is None:
        return "", 0
    if not verify_signature(canonical(stated), signature):
        return "is a checkpoint whose signature does not verify", 0
    return "", 1


def read_jsonl(lines: Iterable[str]) -> Iterator[Any]:
    """Entries of an exported log or a tape's excerpt; a line that is not JSON is yielded as None (a bad
    entry for verify_chain, never skipped)."""
    for line in lines:
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            yield None
