"""TAR header dialects: what a 512-byte header and a pax extended header say, as GNU tar reads them.

v7 (no magic; a directory is a name ending in '/'), POSIX ustar (the prefix
field), star (a shorter prefix, then atime and ctime; "tar" at byte 508), old
GNU (base-256 numbers: `tarfile.TarInfo.frombuf` decodes them) and pax records
("%d %s=%s\\n", `hdrcharset=BINARY` names kept as surrogate escapes). The
member built from a header and the pax records in force is `member_of`.
"""

from __future__ import annotations

import tarfile

from .member import Member, TarExtra

__all__ = ["octal", "header_path", "member_of", "parse_decimal_ns", "pax_int", "parse_pax_records",
           "parse_pax_lenient"]

#: pax keywords GNU tar repeats (sparse format 0.0)
_REPEATED = ("GNU.sparse.offset", "GNU.sparse.numbytes")


def octal(field: bytes) -> int:
    """A numeric header field (octal, NUL/space padded; empty is 0)."""
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        return -1


def header_path(buf: bytes) -> str:
    """The name field, after the prefix field when the header has the POSIX ustar magic (star: the
    prefix is 131 bytes, atime and ctime follow it)."""
    path = buf[0:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    if buf[257:263] == b"ustar\0":
        end = 476 if buf[508:512] == b"tar\0" else 500
        prefix = buf[345:end].split(b"\0", 1)[0]
        if prefix:
            path = prefix.decode("utf-8", "surrogateescape") + "/" + path
    return path


def member_of(ti: tarfile.TarInfo, kind: str, path: str, linkname: str, merged: dict[str, str]) -> Member[TarExtra]:
    """The member as its header says, with the pax records `merged` winning; ValueError for a bad record."""
    m = Member(path=merged.get("path", path), kind=kind, size=ti.size, mode=ti.mode & 0o7777,
               mtime=float(ti.mtime), mtime_ns=ti.mtime * 1_000_000_000, extra=TarExtra(merged), uid=ti.uid,
               gid=ti.gid, uname=merged.get("uname", ti.uname), gname=merged.get("gname", ti.gname),
               linkname=merged.get("linkpath", linkname), devmajor=ti.devmajor, devminor=ti.devminor)
    if "size" in merged:
        m.size = pax_int("size", merged["size"])
    if "uid" in merged:
        m.uid = pax_int("uid", merged["uid"])
    if "gid" in merged:
        m.gid = pax_int("gid", merged["gid"])
    if "mtime" in merged:
        m.mtime_ns = parse_decimal_ns(merged["mtime"])
        m.mtime = float(merged["mtime"])
    return m


def parse_decimal_ns(text: str) -> int:
    """An exact pax time ("1700000000.123456789", "-1.5") in nanoseconds."""
    s = text.strip()
    neg = s.startswith("-")
    if neg or s.startswith("+"):
        s = s[1:]
    whole, dot, frac = s.partition(".")
    if not whole:
        whole = "0"
    if not (whole.isdigit() and whole.isascii()) or (dot and frac and not (frac.isdigit() and frac.isascii())):
        raise ValueError(text)
    ns = int(whole) * 1_000_000_000 + int((frac + "000000000")[:9] or "0")
    return -ns if neg else ns


def pax_int(key: str, value: str) -> int:
    v = value.strip()
    if not v or not (v.isdigit() and v.isascii()):
        raise ValueError(f"pax {key}={value!r} is not a non-negative decimal number")
    return int(v)


def parse_pax_records(data: bytes | bytearray | memoryview) -> dict[str, str]:
    """Parse the records of a pax extended header ("%d %s=%s\\n" each, UTF-8).

    Values of path, linkpath, uname and gname are decoded as UTF-8 unless the
    same header says `hdrcharset=BINARY`; bytes that are not UTF-8 are kept as
    surrogate escapes (os.fsencode gives them back). Trailing NUL padding is
    accepted. Raises ValueError describing the first bad record."""
    records, problem = parse_pax_lenient(data)
    if problem:
        raise ValueError(problem)
    return records


def parse_pax_lenient(data: bytes | bytearray | memoryview) -> tuple[dict[str, str], str]:
    """As `parse_pax_records`, but a malformed record ends the parse instead of raising, as GNU tar
    reads it: the records before it, and what was wrong ("" when nothing)."""
    buf = bytes(data)
    raw: list[tuple[bytes, bytes]] = []
    problem = ""
    pos = 0
    n = len(buf)
    while pos < n:
        if buf[pos] == 0 and not buf[pos:].strip(b"\0"):
            break  # NUL padding after the last record
        sp = buf.find(b" ", pos, min(n, pos + 24))
        if sp < 0 or not buf[pos:sp].isdigit():
            problem = f"bad pax record length at {pos}"
            break
        length = int(buf[pos:sp])
        end = pos + length
        if length <= sp - pos + 1 or end > n or buf[end - 1] != 0x0A:
            problem = f"bad pax record at {pos} (length {length})"
            break
        eq = buf.find(b"=", sp + 1, end)
        if eq <= sp + 1:
            problem = f"pax record at {pos} has no keyword or no '='"
            break
        raw.append((buf[sp + 1:eq], buf[eq + 1:end - 1]))
        pos = end
    out: dict[str, str] = {}
    for k, v in raw:
        key = k.decode("utf-8", "surrogateescape")
        # UTF-8 by default; with hdrcharset=BINARY the bytes are whatever the
        # writer's file system had: keep them, as surrogate escapes.
        value = v.decode("utf-8", "surrogateescape")
        if key in _REPEATED and key in out:
            value = out[key] + "," + value   # pax 0.0 sparse map: every record, in order
        out[key] = value
    return out, problem
