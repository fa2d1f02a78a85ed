"""The hash formats of ASC MHL, the C4 ID, and directory (hash of hashes) computation.

ASC MHL v2.0 knows six file hash formats (its XSD, HashType): c4, md5, sha1,
xxh128, xxh3 (64 bit) and xxh64, all but c4 written as lowercase hex (xxHash
digests big endian, seed 0: what `xxhash`'s hexdigest gives). sha256, which
lto-archive also computes, has no place in an ASC MHL manifest and is left out.

C4 (SMPTE ST 2114) is the SHA-512 digest as a base58 number (alphabet without
0, O, I, l), left-padded with "1" (the alphabet's zero) to 88 characters and
prefixed with "c4": 90 characters. ASC MHL uses it to reference manifests from
the chain file, and it may also be a file hash.

Directory hashes (spec Appendix G, DirectoryHashType): for one format,
  content   = H(bytes of the sorted list of the children's content hashes)
  structure = H(bytes of the sorted list of H(utf-8 name + bytes of child hash)),
where a file child contributes its file hash and a folder child its content
(resp. structure) hash; an empty folder hashes the empty input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from ..hashing import ALGORITHMS, MultiHasher

#: ASC MHL's file hash formats, in the order its XML schema lists them.
MHL_FORMATS: tuple[str, ...] = ("c4", "md5", "sha1", "xxh128", "xxh3", "xxh64")

#: Which recorded format to verify with when a history holds several: the fastest first.
VERIFY_PREFERENCE: tuple[str, ...] = ("xxh128", "xxh3", "xxh64", "md5", "sha1", "c4")

C4_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_C4_INDEX = {ch: i for i, ch in enumerate(C4_ALPHABET)}
C4_LENGTH = 90

_HEX_LENGTH = {"md5": 32, "sha1": 40, "xxh128": 32, "xxh3": 16, "xxh64": 16}


def c4_from_digest(digest: bytes) -> str:
    """The C4 ID of a 64-byte SHA-512 digest."""
    if len(digest) != 64:
        raise ValueError("a C4 ID encodes a 64-byte SHA-512 digest")
    n = int.from_bytes(digest, "big")
    chars: list[str] = []
    while n:
        n, rem = divmod(n, 58)
        chars.append(C4_ALPHABET[rem])
    body = "".join(reversed(chars))
    return "c4" + body.rjust(C4_LENGTH - 2, "1")


def c4_to_digest(c4: str) -> bytes:
    """The 64 digest bytes a C4 ID stands for (ValueError if it is not one)."""
    if len(c4) != C4_LENGTH or not c4.startswith("c4"):
        raise ValueError(f"not a C4 ID: {c4!r}")
    n = 0
    for ch in c4[2:]:
        try:
            n = n * 58 + _C4_INDEX[ch]
        except KeyError:
            raise ValueError(f"not a C4 ID (character {ch!r}): {c4!r}") from None
    if n >> 512:
        raise ValueError(f"not a C4 ID (too large): {c4!r}")
    return n.to_bytes(64, "big")


def c4_id(data: bytes) -> str:
    """The C4 ID of some bytes (e.g. a whole manifest file, as the chain records it)."""
    return c4_from_digest(hashlib.sha512(data).digest())


def is_valid_hash(fmt: str, value: str) -> bool:
    """Whether `value` is a well-formed hash string of format `fmt`."""
    if fmt == "c4":
        try:
            c4_to_digest(value)
        except ValueError:
            return False
        return True
    n = _HEX_LENGTH.get(fmt)
    if n is None or len(value) != n:
        return False
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def digest_bytes(fmt: str, value: str) -> bytes:
    """A hash string's byte representation (spec Appendix D): hex decoded, or the C4 number."""
    if fmt == "c4":
        return c4_to_digest(value)
    return bytes.fromhex(value)


class _C4:
    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h = hashlib.sha512()

    def update(self, data: Any) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:  # named like the others; returns the C4 ID
        return c4_from_digest(self._h.digest())


def check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Keep order, drop repeats; ValueError naming a format ASC MHL does not have."""
    out = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    bad = [f for f in out if f not in MHL_FORMATS]
    if bad:
        raise ValueError(f"{', '.join(bad)}: not an ASC MHL hash format (choose from {', '.join(MHL_FORMATS)})")
    return out


class MhlHasher:
    """Every requested ASC MHL format in one pass: lto-archive's MultiHasher plus SHA-512 for c4."""

    __slots__ = ("formats", "_multi", "_c4", "_updates")

    def __init__(self, formats: Iterable[str]) -> None:
        self.formats = check_formats(formats)
        plain = [f for f in self.formats if f != "c4"]
        self._multi = MultiHasher(plain) if plain else None
        self._c4 = _C4() if "c4" in self.formats else None
        self._updates = [h.update for h in (self._multi, self._c4) if h is not None]

    def update(self, data: Any) -> None:
        for update in self._updates:
            update(data)

    def hexdigests(self) -> dict[str, str]:
        out = self._multi.hexdigests() if self._multi is not None else {}
        if self._c4 is not None:
            out["c4"] = self._c4.hexdigest()
        return {f: out[f] for f in self.formats}


def hash_data(fmt: str, data: bytes) -> str:
    if fmt == "c4":
        return c4_id(data)
    h = ALGORITHMS[fmt]()
    h.update(data)
    return h.hexdigest()


def hash_of_hashes(fmt: str, values: Iterable[str]) -> str:
    """Spec Appendix G: sort the hash strings, hash their bytes one after the other."""
    h: Any = _C4() if fmt == "c4" else ALGORITHMS[fmt]()
    for v in sorted(values):
        h.update(digest_bytes(fmt, v))
    return str(h.hexdigest())


def _name_bytes(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def directory_hash_pair(fmt: str, files: Mapping[str, str],
                        folders: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    """(content, structure) of one folder from its children.

    files: name -> file hash; folders: name -> (content, structure) of that subfolder.
    """
    content = list(files.values()) + [c for c, _s in folders.values()]
    structure = [hash_data(fmt, _name_bytes(n) + digest_bytes(fmt, v)) for n, v in files.items()]
    structure += [hash_data(fmt, _name_bytes(n) + digest_bytes(fmt, s)) for n, (_c, s) in folders.items()]
    return hash_of_hashes(fmt, content), hash_of_hashes(fmt, structure)


def directory_hashes(files: Mapping[str, Mapping[str, str]], folders: Iterable[str],
                     formats: Iterable[str], incomplete: Iterable[str] = ()) -> dict[str, dict[str, tuple[str, str]]]:
    """Content and structure hashes of every folder of a tree, "." being its root.

    files: relative path -> {format: hash}; folders: relative paths of every folder
    (empty ones too; parents of files are added). A folder gets a hash of a format
    only when every file below it has one: a folder holding a file listed in
    `incomplete` (present but not hashed) or a file lacking that format gets none,
    since its hash would not match what any reader computes from the disk.
    """
    formats = tuple(formats)
    all_dirs: set[str] = {"."}
    for d in folders:
        d = d.strip("/")
        if d and d != ".":
            all_dirs.add(d)
    for p in list(files) + list(incomplete):
        parts = p.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            all_dirs.add("/".join(parts[:i]))
    for d in list(all_dirs):
        parts = d.split("/") if d != "." else []
        for i in range(1, len(parts)):
            all_dirs.add("/".join(parts[:i]))

    def parent_of(p: str) -> str:
        return p.rsplit("/", 1)[0] if "/" in p else "."

    child_files: dict[str, dict[str, Mapping[str, str]]] = {d: {} for d in all_dirs}
    for p, h in files.items():
        child_files[parent_of(p)][p.rsplit("/", 1)[-1]] = h
    broken: dict[str, set[str]] = {d: set() for d in all_dirs}   # formats a folder cannot have
    for p in incomplete:
        broken[parent_of(p)].update(formats)
    child_dirs: dict[str, list[str]] = {d: [] for d in all_dirs}
    for d in all_dirs:
        if d != ".":
            child_dirs[parent_of(d)].append(d)

    out: dict[str, dict[str, tuple[str, str]]] = {}
    # deepest first, so every subfolder is done before its parent
    for d in sorted(all_dirs, key=lambda x: -1 if x == "." else x.count("/"), reverse=True):
        res: dict[str, tuple[str, str]] = {}
        for fmt in formats:
            if fmt in broken[d]:
                continue
            fvals: dict[str, str] = {}
            ok = True
            for name, h in child_files[d].items():
                if fmt not in h:
                    ok = False
                    break
                fvals[name] = h[fmt]
            sub: dict[str, tuple[str, str]] = {}
            if ok:
                for c in child_dirs[d]:
                    pair = out.get(c, {}).get(fmt)
                    if pair is None:
                        ok = False
                        break
                    sub[c.rsplit("/", 1)[-1]] = pair
            if ok:
                res[fmt] = directory_hash_pair(fmt, fvals, sub)
        out[d] = res
    return out
