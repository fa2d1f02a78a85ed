"""The entries of one folder of an LTFS index, packed: no Python object per file.

A folder of the index model (index_model.Directory) keeps its entries here:
each entry is its name and its record (index_model.File's packed fields), as
UTF-8 bytes `name NUL record`, appended to one bytearray per folder; arrays
hold each entry's offset and length, and an open-addressing table of entry
numbers (by the hash of the name's bytes) finds a name. An entry whose record
changes is written again at the end (the old bytes are garbage, dropped when
they outweigh the rest). Entry numbers never change, so a File bound to an
entry (index_model.File, after it is put in a folder) stays valid.

Memory per file: its name and record bytes plus ~21 bytes (offset 8, length 4,
~9 for the table), where a File object, its name and record strings and a dict
slot took ~200 bytes more.

Threads: the write path sets a file's hashes on the hash thread while the main
thread adds files to the same folder; every change and every read goes through
one lock, so an entry is never read half-moved.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterator

__all__ = ["PackedFolder", "LOCK"]

LOCK = threading.Lock()
_MIN_TABLE = 8
_FETCH = 256          # entries copied out per lock hold while iterating


class PackedFolder:
    """Entries (name bytes, record bytes) in insertion order; a name is at most once."""

    __slots__ = ("_blob", "_off", "_len", "_table", "_live", "_garbage")

    def __init__(self) -> None:
        self._blob = bytearray()
        self._off = array("I")        # becomes "q" if the folder ever holds 4 GiB
        self._len = array("i")        # negative for a deleted entry: -1 - its length
        self._table = array("i", bytes(4 * _MIN_TABLE))   # entry number + 1; 0 is empty
        self._live = 0
        self._garbage = 0

    def __len__(self) -> int:
        return self._live

    # --- finding ------------------------------------------------------------------------
    def _find(self, key: bytes) -> int:
        """The entry named `key`, or -1 (the lock held)."""
        table, blob, off, ln = self._table, self._blob, self._off, self._len
        mask = len(table) - 1
        i = hash(key) & mask
        k = len(key)
        while True:
            e = table[i]
            if not e:
                return -1
            e -= 1
            o = off[e]
            if ln[e] > k and blob[o + k] == 0 and blob[o:o + k] == key:
                return e
            i = (i + 1) & mask

    def find(self, key: bytes) -> int:
        with LOCK:
            return self._find(key)

    # --- changing -----------------------------------------------------------------------
    def _append(self, key: bytes, record: bytes) -> int:
        """A new entry for a name not there (the lock held)."""
        n = len(self._off)
        if (n + 1) * 3 > len(self._table) * 2:
            self._grow(n + 1)
        blob = self._blob
        self._place(len(blob) + len(key) + len(record) + 1)
        self._off.append(len(blob))
        blob += key
        blob.append(0)
        blob += record
        self._len.append(len(key) + 1 + len(record))
        table = self._table
        mask = len(table) - 1
        i = hash(key) & mask
        while table[i]:
            i = (i + 1) & mask
        table[i] = n + 1
        self._live += 1
        return n

    def add_entries(self, entries: list[tuple[bytes, bytes]], locked: bool = False) -> bytes | None:
        """Append (name, `name NUL record`) entries in order; the first name already there stops it
        (the entries before it are in) and is returned, else None. The parser's hot path."""
        if not locked:
            with LOCK:
                return self.add_entries(entries, True)
        n = len(self._off)
        if (n + len(entries)) * 3 > len(self._table) * 2:
            self._grow(n + len(entries))
        self._place(len(self._blob) + sum(len(e) for _, e in entries))
        blob, off, ln, table = self._blob, self._off, self._len, self._table
        mask = len(table) - 1
        first = n
        try:
            for key, entry in entries:
                k = len(key)
                i = hash(key) & mask
                while True:
                    t = table[i]
                    if not t:
                        break
                    t -= 1
                    o = off[t]
                    if ln[t] > k and blob[o + k] == 0 and blob[o:o + k] == key:
                        return key
                    i = (i + 1) & mask
                table[i] = n + 1
                off.append(len(blob))
                ln.append(len(entry))
                blob += entry
                n += 1
            return None
        finally:
            self._live += n - first

    def _place(self, offset: int) -> None:
        if offset + (1 << 16) >= (1 << 32) and self._off.typecode == "I":
            self._off = array("q", self._off)

    def _grow(self, entries: int) -> None:
        size = _MIN_TABLE
        while size * 2 < entries * 3:
            size *= 2
        size *= 2
        table = array("i", bytes(4 * size))
        mask = size - 1
        blob, off, ln = self._blob, self._off, self._len
        for e in range(len(off)):
            if ln[e] < 0:
                continue
            o = off[e]
            key = bytes(blob[o:blob.index(0, o, o + ln[e])])
            i = hash(key) & mask
            while table[i]:
                i = (i + 1) & mask
            table[i] = e + 1
        self._table = table

    def add(self, key: bytes, record: bytes) -> int:
        """A new entry's number, or -1 when the name is there already (nothing changes)."""
        with LOCK:
            if self._find(key) >= 0:
                return -1
            return self._append(key, record)

    def put(self, key: bytes, record: bytes) -> int:
        """The entry named `key` holds `record` now (new at the end, or in its old place)."""
        with LOCK:
            e = self._find(key)
            if e < 0:
                return self._append(key, record)
            self._rewrite(e, key, record)
            return e

    def _rewrite(self, e: int, key: bytes, record: bytes) -> None:
        blob = self._blob
        o, n = self._off[e], self._len[e]
        if n == len(key) + 1 + len(record):     # same size: in place
            blob[o + len(key) + 1:o + n] = record
            return
        self._garbage += n
        self._place(len(blob))
        self._off[e] = len(blob)
        blob += key
        blob.append(0)
        blob += record
        self._len[e] = len(key) + 1 + len(record)
        if self._garbage > 4096 and self._garbage * 2 > len(blob):
            self._compact()

    def set_record(self, e: int, record: bytes) -> None:
        with LOCK:
            if self._len[e] < 0:
                return          # deleted: no entry of the folder to change
            o = self._off[e]
            blob = self._blob
            key = bytes(blob[o:blob.index(0, o)])
            self._rewrite(e, key, record)

    def delete(self, e: int) -> None:
        """The entry is gone from the folder; its bytes stay (a File bound to it still reads them)."""
        with LOCK:
            n = self._len[e]
            if n >= 0:
                self._len[e] = -1 - n          # negative: not found, not listed; -1 - n gives n back
                self._live -= 1

    def _compact(self) -> None:
        blob, off, ln = self._blob, self._off, self._len
        new = bytearray()
        for e in range(len(off)):
            o, n = off[e], ln[e]
            off[e] = len(new)
            new += blob[o:o + (n if n >= 0 else -1 - n)]
        self._blob = new
        self._garbage = 0

    def trim(self) -> None:
        """Give back what the growing blob and arrays hold in reserve (a folder read in full)."""
        with LOCK:
            if len(self._blob) > 4096:
                self._blob = bytearray(self._blob)
                self._off = array(self._off.typecode, self._off)
                self._len = array("i", self._len)

    # --- reading ------------------------------------------------------------------------
    def entry(self, e: int) -> tuple[bytes, bytes]:
        """(name bytes, record bytes) of entry `e` (also of a deleted one)."""
        with LOCK:
            o, n = self._off[e], self._len[e]
            data = bytes(self._blob[o:o + (n if n >= 0 else -1 - n)])
        k = data.index(0)
        return data[:k], data[k + 1:]

    def record(self, e: int) -> bytes:
        return self.entry(e)[1]

    def entries(self) -> Iterator[tuple[int, bytes, bytes]]:
        """(entry number, name bytes, the entry's bytes: `name NUL record`) of every entry, in order."""
        for e, data in self.raw_entries():
            yield e, data[:data.index(0)], data

    def raw_entries(self) -> Iterator[tuple[int, bytes]]:
        """(entry number, `name NUL record`) of every entry, in order.

        A few hundred entries at a time are copied out under the lock, as one piece of the blob when
        they lie together (they do unless records were rewritten), so other threads may go on changing
        the folder meanwhile."""
        e = 0
        while True:
            with LOCK:
                blob, off, ln = self._blob, self._off, self._len
                end = min(len(off), e + _FETCH)
                if e >= end:
                    return
                live = [i for i in range(e, end) if ln[i] >= 0]
                if live:
                    lo = min(off[i] for i in live)
                    hi = max(off[i] + ln[i] for i in live)
                    spans = [(i, off[i] - lo, ln[i]) for i in live]
                    snap = bytes(blob[lo:hi]) if hi - lo <= 2 * sum(ln[i] for i in live) else b""
                    if not snap:
                        pieces = [(i, bytes(blob[off[i]:off[i] + ln[i]])) for i in live]
            if live:
                if snap:
                    for i, o, n in spans:
                        yield i, snap[o:o + n]
                else:
                    yield from pieces
            e = end
