"""A tape's custody record anchored in the catalog's chain of custody (docs/custody.md, "Anchored").

A write job takes the catalog chain's head when it starts (`chain_anchor`: its seq and SHA-256) and its
session's on-tape custody record states it in its first entry ("started": `anchor`). When the job is
recorded, the catalog's `write` entry states the on-tape record it committed (`tape_record`: the session,
its number of entries and its last entry's SHA-256: catalog/custody.py `write_event`). So a record read
back from tape is anchored when the entry it names is in the catalog's chain, unaltered, and a later
entry of that chain records that very record (`anchor_report`). A record that states no anchor (written
before anchoring, or without a catalog) is "unanchored", never a failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..chain import GENESIS, entry_hash, verify_chain
from .custody import CUSTODY_SCHEMA, entries, head
from .store import Catalog

ANCHORED, UNANCHORED, NOT_ANCHORED = "anchored", "unanchored", "not anchored"


def chain_anchor(cat: Catalog | None) -> dict[str, Any] | None:
    """Where the catalog's chain stands now, for a session's on-tape record to state: `{"seq", "sha256"}`
    (seq 0 and 64 zeros: an empty chain); None without a catalog, or one older than the chain."""
    if cat is None or cat.schema_version < CUSTODY_SCHEMA:
        return None
    top = head(cat)
    return {"seq": 0, "sha256": GENESIS} if top is None else {"seq": int(top["seq"]), "sha256": top["hash"]}


def _sessions(excerpt: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The on-tape session records in `excerpt` (a tape's custody.jsonl holds one): session -> its first
    ("started") entry's data and its last entry's hash and seq."""
    out: dict[str, dict[str, Any]] = {}
    for e in excerpt:
        data = e.get("data") if isinstance(e, dict) else None
        if not isinstance(data, dict):
            continue
        sid = str(e.get("subject"))
        if data.get("phase") == "started" and e.get("event") == "write":
            out[sid] = {"anchor": data.get("anchor"), "head": e["hash"], "entries": e["seq"]}
        elif sid in out:
            out[sid].update(head=e["hash"], entries=e["seq"])
    return out


def _recorded(chain: Iterable[dict[str, Any]], sid: str) -> list[dict[str, Any]]:
    return [e for e in chain if e["event"] == "write" and (e["data"].get("tape_record") or {}).get("session") == sid]


def _one(sid: str, rec: dict[str, Any], chain: list[dict[str, Any]], broken: tuple[int | None, str]) -> dict[str, Any]:
    """How session `sid`'s on-tape record (`rec`) stands in the catalog's `chain`."""
    out: dict[str, Any] = {"session": sid, "anchor": rec["anchor"], "recorded_at": None}
    anchor = rec["anchor"]
    if not isinstance(anchor, dict):
        return dict(out, status=UNANCHORED, message=f"session {sid}: unanchored: its record states no catalog position "
                                                    f"(written before anchoring, or without a catalog)")
    seq, sha = anchor.get("seq"), anchor.get("sha256")
    by_seq = {e["seq"]: e for e in chain}
    bad_at, problem = broken

    def fail(why: str) -> dict[str, Any]:
        return dict(out, status=NOT_ANCHORED, message=f"session {sid}: NOT anchored in this catalog: {why}")
    if seq:
        entry = by_seq.get(seq)
        if entry is None:
            return fail(f"it extends entry {seq}, which this catalog does not have (a record from another catalog)")
        if entry_hash(entry) != entry["hash"]:
            return fail(f"it extends entry {seq}, which was altered in this catalog (its hash does not match "
                        f"its content)")
        if entry["hash"] != sha:
            return fail(f"it extends entry {seq} with SHA-256 {str(sha)[:16]}..., this catalog's entry {seq} has "
                        f"{entry['hash'][:16]}... (another catalog's, or the entry was altered)")
    elif sha != GENESIS:
        return fail("it states an anchor that is no entry (seq 0 with a hash)")
    later = [e for e in _recorded(chain, sid) if e["seq"] > (seq or 0)]
    if not later:
        return fail(f"no entry after {seq or 'the start'} records this session's write (a record from another "
                    f"catalog, or its write was not recorded here)")
    match = [e for e in later if e["data"]["tape_record"].get("head") == rec["head"]]
    if not match:
        return fail(f"entry {later[0]['seq']} records another on-tape record for it (its last entry's SHA-256 "
                    f"differs: this record was changed, or is not the one written)")
    at = match[0]["seq"]
    if bad_at is not None and bad_at <= at:
        return fail(f"the catalog's chain is broken: {problem}")
    return dict(out, status=ANCHORED, recorded_at=at,
                message=f"session {sid}: anchored: it extends catalog entry {seq} "
                        f"({str(sha)[:16]}...) and catalog entry {at} records it")


def anchor_report(excerpt: Sequence[dict[str, Any]], cat: Catalog) -> dict[str, Any]:
    """How each on-tape session record in `excerpt` (entries already checked as a chain) is anchored in the
    catalog's chain: `{"anchored": bool (none is NOT anchored), "sessions": [{session, status, message,
    anchor, recorded_at}]}`; an excerpt with no session record (an export) has none."""
    chain = list(entries(cat))
    report = verify_chain(chain)
    broken = (report.first_bad if report.first_bad is not None else (None if report.ok else 0), report.problem)
    found = [_one(sid, rec, chain, broken) for sid, rec in _sessions(excerpt).items()]
    return {"anchored": all(s["status"] != NOT_ANCHORED for s in found), "sessions": found,
            "catalog_entries": len(chain)}


__all__ = ["chain_anchor", "anchor_report", "ANCHORED", "UNANCHORED", "NOT_ANCHORED"]
