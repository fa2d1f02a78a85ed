"""TarWriter's own ustar/pax header builder writes exactly the bytes tarfile's PAX_FORMAT writes
(on-tape bytes stay identical); anything it does not cover goes to tarfile."""

from __future__ import annotations

import random
import stat
import tarfile

from lto_archive.formats.tar_writer import fast_header


def tarfile_header(name, kind, size, mode, mtime_ns, uid=0, gid=0, linkname=""):
    from lto_archive.formats.tar_writer import TarWriter
    writer = TarWriter.__new__(TarWriter)
    return TarWriter._header(writer, name, kind, size, mode, mtime_ns, uid, gid, linkname)


def reference(name, kind, size, mode, mtime_ns, uid, gid, linkname):
    import grp
    import pwd
    info = tarfile.TarInfo(name)
    info.type, info.size, info.mode = kind, size, stat.S_IMODE(mode)
    info.mtime, info.uid, info.gid, info.linkname = mtime_ns // 10**9, uid, gid, linkname
    try:
        info.uname = pwd.getpwuid(uid).pw_name
    except KeyError:
        info.uname = ""
    try:
        info.gname = grp.getgrgid(gid).gr_name
    except KeyError:
        info.gname = ""
    if mtime_ns % 10**9:
        info.pax_headers = {"mtime": f"{mtime_ns // 10**9}.{mtime_ns % 10**9:09d}".rstrip("0")}
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def test_fast_header_is_byte_identical_to_tarfile():
    rng = random.Random(15)
    fast = 0
    for _ in range(5000):
        name = "".join(rng.choice("ab/._-Z9 ") for _ in range(rng.choice([1, 7, 40, 99, 100, 101, 150])))
        if rng.random() < 0.05:
            name += rng.choice(["é", "\udcff", "日本"])
        args = (name, rng.choice([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE]),
                rng.choice([0, 1, 511, 512, 12288, 10**6, 8**11 - 1, 8**11, 2**40]),
                rng.choice([0o100644, 0o40755, 0o120777, 0o104755, 0o100000]),
                rng.choice([0, 10**9, 1_700_000_000 * 10**9 + rng.randrange(10**9), 1_700_000_000_500_000_000,
                            1_700_000_000 * 10**9 + 1, 8**11 * 10**9, 8**11 * 10**9 - 1]),
                rng.choice([0, 1000, 65534, 8**7 - 1, 8**7]), rng.choice([0, 100, 8**7]),
                rng.choice(["", "target", "x" * 100, "x" * 101, "ü"]))
        want = reference(*args)
        assert tarfile_header(*args) == want, args
        got = fast_header(*args)
        if got is not None:
            fast += 1
            assert got == want, args
    assert fast > 500           # the common case takes the fast path


def test_fast_header_leaves_pax_cases_to_tarfile():
    mt = 1_700_000_000 * 10**9
    assert fast_header("a" * 101, tarfile.REGTYPE, 1, 0o644, mt) is None          # pax path
    assert fast_header("é", tarfile.REGTYPE, 1, 0o644, mt) is None                # non-ASCII name
    assert fast_header("a", tarfile.REGTYPE, 8**11, 0o644, mt) is None            # pax size (8 GiB and more)
    assert fast_header("a", tarfile.SYMTYPE, 0, 0o777, mt, linkname="l" * 101) is None
    assert fast_header("a", tarfile.REGTYPE, 1, 0o644, mt, uid=8**7) is None
    assert fast_header("a", tarfile.REGTYPE, 1, 0o644, -1) is None
    assert fast_header("a", tarfile.REGTYPE, 1, 0o644, mt) is not None
