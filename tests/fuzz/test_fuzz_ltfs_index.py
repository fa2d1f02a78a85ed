"""Fuzz target: mutated LTFS index XML fed to the parser (issue 14, item 8).

Whatever the bytes, parse_index gives an Index whose every size is bounded by what a cartridge can
hold and whose times are real, or raises an LtoArchiveError (CorruptArchive): never another exception,
never a hang, never an allocation out of proportion to its input. Seeded: a run is repeatable. The CI
size is modest; a long run: LTO_ARCHIVE_FUZZ_EXAMPLES=100000 python3 -m pytest tests/fuzz.
"""

from __future__ import annotations

import random
import tracemalloc

from hypothesis import given
from hypothesis import strategies as st

from lto_archive.errors import LtoArchiveError
from lto_archive.formats.ltfs.index import (MODIFY, Directory, Extent, File, Index, index_to_xml, parse_index,
                                            times_now)
from lto_archive.formats.ltfs.index_model import MAX_VOLUME_BYTES
from tests.fuzz.common import FUZZ


# what a hostile or damaged index might hold in place of a well-formed token
TOKENS = [b"18446744073709551616", b"1000000000000000", b"-1", b"99999999999999999999999", b"2026-02-30",
          b"2026-13-01T25:61:61.000000000Z", b"\xff", b"\xc3", b"\x00", b"&amp;", b"&#0;", b"&#xD800;", b"&bogus;",
          b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"<directory>", b"</directory>", b"<file>", b"</file>", b"<contents>",
          b"</contents>", b"<extent>", b"]]>", b"<![CDATA[", b"percentencoded=\"true\"", b"%ff", b"%", b"c",
          b"<name>", b"</name>", b"<length>", b"<partition>z</partition>", b"<symlink>", b"base64", b"\r\n"]


def sample_index(rng: random.Random) -> Index:
    t = times_now(1_700_000_000 * 10**9 + rng.randrange(10**9))
    ix = Index("lto-archive fuzz", "2d7a1d5e-0000-4000-8000-000000000001", rng.randint(1, 9), t[0], ("b", 9),
               ("b", 5), Directory("", 1, t))
    folders = [ix.root]
    for i in range(rng.randint(1, 8)):
        parent = rng.choice(folders)
        if rng.random() < 0.3:
            d = Directory(f"dir {i}", ix.next_uid(), t)
            parent.children[d.name] = d
            folders.append(d)
        else:
            size = rng.randint(0, 1 << 20)
            f = File(f"clip {i} é&<.mov", ix.next_uid(), t, size, [Extent(0, "b", rng.randint(10, 99), 0, size)],
                     xattrs={"ltfs.hash.md5sum": "%032x" % rng.getrandbits(128)})
            if rng.random() < 0.2:
                f.extents, f.symlink = [], "../target"
            parent.children[f.name] = f
    return ix


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(5)
        at = rng.randrange(len(b) + 1)
        if op == 0 and b:                      # flip a bit
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:                          # a hostile token in place of what is there
            tok = rng.choice(TOKENS)
            del b[at:at + rng.randint(0, len(tok) + 4)]
            b[at:at] = tok
        elif op == 2:                          # cut a piece out
            del b[at:at + rng.randint(1, 200)]
        elif op == 3:                          # repeat a piece (deep nesting, duplicate names)
            piece = bytes(b[at:at + rng.randint(1, 120)])
            b[at:at] = piece * rng.randint(2, 50)
        else:                                  # a digit run made huge
            b[at:at] = b"9" * rng.randint(15, 40)
    return bytes(b)


def check_parsed(ix: Index) -> None:
    """What a reader does next with an index must not fail either."""
    for _, node in ix.walk():
        node.time_ns(MODIFY)
        if isinstance(node, File):
            assert 0 <= node.length <= MAX_VOLUME_BYTES
            for e in node.extents:
                assert e.partition in ("a", "b")
                assert max(e.file_offset, e.start_block, e.byte_offset, e.byte_count) <= MAX_VOLUME_BYTES


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 1 << 16))
def test_mutated_ltfs_index_xml_gives_an_index_or_corrupt_archive(seed: int, chunk: int) -> None:
    rng = random.Random(seed)
    data = mutate(index_to_xml(sample_index(rng)), rng)
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    tracemalloc.start()
    try:
        try:
            ix = parse_index(pieces)
        except LtoArchiveError as exc:
            assert exc.message and "\n" not in exc.message.strip()
            return
        finally:
            peak = tracemalloc.get_traced_memory()[1]
        assert peak < 32 * len(data) + (8 << 20), (peak, len(data))   # no buffer sized from a length read
    finally:
        tracemalloc.stop()
    check_parsed(ix)


def test_the_unmutated_sample_round_trips() -> None:
    """The fuzz target starts from indexes the parser reads: mutations are what it must survive."""
    for seed in range(20):
        ix = sample_index(random.Random(seed))
        back = parse_index([index_to_xml(ix)])
        assert sorted(p for p, _ in back.walk()) == sorted(p for p, _ in ix.walk())
        check_parsed(back)
