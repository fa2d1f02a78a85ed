"""Several hash algorithms in one pass, encoded as ASC MHL writes them.

Names follow ASC MHL (`md5`, `sha1`, `xxh64`, `xxh3`, `xxh128`) plus `sha256`.
All of them release the GIL on large buffers, so hashing on a worker thread
overlaps reading and device writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import xxhash

from .errors import UsageError


class _Hash(Protocol):
    def update(self, data: Any, /) -> None: ...
    def hexdigest(self) -> str: ...


ALGORITHMS: dict[str, Callable[[], _Hash]] = {
    "xxh64": xxhash.xxh64,
    "xxh3": xxhash.xxh3_64,
    "xxh128": xxhash.xxh3_128,
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}

DEFAULT_ALGORITHMS: tuple[str, ...] = ("xxh128", "md5")


def parse_algorithms(spec: str | Iterable[str]) -> tuple[str, ...]:
    """"xxh128,md5" -> ("xxh128", "md5"); unknown names are a usage error."""
    names = [n.strip().lower() for n in (spec.split(",") if isinstance(spec, str) else spec)]
    names = [n for n in names if n]
    if not names:
        raise UsageError("at least one hash algorithm is needed", known=sorted(ALGORITHMS))
    unknown = [n for n in names if n not in ALGORITHMS]
    if unknown:
        raise UsageError(f"unknown hash algorithm {', '.join(unknown)}; choose from {', '.join(ALGORITHMS)}",
                         unknown=unknown)
    return tuple(dict.fromkeys(names))  # keep order, drop repeats


class MultiHasher:
    """Feeds the same bytes to several algorithms; `update` is the only hot call."""

    __slots__ = ("algorithms", "_hashes", "_updates", "update")

    def __init__(self, algorithms: Iterable[str]) -> None:
        self.algorithms = tuple(algorithms)
        self._hashes = [ALGORITHMS[a]() for a in self.algorithms]
        self._updates = [h.update for h in self._hashes]
        # one algorithm (the usual case): its own update, with no Python call between (per chunk, per file)
        self.update: Callable[[Any], None] = self._updates[0] if len(self._updates) == 1 else self._update_all

    def _update_all(self, data: Any) -> None:
        for update in self._updates:
            update(data)

    def hexdigests(self) -> dict[str, str]:
        """Lowercase hex per algorithm, as ASC MHL stores it."""
        return {a: h.hexdigest() for a, h in zip(self.algorithms, self._hashes)}


def hash_bytes(data: Any, algorithms: Iterable[str]) -> dict[str, str]:
    """Hex digests of `data` (bytes or a view) per algorithm; one algorithm (the usual case, and per member on
    read-back) without a MultiHasher around it."""
    algos = tuple(algorithms)
    if len(algos) == 1:
        one = ALGORITHMS[algos[0]]()
        one.update(data)
        return {algos[0]: one.hexdigest()}
    h = MultiHasher(algos)
    h.update(data)
    return h.hexdigests()


# --- checksum list files that standard tools check -------------------------------

#: file name suffix and checking tool for each algorithm's list
CHECKSUM_LISTS: dict[str, tuple[str, str]] = {
    "md5": ("checksums.md5", "md5sum -c"),
    "sha1": ("checksums.sha1", "sha1sum -c"),
    "sha256": ("checksums.sha256", "sha256sum -c"),
    "xxh64": ("checksums.xxh64", "xxhsum -c"),
    "xxh3": ("checksums.xxh3", "xxhsum -c"),
    "xxh128": ("checksums.xxh128", "xxhsum -c"),
}


def checksum_line(algorithm: str, hexdigest: str, path: str) -> str | None:
    """One line of a checksum list in the format its standard tool checks.

    GNU coreutils (md5sum, sha*sum) escape a name holding a backslash or newline
    with a leading backslash. xxhsum 0.8.1 reads names raw and uses the BSD
    style for XXH3; a name with a newline cannot be listed for it (None).
    """
    if algorithm in ("md5", "sha1", "sha256"):
        if "\\" in path or "\n" in path:
            return "\\" + hexdigest + "  " + path.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
        return f"{hexdigest}  {path}\n"
    if "\n" in path or "\r" in path:
        return None
    if algorithm == "xxh3":
        return f"XXH3 ({path}) = {hexdigest}\n"
    return f"{hexdigest}  {path}\n"
