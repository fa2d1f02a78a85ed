"""Where the queue's cartridges are, and who may use them: each node's library seen into the catalog, a
job's queue chosen by the library holding its cartridge, a job handed on to that library's queue, and the
leases a queued job takes on its node's drives, cartridges and robot (docs/queue.md).

Every worker says what its library (or drive) holds, in the catalog's `cartridge_places`, when it starts
and after each job. `submit` sends a job naming a cartridge to the queue of the library the catalog says
holds it (`library:NAME`, NAME as the library's nodes give it: `worker --library-name`); a worker takes
the shared queue and its library's own. A worker that takes a job whose cartridge its library does not
hold, while the catalog knows which library does, hands the job on to that library's queue (it counts
as an attempt in the queue); one nobody has seen is run, and says where the cartridge is not.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from ..catalog import Catalog as CatalogStore
from ..catalog import leases as _leases
from ..errors import ChangerBusy, LtoArchiveError
from ..library.leases import coordinated
from .targets import open_library

log = logging.getLogger(__name__)

LIBRARY_QUEUE = "library:"
QUEUE_NAME_MAX = 40    # bytes: the channel 'procrastinate_queue_v1#<queue>' is a PostgreSQL name (63 bytes)


def library_queue(name: str) -> str:
    """The queue of the library named `name`: the jobs that need its cartridges. A long name (a vlib's folder) is
    cut to its end and a digest of the whole: procrastinate notifies a queue on a PostgreSQL channel named
    after it, and a channel's name has at most 63 bytes."""
    queue = f"{LIBRARY_QUEUE}{name}"
    if len(queue.encode()) <= QUEUE_NAME_MAX:
        return queue
    digest = hashlib.blake2b(name.encode(), digest_size=6).hexdigest()
    tail = name.encode()[-(QUEUE_NAME_MAX - len(LIBRARY_QUEUE) - len(digest) - 1):].decode(errors="ignore")
    return f"{LIBRARY_QUEUE}{tail}~{digest}"


def job_barcodes(args: dict[str, Any]) -> list[str]:
    """The cartridges a job names, the one it needs first first."""
    found = [args.get("barcode"), *(args.get("from_barcodes") or ()), args.get("to_barcode"),
             *(args.get("cartridges") or ())]
    return [str(b) for b in found if b]


def route(args: dict[str, Any], url: str, default: str) -> str:
    """The queue for a job: its first cartridge's library's own, when the catalog knows where it is."""
    codes = job_barcodes(args)
    if not codes:
        return default
    with CatalogStore.open(url) as cat:
        place = _leases.place_of(cat, codes[0])
    return library_queue(place["library"]) if place else default


class Rerouted(Exception):
    """This node's library does not hold the job's cartridge; the library whose queue it goes to does."""

    def __init__(self, queue: str, barcode: str, where: dict[str, Any]) -> None:
        super().__init__(f"{barcode} is in {where['library']} ({where['place']}): the job goes to queue {queue}")
        self.queue = queue


def node_leases(node: Any, job_id: int | None, on_wait: Callable[[str | None], None] | None = None) -> Any:
    """The leases of one job on `node` (a context: given back when it ends), or nothing on a catalog file."""
    if not str(node.catalog).startswith(("postgresql://", "postgres://")):
        return nullcontext(None)
    return _leases.Leases(node.catalog, node=node.name or socket.gethostname(), job_id=job_id, library=node.place,
                          wait_s=node.lease_wait, on_wait=on_wait)


@contextmanager
def leasing(node: Any, job_id: int, on_wait: Callable[[str | None], None] | None) -> Iterator[None]:
    """Around one job: its library leases what it uses; a node with one drive leases that drive for the job."""
    with node_leases(node, job_id, on_wait) as lz:
        if lz is None:
            yield
            return
        with coordinated(lz):
            if not node.library:
                _hold_the_drive(node, lz)
            yield


def _hold_the_drive(node: Any, lz: Any) -> None:
    """A node with one drive: the drive, for the whole job (another worker process on it waits its turn)."""
    deadline = time.monotonic() + lz.wait_s
    while lz.try_claim([f"drive:{node.place}"]) is None:
        if time.monotonic() >= deadline:
            raise ChangerBusy(f"waited {lz.wait_s:.0f} s for drive {node.target}: another job holds it all that time")
        lz.waiting(f"drive {node.target}")
        time.sleep(lz.poll_s)
    lz.waiting(None)


def seen_places(node: Any) -> list[tuple[str, str]] | None:
    """What the node's library holds now, (barcode, place) each (its robot looks: no drive is opened); None for
    a node with one drive (its cartridge is changed by hand, and opening the drive to look counts as a load)."""
    if not node.library:
        return None
    with node_leases(node, None) as lz, (coordinated(lz) if lz is not None else nullcontext()):
        with open_library(node.library) as lib:
            st = lib.status()
    return [(d.barcode, f"drive {d.number}") for d in st.drives if d.full and d.barcode] + \
        [(s.barcode, f"slot {s.number}") for s in st.slots if s.full and s.barcode]


def record_places(node: Any) -> None:
    """Tell the catalog what this node's library holds (never fails a job: a node that cannot look says nothing)."""
    try:
        places = seen_places(node)
        if places is None:
            return
        with CatalogStore.open(node.catalog) as cat:
            _leases.record_places(cat, node.place, node.name or socket.gethostname(), places)
    except Exception:       # best effort: a job's outcome never depends on it (the next look says it again)
        log.warning("could not record what %s holds", node.place, exc_info=True)


def check_place(node: Any, args: dict[str, Any]) -> None:
    """Rerouted when this node's library lacks the job's first cartridge and the catalog knows where it is."""
    codes = job_barcodes(args)
    if not codes:
        return
    try:
        places = seen_places(node)
    except LtoArchiveError:
        return                      # the job runs, and its record says why the library could not be used
    if places is None or codes[0] in {b for b, _ in places}:
        return
    with CatalogStore.open(node.catalog) as cat:
        _leases.record_places(cat, node.place, node.name or socket.gethostname(), places)
        where = _leases.place_of(cat, codes[0])
    if where is not None and where["library"] != node.place:
        raise Rerouted(library_queue(where["library"]), codes[0], where)


__all__ = ["library_queue", "job_barcodes", "route", "Rerouted", "leasing", "record_places", "check_place",
           "LIBRARY_QUEUE"]
