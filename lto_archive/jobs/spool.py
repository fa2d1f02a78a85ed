"""Metadata members made chunk by chunk and spooled to a temporary file: a 10^6-file session's manifest,
checksum lists and copy log reach the tape without ever being held in memory whole."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from types import TracebackType
from typing import Any

from ..manifest import META_DIR

SPOOL_CHUNK = 1 << 20


class Spooled:
    """`chunks` written to an unnamed temporary file (removed when closed, or by the kernel if the
    process dies), with their size and, given a hasher, their hashes."""

    def __init__(self, chunks: Iterable[bytes], hasher: Any | None = None) -> None:
        self.file = tempfile.TemporaryFile(prefix="lto-archive-meta-")
        size = 0
        try:
            for c in chunks:
                self.file.write(c)
                size += len(c)
                if hasher is not None:
                    hasher.update(c)
            self.file.flush()
        except BaseException:
            self.file.close()
            raise
        self.size = size
        self.file.seek(0)

    def chunks(self) -> Iterator[bytes]:
        """The bytes again, from the start, in parts of SPOOL_CHUNK."""
        self.file.seek(0)
        while True:
            b = self.file.read(SPOOL_CHUNK)
            if not b:
                return
            yield b

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> "Spooled":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


Parts = Callable[[], Iterable[bytes]]    # makes a member's parts (again, when asked again)


def spooled(make: Parts, hasher: Any | None = None) -> Spooled | None:
    """`make()`'s parts spooled; None when the temporary folder cannot take them (full, read-only): the
    caller then makes them again and holds them in memory, as before spooling existed."""
    try:
        return Spooled(make(), hasher)
    except OSError:
        return None


def add_member(writer: Any, name: str, make: Parts, mtime_ns: int) -> Any:
    """A metadata member from its parts: spooled, then streamed by a writer that takes parts of a known
    size (TAR's `add_chunks`); a writer that does not (or a spool that failed) is given the bytes joined
    (`add_bytes`). `make` may be a `SessionFiles` maker: its spool, made once, is streamed as it is."""
    add_chunks = getattr(writer, "add_chunks", None)
    if add_chunks is None:
        return writer.add_bytes(name, b"".join(make()), mtime_ns)
    kept = make.spooled() if isinstance(make, Kept) else None
    if kept is not None:
        return add_chunks(name, kept.chunks(), mtime_ns, size=kept.size)
    if (sp := spooled(make)) is None:
        return writer.add_bytes(name, b"".join(make()), mtime_ns)
    with sp:
        return add_chunks(name, sp.chunks(), mtime_ns, size=sp.size)


def session_file_chunks(manifest: Any) -> Iterator[tuple[str, Parts]]:
    """`paperwork.session_files(manifest)` made chunk by chunk: the same names, in the same order, with
    the same bytes (tests/test_spool.py holds them equal), each as a maker of its parts."""
    base = f"{META_DIR}/{manifest.session.session_id}"
    for algo, name in manifest.checksum_names():
        yield f"{base}/{name}", partial(manifest.checksum_chunks, algo)
    yield f"{base}/copy-log.txt", manifest.copy_log_chunks
    yield f"{base}/manifest.json", manifest.json_chunks


class Kept:
    """A maker of one session file's parts that makes them once: spooled (with their SHA-256) on first use,
    then read back from the spool (made again each time only when the spool failed)."""

    def __init__(self, make: Parts) -> None:
        self.make = make
        self.spool: Spooled | None = None
        self.tried = False
        self.digest: str | None = None

    def spooled(self) -> Spooled | None:
        if not self.tried:
            self.tried = True
            h = hashlib.sha256()
            self.spool = spooled(self.make, h)
            if self.spool is not None:
                self.digest = h.hexdigest()
        return self.spool

    def __call__(self) -> Iterable[bytes]:
        sp = self.spooled()
        return sp.chunks() if sp is not None else self.make()

    def sha256(self) -> str:
        if self.spooled() is not None and self.digest is not None:
            return self.digest
        h = hashlib.sha256()
        for c in self.make():
            h.update(c)
        return h.hexdigest()


class SessionFiles:
    """A closed session's files (checksum lists, copy log, manifest: `session_file_chunks`' names, order and
    bytes), each made once and spooled: the tape's members, the paperwork's copies and the custody record's
    SHA-256 of the manifest and copy log are then the same bytes, made once (a 10^5-file manifest's JSON
    costs ~1 s to make). Only for a session whose manifest no longer changes; close it when done."""

    def __init__(self, manifest: Any) -> None:
        self.base = f"{META_DIR}/{manifest.session.session_id}"
        self.checksums = {name: Kept(partial(manifest.checksum_chunks, algo))
                          for algo, name in manifest.checksum_names()}
        self.copy_log = Kept(manifest.copy_log_chunks)
        self.manifest = Kept(manifest.json_chunks)

    def items(self) -> Iterator[tuple[str, Parts]]:
        """As `session_file_chunks(manifest)`: (name under `.lto-archive/<session>/`, maker of its parts)."""
        for name, kept in self.checksums.items():
            yield f"{self.base}/{name}", kept
        yield f"{self.base}/copy-log.txt", self.copy_log
        yield f"{self.base}/manifest.json", self.manifest

    def close(self) -> None:
        for kept in (*self.checksums.values(), self.copy_log, self.manifest):
            if kept.spool is not None:
                kept.spool.close()

    def __enter__(self) -> "SessionFiles":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


__all__ = ["Kept", "Parts", "SessionFiles", "Spooled", "add_member", "session_file_chunks", "spooled"]
