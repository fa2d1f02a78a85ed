"""The store side of leases and places for jobs queued across nodes: who holds which drive, cartridge or
robot (PostgreSQL advisory locks), what happened to each lease, and where each cartridge is.

A lease is a session-level advisory lock of PostgreSQL on a connection of its own, held for one job: a
node that dies (kill -9, power cut) loses its connection and, with it, every lease it held; nothing waits
for an expiry a clock decides (the server also probes a silent peer with TCP keepalives). Each lease taken
or given back is a row of `lease_events`, in the order it happened (its id: a lease is recorded as taken
after its lock was granted and as given back before the lock is released, so the rows of one resource
alternate); the next holder of a lease whose node died records it as lapsed first.

`cartridge_places`: where the nodes last saw each cartridge (library and slot or drive), so a job naming a
cartridge goes to the queue of the library that holds it (api/queue.py).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..manifest import iso, utc_now
from .store import Catalog

KEEPALIVE = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3")


def lock_key(resource: str) -> int:
    """The advisory lock's 64-bit key for a resource name."""
    return int.from_bytes(hashlib.blake2b(f"lto-archive lease {resource}".encode(), digest_size=8).digest(),
                          "big", signed=True)


class Leases:
    """The leases of one job (or one look at a library outside a job), on a connection of their own.

    Implements library/leases.py's Coordinator. `close()` gives back everything still held."""

    def __init__(self, url: str, *, node: str, job_id: int | None, library: str | None = None,
                 wait_s: float = 86400.0, poll_s: float = 0.5,
                 on_wait: Callable[[str | None], None] | None = None) -> None:
        self.cat = Catalog.open(url)
        if self.cat.conn.dialect != "postgresql":
            self.cat.close()
            raise ValueError("leases live in the shared PostgreSQL catalog")
        for sql in KEEPALIVE:
            self.cat.conn.execute(sql)
        self.node, self.job_id, self.library = node, job_id, library
        self.wait_s, self.poll_s, self.on_wait = wait_s, poll_s, on_wait
        self.held: set[str] = set()
        self._mutex = threading.Lock()

    def library_key(self, library: Any) -> str:
        return self.library or str(library.name)

    def _event(self, resource: str, event: str) -> None:
        self.cat.conn.execute("INSERT INTO lease_events(resource, event, node, job_id, at) VALUES (?, ?, ?, ?, ?)",
                              (resource, event, self.node, self.job_id, iso(utc_now())))

    def _take(self, resource: str) -> bool:
        got = self.cat.conn.execute("SELECT pg_try_advisory_lock(?)", (lock_key(resource),)).fetchone()[0]
        if not got:
            return False
        last = self.cat.conn.execute("SELECT event FROM lease_events WHERE resource = ? ORDER BY id DESC LIMIT 1",
                                     (resource,)).fetchone()
        if last is not None and last[0] == "taken":       # its holder died without giving it back
            self._event(resource, "lapsed")
        self._event(resource, "taken")
        self.held.add(resource)
        return True

    def try_claim(self, resources: Sequence[str]) -> list[str] | None:
        with self._mutex:
            new: list[str] = []
            for r in dict.fromkeys(resources):
                if r in self.held:
                    continue
                if not self._take(r):
                    self._give_back(new)
                    return None
                new.append(r)
            return new

    def _give_back(self, resources: Iterable[str]) -> None:
        for r in resources:
            if r in self.held:
                self._event(r, "given back")
                self.cat.conn.execute("SELECT pg_advisory_unlock(?)", (lock_key(r),))
                self.held.discard(r)

    def release(self, resources: Sequence[str]) -> None:
        with self._mutex:
            self._give_back(list(resources))

    def waiting(self, what: str | None) -> None:
        if self.on_wait is not None:
            self.on_wait(what)

    def close(self) -> None:
        with self._mutex:
            try:
                self._give_back(sorted(self.held))
            finally:
                self.cat.close()

    def __enter__(self) -> "Leases":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def lease_events(cat: Catalog, prefix: str = "") -> list[dict[str, Any]]:
    """Every lease event (of resources starting with `prefix`), in the order they happened."""
    cur = cat.conn.execute("SELECT id, resource, event, node, job_id, at FROM lease_events ORDER BY id")
    return [dict(zip(("id", "resource", "event", "node", "job_id", "at"), r)) for r in cur.fetchall()
            if str(r[1]).startswith(prefix)]


def record_places(cat: Catalog, library: str, node: str, places: Iterable[tuple[str, str]]) -> None:
    """What `node` sees in `library` now: (barcode, place) each; cartridges it saw there before and no longer
    sees are forgotten (another library's node records them where they went)."""
    now = iso(utc_now())
    seen = dict(places)
    with cat.transaction():
        for (barcode,) in cat.conn.execute("SELECT barcode FROM cartridge_places WHERE library = ?",
                                           (library,)).fetchall():
            if barcode not in seen:
                cat.conn.execute("DELETE FROM cartridge_places WHERE barcode = ?", (barcode,))
        for barcode, place in seen.items():
            cat.conn.execute("DELETE FROM cartridge_places WHERE barcode = ?", (barcode,))
            cat.conn.execute("INSERT INTO cartridge_places(barcode, library, place, node, seen) VALUES (?, ?, ?, ?, ?)",
                             (barcode, library, place, node, now))


def place_of(cat: Catalog, barcode: str) -> dict[str, Any] | None:
    """Where the nodes last saw cartridge `barcode`: library, place, node, seen; None when no node saw it."""
    row = cat.conn.execute("SELECT barcode, library, place, node, seen FROM cartridge_places WHERE barcode = ?",
                           (barcode,)).fetchone()
    return None if row is None else dict(zip(("barcode", "library", "place", "node", "seen"), row))


__all__ = ["Leases", "lease_events", "lock_key", "record_places", "place_of"]
