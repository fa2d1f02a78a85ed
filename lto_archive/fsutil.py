"""Files that appear whole or not at all.

`atomic_write(path, data)` is the one way the library writes a small file that must never be
seen half-written (a cartridge's settings, a copy log, a certificate, an ASC MHL manifest, a
report): the bytes go to a temporary file in the same folder, are flushed and fsynced, get their
mode, and only then take the real name with one `os.replace`. On any failure the temporary
file is removed and the old file (if any) is left as it was.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: Path | str, data: bytes | str | Iterable[bytes], *, mode: int = 0o644, fsync: bool = True,
                 encoding: str = "utf-8", errors: str = "strict") -> None:
    """Write `data` to `path` atomically: a reader sees the old file or the whole new one.

    `str` data is encoded with `encoding`/`errors`; an iterable of bytes is written part by part (a
    10^6-file copy log is never held whole). `mode` is applied before the rename;
    `fsync=False` skips the flush to stable storage (for files that are cheap to redo)."""
    path = Path(path)
    raw = data.encode(encoding, errors) if isinstance(data, str) else data
    parts = [raw] if isinstance(raw, (bytes, bytearray, memoryview)) else raw
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for part in parts:
                fh.write(part)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
