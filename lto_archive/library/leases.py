"""Leases on a library's drives, cartridges and robot: one job at a time on each, across processes and nodes.

Two workers on one library (two nodes sharing a robot, or two processes on one vlib) must never use the
same drive or the same cartridge at once, whatever the job asked for: a named barcode, "whatever is
loaded", the cartridges a span picks. While a `Coordinator` is active (`coordinated`, set by a queue
worker around one job: the PostgreSQL one is catalog/leases.py), `open_library` hands out a
`LeasedLibrary`: before it selects or opens a drive, or loads, unloads or opens a cartridge, it leases
them (waiting, never failing, while another job has them: the drive it picks is one no other job
holds), and it leases the robot for each look (`status`) and each move. Drive and cartridge leases last
until the job ends (the coordinator is closed); the robot's is given back after each look or move, and
an idle cartridge put back in its slot to free a drive is given back once it is there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import ChangerBusy, ChangerError
from .base import DriveInfo, Library, LibraryStatus

if TYPE_CHECKING:
    from ..tape.device import TapeDevice

T = TypeVar("T")


class Coordinator(Protocol):
    """Who holds what across processes: leases on named resources ("drive:LIB:0", "cartridge:B", "robot:LIB")."""

    wait_s: float        # how long a job waits for a lease at most before it fails (ChangerBusy)
    poll_s: float        # how often it tries again while waiting

    def library_key(self, library: Library) -> str:
        """The name every node gives this library (nodes sharing a robot see it under different /dev/sgN)."""

    def try_claim(self, resources: Sequence[str]) -> list[str] | None:
        """All of `resources` for this job, or none: the ones newly taken (those it held already count),
        or None when another job holds one of them (nothing new is kept then)."""

    def release(self, resources: Sequence[str]) -> None:
        """Give back leases this job took."""

    def waiting(self, what: str | None) -> None:
        """The job waits for `what` (None: no longer); said where people look (the job's progress)."""


_active: list[Coordinator] = []


@contextmanager
def coordinated(coordinator: Coordinator) -> Iterator[Coordinator]:
    """Every library opened inside (in this process) leases what it uses from `coordinator`."""
    _active.append(coordinator)
    try:
        yield coordinator
    finally:
        _active.remove(coordinator)


def leased(library: Library) -> Library:
    """`library` itself, or, while a coordinator is active, the same library leasing what it uses."""
    if not _active or isinstance(library, LeasedLibrary):
        return library
    return LeasedLibrary(library, _active[-1])


class LeasedLibrary(Library):
    """A library whose drives, cartridges and robot are leased before use (see the module docstring)."""

    def __init__(self, inner: Library, coordinator: Coordinator) -> None:
        self.inner, self.coord = inner, coordinator
        self.name = inner.name
        self.swaps_idle_cartridges = inner.swaps_idle_cartridges
        key = coordinator.library_key(inner)
        self._drive_key, self._robot_key = f"drive:{key}:", f"robot:{key}"
        self._robot_depth = 0

    def __getattr__(self, name: str) -> Any:          # the library's own extras (a vlib's path ...)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # --- leases -----------------------------------------------------------------------------------
    def drive_lease(self, drive: int) -> str:
        return f"{self._drive_key}{drive}"

    @staticmethod
    def cartridge_lease(barcode: str) -> str:
        return f"cartridge:{barcode}"

    def _wait(self, attempt: Callable[[], T | None], what: str) -> T:
        """`attempt()` until it gives something (it takes what it needs without waiting, or nothing)."""
        deadline = time.monotonic() + self.coord.wait_s
        said = False
        try:
            while True:
                got = attempt()
                if got is not None:
                    return got
                if time.monotonic() >= deadline:
                    raise ChangerBusy(f"waited {self.coord.wait_s:.0f} s for {what} of {self.name}: another job "
                                      f"holds it all that time", library=self.name)
                if not said:
                    self.coord.waiting(f"{what} of {self.name}")
                    said = True
                time.sleep(self.coord.poll_s)
        finally:
            if said:
                self.coord.waiting(None)

    @contextmanager
    def _robot(self) -> Iterator[None]:
        """The robot, for one look or move (nested calls share it)."""
        if self._robot_depth == 0:
            self._wait(lambda: self.coord.try_claim([self._robot_key]), "the robot")
        self._robot_depth += 1
        try:
            yield
        finally:
            self._robot_depth -= 1
            if self._robot_depth == 0:
                self.coord.release([self._robot_key])

    def _with_drive(self, drive: int, then: Callable[[DriveInfo], T], what: str) -> T:
        """Lease `drive` and the cartridge in it (waiting), then `then(drive's info)` with the robot held."""
        def attempt() -> tuple[T] | None:
            with self._robot():
                d = self.inner.status().drive(drive)
                if self.coord.try_claim([self.drive_lease(drive)] + self._carts(d.barcode)) is None:
                    return None
                return (then(d),)
        return self._wait(attempt, what)[0]

    def _carts(self, *barcodes: str | None) -> list[str]:
        return [self.cartridge_lease(b) for b in barcodes if b]

    # --- the Library interface ----------------------------------------------------------------------
    def status(self) -> LibraryStatus:
        with self._robot():
            return self.inner.status()

    def open_drive(self, drive: int) -> "TapeDevice":
        self._with_drive(drive, lambda d: None, f"drive {drive}")
        return self.inner.open_drive(drive)

    def unload(self, drive: int, slot: int | None = None) -> None:
        self._with_drive(drive, lambda d: self.inner.unload(drive, slot), f"drive {drive}")

    def load(self, slot: int, drive: int) -> None:
        def attempt() -> tuple[None] | None:
            with self._robot():
                st = self.inner.status()
                held = [self.drive_lease(drive)] + self._carts(st.slot(slot).barcode, st.drive(drive).barcode)
                if self.coord.try_claim(held) is None:
                    return None
                self.inner.load(slot, drive)
                return (None,)
        self._wait(attempt, f"drive {drive}")

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        def attempt() -> tuple[None] | None:
            with self._robot():
                st = self.inner.status()
                if self.coord.try_claim(self._carts(st.slot(source_slot).barcode)) is None:
                    return None
                self.inner.transfer(source_slot, dest_slot)
                return (None,)
        self._wait(attempt, f"the cartridge in slot {source_slot}")

    def loaded_drive(self) -> int:
        """The first loaded drive no other job holds (waiting while every loaded drive is held)."""
        def attempt() -> tuple[int] | None:
            with self._robot():
                st = self.inner.status()
                loaded = [d for d in st.drives if d.full]
                if not loaded:
                    return (self.inner.loaded_drive(),)        # says there is none
                for d in loaded:
                    if self.coord.try_claim([self.drive_lease(d.number)] + self._carts(d.barcode)) is not None:
                        return (d.number,)
            return None
        return self._wait(attempt, "a loaded drive")[0]

    def load_barcode(self, barcode: str, drive: int | None = None, *, put_back_idle: bool = False) -> int:
        """As Library.load_barcode, choosing among the drives no other job holds, waiting when none is free."""
        return self._wait(lambda: self._try_load(barcode, drive, put_back_idle), f"a drive for {barcode}")[0]

    def _try_load(self, barcode: str, drive: int | None, put_back_idle: bool) -> tuple[int] | None:
        with self._robot():
            st = self.inner.status()
            place = st.locate(barcode)
            if place is None:
                return (self.inner.load_barcode(barcode, drive),)      # says where it is not
            new = self.coord.try_claim(self._carts(barcode))
            if new is None:
                return None
            if isinstance(place, DriveInfo) and drive in (None, place.number):
                if self.coord.try_claim([self.drive_lease(place.number)]) is not None:
                    return (place.number,)
            elif drive is not None:
                also = [self.drive_lease(place.number)] if isinstance(place, DriveInfo) else []
                wanted = [self.drive_lease(drive), *also, *self._carts(st.drive(drive).barcode)]
                if self.coord.try_claim(wanted) is not None:
                    return (self.inner.load_barcode(barcode, drive, put_back_idle=put_back_idle),)
            else:
                chosen = self._free_drive(st, put_back_idle and self.swaps_idle_cartridges)
                if chosen is not None:
                    return (self.inner.load_barcode(barcode, chosen),)
            self.coord.release(new)
            return None

    def _free_drive(self, st: LibraryStatus, put_back: bool) -> int | None:
        """An empty drive no other job holds, leased; else (`put_back`) a drive whose idle cartridge no job
        holds, emptied into its slot. None when there is none."""
        for d in st.drives:
            if not d.full and self.coord.try_claim([self.drive_lease(d.number)]) is not None:
                return d.number
        for d in st.drives if put_back else ():
            new = self.coord.try_claim([self.drive_lease(d.number)] + self._carts(d.barcode))
            if new is None:
                continue
            try:
                self.inner.unload(d.number)
            except ChangerError:
                self.coord.release(new)
                continue
            self.coord.release([r for r in new if r.startswith("cartridge:")])   # back in its slot: free again
            return d.number
        return None

    def read_health(self, drive: int) -> str | None:
        return Library.read_health(self, drive)

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"<LeasedLibrary {self.inner!r}>"


__all__ = ["Coordinator", "coordinated", "leased", "LeasedLibrary"]
