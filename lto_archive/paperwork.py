"""A job's paperwork as one 7z archive (py7zr): copy log, manifest, checksum lists, journal, ASC MHL
histories, and whatever else the production hands on (rushes report, certificate, custody log).

`session_files(manifest)` is the one place that lists a session's metadata files as they go on tape,
into a folder copy and into the paperwork. With a password the archive is AES-256 encrypted, names
included (7z header encryption), so the paperwork can travel by mail when the footage cannot. Debian's
`7z` (p7zip-full) lists, tests and extracts it.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import py7zr

from .errors import ArchiveError, UsageError
from .manifest import META_DIR

SUFFIX = ".7z"
PAPERWORK_NAME = "paperwork.7z"      # a session's paperwork as it goes on tape (jobs/session_evidence.py)
CUSTODY_NAME = "custody.jsonl"       # a session's custody record as it goes on tape (and into its paperwork)
_SIGNATURE = b"7z\xbc\xaf\x27\x1c"


def session_files(manifest: Any) -> dict[str, bytes]:
    """The session's manifest, checksum lists and copy log, under `.lto-archive/<session>/`."""
    base = f"{META_DIR}/{manifest.session.session_id}"
    files = {f"{base}/{name}": data for name, data in manifest.checksum_lists().items()}
    files[f"{base}/copy-log.txt"] = manifest.copy_log_text().encode("utf-8", "surrogateescape")
    files[f"{base}/manifest.json"] = manifest.to_json()
    return files


def read_password(path: str | os.PathLike[str] | None) -> str | None:
    """The first line of a password file (kept out of the command line and the shell history)."""
    if path is None:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the password file {path}: {exc}", path=str(path)) from None
    password = text.splitlines()[0] if text.strip() else ""
    if not password:
        raise UsageError(f"the password file {path} is empty", path=str(path))
    return password


def pack(files: Mapping[str, bytes], output: str | os.PathLike[str], *, password: str | None = None) -> Path:
    """Write `files` (archive name -> bytes) as one .7z, atomically (a temporary file renamed); AES-256 with the names hidden when a
    password is given."""
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    try:
        _write(tmp, files, password)
        with open(tmp, "rb") as fh:     # whole or not at all, as fsutil.atomic_write does, without a second copy
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:
        raise UsageError(f"cannot write the paperwork {out}: {exc.strerror or exc}", path=str(out)) from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


def _write(target: Any, files: Mapping[str, bytes], password: str | None) -> None:
    with py7zr.SevenZipFile(target, "w", password=password, header_encryption=password is not None) as z:
        for name in sorted(files):
            z.writestr(files[name], name)


def pack_stored(items: Iterable[tuple[str, Iterable[bytes]]], *, password: str | None = None) -> bytes:
    """The bytes of one .7z of `items` (archive name, its bytes in chunks), stored (7z method Copy) so its size
    is known before it is made (`stored_bound`); AES-256 with the names hidden when a password is given. Each
    item is taken in turn into a temporary folder, so only one is held in memory at a time (a manifest of
    10^6 files is hundreds of MB): for a session's paperwork on tape."""
    return b"".join(pack_stored_chunks(items, password=password))


def pack_stored_chunks(items: Iterable[tuple[str, Iterable[bytes]]], *, password: str | None = None,
                       chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """`pack_stored`'s bytes in parts of `chunk_size`, read from the archive made in a temporary folder (which
    goes once they are all taken): the archive is never held whole."""
    with tempfile.TemporaryDirectory(prefix="lto-archive-paperwork-") as tmp:
        out = _pack_into(Path(tmp), items, password)
        with open(out, "rb") as fh:
            while part := fh.read(chunk_size):
                yield part


def _pack_into(root: Path, items: Iterable[tuple[str, Iterable[bytes]]], password: str | None) -> Path:
    """The .7z of `items` made in folder `root`: its path."""
    names: dict[str, Path] = {}
    for name, chunks in items:
        names[name] = root / f"{len(names)}"
        with open(names[name], "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
    out = root / "archive.7z"
    filters = [{"id": py7zr.FILTER_COPY}] + ([{"id": py7zr.FILTER_CRYPTO_AES256_SHA256}] if password else [])
    with py7zr.SevenZipFile(out, "w", password=password, header_encryption=password is not None,
                            filters=filters) as z:
        for name in sorted(names):
            z.write(names[name], name)
    for item in names.values():
        item.unlink()       # (only the archive stays in the folder)
    return out


def stored_bound(content: int, names: int) -> int:
    """Upper bound of the .7z `pack_stored` makes of `content` bytes in `names` files
    (names up to 256 characters): the bytes as they are (AES pads them to 16 bytes), then a header with each
    name in UTF-16, its size, CRC and times."""
    return content + 4096 + names * 640


def check_packed(data: bytes | BinaryIO, *, password: str | None = None) -> str:
    """Why the bytes of a .7z (or a file of them, e.g. spooled: never held whole) are not a whole archive (""
    when they are): without a password an encrypted one is checked as far as it can be (its signature header
    and the CRC of its header); any other is read to its end, every file against its CRC."""
    fh: BinaryIO = io.BytesIO(data) if isinstance(data, bytes) else data
    size = fh.seek(0, io.SEEK_END)

    def read_at(offset: int, n: int) -> bytes:
        fh.seek(offset)
        return fh.read(n)

    problem = _structure_problem(read_at, size)
    if problem:
        return problem
    try:
        fh.seek(0)
        with py7zr.SevenZipFile(fh, "r", password=password) as z:
            bad = z.testzip()
    except py7zr.exceptions.PasswordRequired:
        return ""                 # encrypted: its structure is whole; its content needs the password
    except Exception as exc:      # py7zr reports damage as whatever its decoder trips on
        return f"it cannot be read ({type(exc).__name__})"
    return f"{bad} does not match its CRC" if bad is not None else ""


def _structure_problem(read_at: Callable[[int, int], bytes], length: int) -> str:
    """The 7z signature header: its CRC, and the CRC and place of the header it points to (`read_at(offset,
    n)` gives the archive's bytes there, `length` its size)."""
    start = read_at(0, 32)
    if length < 32 or start[:6] != _SIGNATURE:
        return "it is not a 7z archive (no 7z signature)"
    start_crc, offset, size, header_crc = struct.unpack_from("<IQQI", start, 8)
    if zlib.crc32(start[12:32]) != start_crc:
        return "its signature header does not match its CRC"
    if 32 + offset + size != length:
        return f"it is {length} bytes, its header says {32 + offset + size}"
    if zlib.crc32(read_at(32 + offset, size)) != header_crc:
        return "its header does not match its CRC"
    return ""


def unpack(path: str | os.PathLike[str], *, password: str | None = None) -> dict[str, bytes]:
    """The files of a paperwork archive, each checked against its CRC. A wrong or missing password, or a
    damaged archive, is an ArchiveError (exit 6) that says which."""
    p = Path(path)
    try:
        with py7zr.SevenZipFile(p, "r", password=password) as z:
            with tempfile.TemporaryDirectory() as tmp:
                z.extractall(path=tmp)
                root = Path(tmp)
                return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*")) if f.is_file()}
    except py7zr.exceptions.PasswordRequired:
        raise ArchiveError(f"{p} is encrypted: give its password (--password-file)", path=str(p)) from None
    except OSError as exc:
        raise UsageError(f"cannot read {p}: {exc.strerror or exc}", path=str(p)) from None
    except Exception as exc:      # py7zr reports a wrong password as whatever its decoder trips on
        why = "the password is wrong (or the archive is damaged)" if password is not None or _encrypted(p) \
            else "it is damaged or not a 7z archive"
        raise ArchiveError(f"cannot read the paperwork {p}: {why} ({type(exc).__name__})", path=str(p)) from None


def _encrypted(p: Path) -> bool:
    try:
        with py7zr.SevenZipFile(p, "r") as z:
            return bool(z.needs_password())
    except Exception:
        return True


__all__ = ["SUFFIX", "PAPERWORK_NAME", "CUSTODY_NAME", "session_files", "read_password", "pack", "pack_stored",
           "stored_bound", "check_packed", "unpack"]
