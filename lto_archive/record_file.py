"""A session's file records kept on disk, and a manifest parsed as it streams by (issue 15: a 10^6-file job in
bounded memory).

`RecordFile` is a sequence of `FileRecord`s held one JSON line each (the manifest's own line for the
record: `json.dumps(vars(rec))`, UTF-8, names kept with surrogateescape) in an unnamed temporary file,
with two `array('q')` of where each line starts and how long it is: 16 bytes a record in memory, whatever
the record holds. Reading one back (`rec = records[i]`, iterating) gives a fresh `FileRecord`; a change
to it is kept by writing it back (`records[i] = rec`: the new line is appended and the index points at
it). `Manifest.json_chunks` copies the lines as they are (`json_lines`), so the manifest's bytes are the
same whichever way its records are held.

`parse_manifest_chunks` reads a manifest from its bytes in parts: the head (format, version, session,
totals) and then the list of files one record at a time (`json.JSONDecoder.raw_decode`), each record
checked as `Manifest.from_dict` checks it, into a `RecordFile`. Any layout of the same JSON document
(ours writes one record a line; older versions indented) parses; a document whose "files" is not the
last member of its top-level object is parsed whole, as before. Damage is ManifestDamaged, as ever.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import tempfile
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, overload

from .errors import CorruptArchive
from .manifest import (MAX_JSON_BYTES, MAX_JSON_DEPTH, FileRecord, Manifest, ManifestDamaged, check_depth,
                       file_records, manifest_from_head, why)

_encode = json.JSONEncoder(ensure_ascii=False).encode
_READ = 1 << 20
KEEP_IN_MEMORY = 100_000     # records held as objects before any goes to disk: a DPX reel of 100,000 frames
                             # (~100 MB) pays no encode and decode per pass; a 10^6-file job stays bounded


def record_line(rec: FileRecord) -> bytes:
    """A record's line in the manifest (without its separator)."""
    return _encode(vars(rec)).encode("utf-8", "surrogateescape")


def record_of_line(line: bytes | memoryview) -> FileRecord:
    """The FileRecord of a line `record_line` made."""
    return FileRecord(**json.loads(bytes(line).decode("utf-8", "surrogateescape")))


def _decoded(lines: list[bytes]) -> Iterator[FileRecord]:
    if not lines:
        return
    new = object.__new__
    for doc in json.loads((b"[" + b",".join(lines) + b"]").decode("utf-8", "surrogateescape")):
        rec = new(FileRecord)
        rec.__dict__.update(doc)
        yield rec


class RecordFile(Sequence[FileRecord]):
    """FileRecords on disk, one line each: see the module's docstring. Removed when closed (or by the kernel
    when the process ends: the file has no name)."""

    def __init__(self, records: Iterable[FileRecord] = ()) -> None:
        self._file = tempfile.TemporaryFile(prefix="lto-archive-records-")
        self._fd = self._file.fileno()
        self._starts = array("q")
        self._lengths = array("q")
        self._end = 0                   # the file's size, once the buffer is written
        self._buf: list[bytes] = []     # lines not yet written
        self._buffered = 0
        self.extend(records)

    # -- writing
    def append(self, rec: FileRecord) -> None:
        self.append_line(record_line(rec))

    def append_line(self, line: bytes) -> None:
        """A record's line as `record_line` makes it (a manifest's line, checked by whoever made it)."""
        self._starts.append(self._end + self._buffered)
        self._lengths.append(len(line))
        self._buf.append(line)
        self._buf.append(b"\n")
        self._buffered += len(line) + 1
        if self._buffered >= _READ:
            self._write()

    def extend(self, records: Iterable[FileRecord]) -> None:
        for rec in records:
            self.append(rec)

    def __setitem__(self, i: int, rec: FileRecord) -> None:
        """Keep a changed record: its new line goes at the end, the index points at it."""
        n = len(self._starts)
        if not -n <= i < n:
            raise IndexError("record index out of range")
        line = record_line(rec)
        at = self._end + self._buffered
        self._buf += [line, b"\n"]
        self._buffered += len(line) + 1
        self._starts[i], self._lengths[i] = at, len(line)
        if self._buffered >= _READ:
            self._write()

    def _write(self) -> None:
        if self._buf:
            data = b"".join(self._buf)
            self._buf, self._buffered = [], 0
            view = memoryview(data)
            while view:
                k = os.pwrite(self._fd, view, self._end)
                self._end += k
                view = view[k:]

    # -- reading
    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, i: int) -> FileRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[FileRecord]: ...

    def __getitem__(self, i: int | slice) -> FileRecord | list[FileRecord]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        n = len(self._starts)
        if not -n <= i < n:
            raise IndexError("record index out of range")
        self._write()
        return record_of_line(os.pread(self._fd, self._lengths[i], self._starts[i]))

    def json_lines(self) -> Iterator[memoryview]:
        """Every record's line in order (valid until the next one is asked for)."""
        return self._disk_lines()

    def _disk_lines(self, start: int = 0) -> Iterator[memoryview]:
        """The lines on disk, in order, read in large parts."""
        self._write()
        starts, lengths = self._starts, self._lengths
        block, base = b"", 0
        for i in range(start, len(starts)):
            at, n = starts[i], lengths[i]
            if not (base <= at and at + n <= base + len(block)):
                block, base = os.pread(self._fd, max(_READ, n), at), at
            yield memoryview(block)[at - base:at - base + n]

    def __iter__(self) -> Iterator[FileRecord]:
        """Every record in order, decoded 512 lines at a time (one JSON parse each; a record's fields set
        as `record_line` wrote them, all of them: ~40% less CPU than a parse and __init__ per record)."""
        batch: list[bytes] = []
        for line in self._disk_lines():
            batch.append(bytes(line))
            if len(batch) >= 512:
                yield from _decoded(batch)
                batch.clear()
        yield from _decoded(batch)

    def __deepcopy__(self, memo: dict[int, Any]) -> "RecordFile":
        out = RecordFile()
        for line in self.json_lines():
            out.append_line(bytes(line))
        return out

    def close(self) -> None:
        self._file.close()


class SpooledRecords(RecordFile):
    """A write job's records: the newest stay in memory as the objects the job (and its hash thread) still
    fill in, and go to disk in order once `settle` finds them `settled` (their hashes known, or nothing to
    hash). `records[i]` of one still in memory is that object; of one on disk, a fresh copy (write it back
    to keep a change: `records[i] = rec`)."""

    def __init__(self, settled: Callable[[FileRecord], bool], keep: int | None = None) -> None:
        super().__init__()
        self._live: deque[FileRecord] = deque()
        self._settled = settled
        self._keep = KEEP_IN_MEMORY if keep is None else keep     # (the module's figure when made)

    def append(self, rec: FileRecord) -> None:
        self._live.append(rec)

    def settle(self, everything: bool = False) -> None:
        """Write the oldest records in memory to disk, in order, while more than `keep` are in memory and the
        oldest is settled (`everything`: all are)."""
        live, settled, spool, keep = self._live, self._settled, super().append, self._keep
        while len(live) > keep and (everything or settled(live[0])):
            spool(live.popleft())

    def __len__(self) -> int:
        return len(self._starts) + len(self._live)

    def _index(self, i: int) -> int:
        k = i + len(self) if i < 0 else i
        if not 0 <= k < len(self):
            raise IndexError("record index out of range")
        return k

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        k, on_disk = self._index(i), len(self._starts)
        return self._live[k - on_disk] if k >= on_disk else super().__getitem__(k)

    def __setitem__(self, i: int, rec: FileRecord) -> None:
        k, on_disk = self._index(i), len(self._starts)
        if k >= on_disk:
            self._live[k - on_disk] = rec
        else:
            super().__setitem__(k, rec)

    def json_lines(self) -> Iterator[memoryview]:
        yield from self._disk_lines()
        for rec in list(self._live):
            yield memoryview(record_line(rec))

    def __iter__(self) -> Iterator[FileRecord]:
        yield from super().__iter__()
        yield from list(self._live)


# -- a manifest parsed as it streams by

class _Text:
    """Text decoded from chunks of UTF-8 (surrogateescape), consumed from the front."""

    def __init__(self, chunks: Iterable[bytes | memoryview], what: str) -> None:
        self._chunks = iter(chunks)
        self._dec = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.text, self.pos, self.eof, self.size, self.what = "", 0, False, 0, what

    def more(self) -> bool:
        """Decode the next chunk onto the text (dropping what was consumed); False at the end."""
        if self.eof:
            return False
        chunk = next(self._chunks, None)
        if chunk is None:
            self.eof = True
            tail = self._dec.decode(b"", final=True)
        else:
            self.size += len(chunk)
            if self.size > MAX_JSON_BYTES:
                raise ManifestDamaged(f"the {self.what} is larger than any lto-archive writes ({self.size} bytes)")
            tail = self._dec.decode(bytes(chunk))
        self.text, self.pos = self.text[self.pos:] + tail, 0
        return True

    def skip_space(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            text, pos = self.text, self.pos
            while pos < len(text) and text[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < len(text):
                return text[pos]
            if not self.more():
                return ""


def parse_manifest_chunks(chunks: Iterable[bytes | memoryview], what: str) -> Manifest:
    """The manifest whose bytes are `chunks`, its files in a RecordFile (see the module's docstring); a manifest
    that exists but cannot be parsed is CorruptArchive naming `what`, as `Manifest.parse` says it."""
    try:
        return _parse(chunks, what)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise CorruptArchive(f"the manifest {what} is damaged: it cannot be parsed ({why(exc)})") from None


_FILES = re.compile(r'"files"\s*:\s*\[')
_HEAD_MAX = 64 << 20     # a session's head is a few KB: further than this, the document is not laid out as ours


def _parse(chunks: Iterable[bytes | memoryview], what: str) -> Manifest:
    src = _Text(chunks, "manifest")
    found = None
    while found is None:          # the head: everything before the top level's "files" (a few KB)
        found = _FILES.search(src.text)
        if found is None and (len(src.text) > _HEAD_MAX or not src.more()):
            return _whole(src, what)
    head_text = src.text[:found.start()].rstrip()
    try:
        head = json.loads(head_text[:-1] + "}") if head_text.endswith(",") else None
    except ValueError:          # "files" was not a key of the top level
        head = None
    if not isinstance(head, dict):
        return _whole(src, what)      # not laid out as ours: the whole document, the old way
    check_depth(head, "manifest")
    src.pos = found.end()
    records = _Records()
    try:
        _records(src, records)
        if src.skip_space() != "}":
            raise ManifestDamaged("the manifest goes on after its list of files")
        src.pos += 1
        if src.skip_space() != "":
            raise ManifestDamaged("the manifest goes on after its end")
        return manifest_from_head(head, records.held)
    except BaseException:
        records.close()
        raise


class _Records:
    """A parse's records: a list up to KEEP_IN_MEMORY of them, then a RecordFile (on disk)."""

    def __init__(self) -> None:
        self.held: list[FileRecord] | RecordFile = []

    def __len__(self) -> int:
        return len(self.held)

    def append(self, rec: FileRecord) -> None:
        self.held.append(rec)
        if len(self.held) > KEEP_IN_MEMORY and isinstance(self.held, list):
            self.held = RecordFile(self.held)

    def close(self) -> None:
        if isinstance(self.held, RecordFile):
            self.held.close()


def _records(src: _Text, records: _Records) -> None:
    """The list of files, from after its "[" to after its "]", into `records` (checked in batches)."""
    decode = json.JSONDecoder().raw_decode
    batch: list[Any] = []
    while True:
        c = src.skip_space()
        if c == "]":
            src.pos += 1
            break
        if batch or len(records):
            if c != ",":
                raise ManifestDamaged(f"the manifest's list of files is broken after file {len(records) + len(batch)}")
            src.pos += 1
            src.skip_space()
        while True:
            try:
                doc, end = decode(src.text, src.pos)    # an object is whole once it decodes
                break
            except ValueError:
                if not src.more():       # the record may go on in the next chunk; at the end it is broken
                    raise
        src.pos = end
        check_depth(doc, "manifest", MAX_JSON_DEPTH - 2)
        batch.append(doc)
        if len(batch) >= 4096:
            _flush(batch, records)
    _flush(batch, records)


def _flush(batch: list[Any], records: _Records) -> None:
    for rec in file_records(batch, len(records)):
        records.append(rec)
    batch.clear()


def _whole(src: _Text, what: str) -> Manifest:
    """A document not laid out as ours: read to its end and parsed whole (Manifest.parse; nothing of it was
    consumed yet)."""
    while src.more():
        pass
    return Manifest.parse(src.text.encode("utf-8", "surrogateescape"), what)


__all__ = ["RecordFile", "SpooledRecords", "parse_manifest_chunks", "record_line", "record_of_line"]
