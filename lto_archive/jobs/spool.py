"""Metadata members made chunk by chunk and spooled to a temporary file: a 10^6-file session's manifest,
checksum lists and copy log reach the tape without ever being held in memory whole."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from types import TracebackType
from typing import Any

from ..errors import CorruptArchive, LtoArchiveError, RestoreConflict, UnsafePath
from ..manifest import MANIFEST_MEMBER, META_DIR, Manifest
from ..record_file import parse_manifest_chunks

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


def add_spooled(writer: Any, name: str, data: bytes | Spooled, mtime_ns: int) -> Any:
    """A member whose bytes are given, or spooled already (then streamed from the spool, which is closed)."""
    if not isinstance(data, Spooled):
        return writer.add_bytes(name, data, mtime_ns)
    with data:
        add_chunks = getattr(writer, "add_chunks", None)
        if add_chunks is None:
            return writer.add_bytes(name, b"".join(data.chunks()), mtime_ns)
        return add_chunks(name, data.chunks(), mtime_ns, size=data.size)


class _Passing:
    """A member's chunks, each written to `out` (a restore's open file, or None) as it passes; `failed`: the
    reader raised inside the member."""

    def __init__(self, chunks: Iterator[Any], out: Any) -> None:
        self.chunks, self.out, self.failed = chunks, out, False

    def __iter__(self) -> "_Passing":
        return self

    def __next__(self) -> Any:
        try:
            c = next(self.chunks)
        except StopIteration:
            raise
        except BaseException:
            self.failed = True
            raise
        if self.out is not None:
            self.out.write(c)
        return c


@dataclass
class ManifestRead:
    """A manifest member as read: its manifest, or why it is damaged; a restore's refusal of its copy."""

    rel: str = ""                        # where a restore puts it
    manifest: Manifest | None = None
    damage: str = ""
    refused: LtoArchiveError | None = None


def read_manifest(chunks: Iterator[Any], target: Any, rel: str, member: Any) -> ManifestRead:
    """A tape file's manifest member (its data `chunks`) parsed as it streams by (record_file.py: its records on
    disk), and restored as `rel` under `target` (None: not restored) as it passes, every byte of it, damaged or
    not. The reader failing inside it (the tape file cut short) raises, nothing of it restored."""
    got = ManifestRead(rel)
    out = None
    if target is not None:
        try:
            out = target.open_file(rel, member.mode & 0o777, mtime_ns=member.mtime_ns)
        except (UnsafePath, RestoreConflict) as exc:
            got.refused = exc
    passing = _Passing(chunks, out)
    try:
        got.manifest = parse_manifest_chunks(passing, MANIFEST_MEMBER)
    except CorruptArchive as exc:
        if passing.failed:
            if out is not None:
                out.abort()
            raise
        got.damage = exc.message
    if out is not None:
        with out:
            for _ in passing:        # the rest of a manifest the parse gave up on
                pass
            try:
                out.commit()
            except (UnsafePath, RestoreConflict) as exc:
                got.refused = exc
    return got


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


__all__ = ["ManifestRead", "add_spooled", "read_manifest", "Kept", "Parts", "SessionFiles", "Spooled", "add_member", "session_file_chunks", "spooled"]
