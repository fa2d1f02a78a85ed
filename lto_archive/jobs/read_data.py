"""A member's bytes read back: hashed as they stream by, and written to a restored file in the same pass.

`hash_member` is what the read engine (jobs/read.py) calls for every file member: when the reader can
hand the member's whole data as one view of the tape record (TarReader.whole_data, formats/tar_fast.py:
a small file, nearly every member of a DPX sequence), it is hashed with one call per algorithm and
written with one call; otherwise the data's chunks go through `hash_chunks`. Either way the hashes are
of exactly the bytes the reader yields, and progress counts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..hashing import MultiHasher, hash_bytes
from ..progress import ProgressTracker

__all__ = ["hash_chunks", "hash_member"]


def hash_chunks(chunks: Iterable[Any], algorithms: tuple[str, ...], tracker: ProgressTracker,
                out: Any = None) -> tuple[dict[str, str], int]:
    """Hash data as it streams by (and write it to `out`, a RestoreFile, when given), counting it for
    progress: its hex digests and its length."""
    hasher = MultiHasher(algorithms)     # one algorithm: its update is the hash's own (hashing.py)
    update, write, add = hasher.update, (out.write if out is not None else None), tracker.add_bytes
    n = 0
    for chunk in chunks:
        update(chunk)
        if write is not None:
            write(chunk)
        k = len(chunk)
        n += k
        add(k)
    return hasher.hexdigests(), n


def hash_member(reader: Any, m: Any, algorithms: tuple[str, ...], tracker: ProgressTracker,
                out: Any = None) -> tuple[dict[str, str], int]:
    """`hash_chunks` of member `m`'s data (the member `reader` returned last), in one call per algorithm
    when the reader has it whole in one record (`whole_data`)."""
    whole = getattr(reader, "whole_data", None)
    view = whole(m) if whole is not None else None
    if view is None:
        return hash_chunks(reader.iter_data(m), algorithms, tracker, out)
    digests = hash_bytes(view, algorithms)
    if out is not None:
        out.write(view)
    n = len(view)
    tracker.add_bytes(n)
    return digests, n
