"""The catalog's chain of custody: every event appended to a hash-chained log (lto_archive/chain.py).

Appending reads the head and inserts the next entry in one write transaction, so concurrent writers
(several jobs recording at once) extend one chain and never fork it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..chain import CHECKPOINT, canonical, checkpoint_data, link
from ..manifest import iso, utc_now
from .store import Catalog

EVENTS = ("write", "verify", "restore", "audit", "migration", "certificate", "location", "library-import",
          "library-export", "catalog-import", CHECKPOINT)


def _entry(row: tuple[Any, ...]) -> dict[str, Any]:
    seq, at, event, subject, data, prev, hash_ = row
    return {"seq": seq, "at": at, "event": event, "subject": subject, "data": json.loads(data), "prev": prev,
            "hash": hash_}


def head(cat: Catalog) -> dict[str, Any] | None:
    row = cat.conn.execute("SELECT seq, at, event, subject, data, prev, hash FROM custody "
                           "ORDER BY seq DESC LIMIT 1").fetchone()
    return None if row is None else _entry(row)


def append(cat: Catalog, event: str, subject: str, data: dict[str, Any], *, at: str | None = None) -> dict[str, Any]:
    """Add one event at the end of the chain; the entry as stored."""
    if event not in EVENTS:
        raise ValueError(f"unknown custody event {event!r}")
    with cat.transaction():
        entry = link(head(cat), at or iso(utc_now()), event, subject, data)
        cat.conn.execute("INSERT INTO custody(seq, at, event, subject, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (entry["seq"], entry["at"], entry["event"], entry["subject"],
                          json.dumps(entry["data"], sort_keys=True, ensure_ascii=False), entry["prev"], entry["hash"]))
    return entry


def append_checkpoint(cat: Catalog, sign: Any = None, *, at: str | None = None) -> dict[str, Any]:
    """A checkpoint naming the head; `sign(message: bytes) -> str` adds a signature over what it states."""
    with cat.transaction():
        stated = checkpoint_data(head(cat))
        data = dict(stated, **({"signature": sign(canonical(stated))} if sign is not None else {}))
        entry = append(cat, CHECKPOINT, "catalog", data, at=at)
    return entry


def entries(cat: Catalog, *, subject: str | None = None) -> Iterator[dict[str, Any]]:
    """The chain in order (every entry, or those about one subject)."""
    sql = "SELECT seq, at, event, subject, data, prev, hash FROM custody"
    args: tuple[Any, ...] = ()
    if subject is not None:
        sql += " WHERE subject = ?"
        args = (subject,)
    for row in cat.conn.execute(sql + " ORDER BY seq", args):
        yield _entry(row)
