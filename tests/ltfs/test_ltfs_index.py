"""The LTFS index: XML round trip, streaming parse in any pieces, hostile and unusual XML, reference indexes.

Every check compares whole trees (names, uids, times, xattrs, extents, symlinks), never "it parsed".
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import CorruptArchive
from lto_archive.formats.ltfs.index import (
    TIME_FIELDS,
    Directory,
    Extent,
    File,
    Index,
    index_records,
    index_to_xml,
    index_xml_chunks,
    parse_index,
)
from lto_archive.formats.ltfs.names import name_problem, encode_name
from lto_archive.formats.ltfs.times import TIME_MAX_NS, TIME_MIN_NS, format_time

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ltfs-reference"

PROPS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- strategies ---------------------------------------------------------------------------

# characters that exercise escaping and percent-encoding; plus arbitrary non-surrogate code points
_SPECIAL = list(" :%&<>;'\"\t\n\r\x01\x02\x1b\x7f\x85\u00e9\u2013\u00a0\u2028\U0001F3AC") + ["e\u0301"]
_name_char = st.one_of(st.sampled_from(_SPECIAL),
                       st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"))


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


names = (st.lists(_name_char, min_size=1, max_size=24).map("".join).map(_nfc)
         .filter(lambda n: name_problem(n) is None))

# text that XML 1.0 can hold (tab, newline, carriage return allowed; other C0 controls not)
_xml_char = st.one_of(st.sampled_from(list(" &<>;%:'\"\t\n\r\u00e9\u2028\U0001F3AC")),
                      st.characters(blacklist_categories=("Cs",),
                                    blacklist_characters="".join(map(chr, range(0x20))) + "\ufffe\uffff"))
xml_text = st.lists(_xml_char, max_size=20).map("".join)

ltfs_times = st.integers(TIME_MIN_NS, TIME_MAX_NS).map(format_time)
five_times = st.lists(ltfs_times, min_size=5, max_size=5)
uids = st.integers(1, 2**63 - 1)
xattr_values = st.one_of(xml_text, st.binary(max_size=24))
xattrs = st.one_of(st.none(), st.dictionaries(xml_text.filter(bool), xattr_values, max_size=3))


@st.composite
def extents_and_length(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(0, 3))
    out, offset = [], 0
    for _ in range(n):
        offset += draw(st.integers(0, 5000))          # holes allowed
        count = draw(st.integers(1, 10**12))
        out.append(Extent(offset, draw(st.sampled_from("ab")), draw(st.integers(0, 10**9)),
                          draw(st.integers(0, 524287)), count))
        offset += count
    return out, offset + draw(st.integers(0, 1000))


@st.composite
def files(draw, name):  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["data", "empty", "symlink"]))
    f = File(name, draw(uids), draw(five_times), readonly=draw(st.booleans()), xattrs=draw(xattrs))
    if kind == "data":
        f.extents, f.length = draw(extents_and_length())
    elif kind == "symlink":
        f.symlink = draw(xml_text.filter(bool))
    return f


@st.composite
def directories(draw, name, depth):  # type: ignore[no-untyped-def]
    d = Directory(name, draw(uids), draw(five_times), draw(st.booleans()), draw(xattrs))
    for child in draw(st.lists(names, max_size=4 if depth else 6, unique=True)):
        if depth and draw(st.integers(0, 3)) == 0:
            d.children[child] = draw(directories(child, depth - 1))
        else:
            d.children[child] = draw(files(child))
    return d


@st.composite
def indexes(draw):  # type: ignore[no-untyped-def]
    root_name = draw(st.one_of(st.just(""), names))
    root = draw(directories(root_name, 2))
    return Index(creator=draw(xml_text), volume_uuid=draw(st.uuids()).__str__(), generation=draw(st.integers(1, 10**9)),
                 update_time=draw(ltfs_times), location=(draw(st.sampled_from("ab")), draw(st.integers(0, 10**9))),
                 previous=draw(st.one_of(st.none(), st.tuples(st.just("b"), st.integers(0, 10**9)))),
                 root=root, highest_file_uid=draw(uids), allow_policy_update=draw(st.booleans()),
                 volume_lock_state=draw(st.sampled_from([None, "unlocked", "locked", "permlocked"])),
                 comment=draw(st.one_of(st.none(), xml_text)))


# --- comparing trees ----------------------------------------------------------------------

def _xa(x):  # type: ignore[no-untyped-def]
    return dict(x) if x else None


def tree(node):  # type: ignore[no-untyped-def]
    """Everything an index says about a node, order of children ignored."""
    common = (node.name, node.uid, node.readonly, tuple(node.times), _xa(node.xattrs))
    if isinstance(node, Directory):
        return ("dir", common, {k: tree(v) for k, v in node.children.items()})
    return ("file", common, node.length, tuple(node.extents), node.symlink)


def header(ix: Index):  # type: ignore[no-untyped-def]
    return (ix.creator, ix.volume_uuid, ix.generation, ix.update_time, ix.location, ix.previous,
            ix.highest_file_uid, ix.allow_policy_update, ix.volume_lock_state, ix.comment, ix.version)


def assert_same(a: Index, b: Index) -> None:
    assert header(a) == header(b)
    assert tree(a.root) == tree(b.root)


def pieces(data: bytes, rng: random.Random, biggest: int) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, biggest)
        out.append(data[i:i + n])
        i += n
    return out


# --- round trips --------------------------------------------------------------------------

@PROPS
@given(ix=indexes())
def test_round_trip_whole(ix: Index) -> None:
    xml = index_to_xml(ix)
    assert_same(parse_index([xml]), ix)
    # well-formed for any XML parser (the reference reads it with libxml2), not only for our fast path
    root = ET.fromstring(xml)
    assert root.tag == "ltfsindex" and root.find("directory") is not None


@PROPS
@given(ix=indexes(), seed=st.integers(0, 2**32), biggest=st.sampled_from([1, 2, 7, 64, 4096]))
def test_round_trip_in_arbitrary_pieces(ix: Index, seed: int, biggest: int) -> None:
    xml = index_to_xml(ix)
    whole = parse_index([xml])
    split = parse_index(pieces(xml, random.Random(seed), biggest))
    assert_same(split, whole)
    assert_same(split, ix)


@PROPS
@given(ix=indexes(), chunk=st.integers(1, 3000))
def test_writer_chunks_are_the_same_document(ix: Index, chunk: int) -> None:
    """index_xml_chunks at any chunk size is one document, byte for byte, and parses chunk by chunk."""
    chunks = list(index_xml_chunks(ix, chunk))
    assert b"".join(chunks) == index_to_xml(ix)
    assert_same(parse_index(chunks), ix)


def test_round_trip_targeted_names_and_values() -> None:
    """Names the reference must percent-encode, with XML specials; values needing base64 or escaping."""
    t = [format_time(1_700_000_000_123_456_789)] * 5
    root = Directory("Vol: 100% &<>", 1, list(t))
    specials = ["notes: take 3.txt", "100% done.mov", "tab\there", "new\nline", "cr\rname", "ctl\x01x",
                "a:b&c<d>e", "Scène_12–Prise_3 été.wav", "  spaced  ", "del\x7f", "nel\x85", "%41"]
    for i, n in enumerate(specials):
        root.children[n] = File(n, 10 + i, list(t), 5, [Extent(0, "b", 7 + i, 0, 5)],
                                xattrs={"ltfs.hash.md5sum": "d41d8cd98f00b204e9800998ecf8427e",
                                        "k&<>": "v\r\n&amp;", "bin": b"\x00\x01\xff", "ctl": "x\x01y"})
    sub = Directory("dir: a&b", 50, list(t))
    sub.children["link"] = File("link", 51, list(t), symlink="../a&b\r<c>")
    root.children[sub.name] = sub
    ix = Index("creator & co", "7f1b2d9e-0000-4000-8000-000000000001", 2, t[0], ("b", 20), ("b", 5), root, 51)
    xml = index_to_xml(ix)
    # the reference's form: percent-encoded only when a trigger is present, uppercase hex, & escaped
    assert b'<name percentencoded="true">notes%3A%20take%203.txt</name>' in xml
    assert b"<name>100% done.mov</name>" in xml
    assert b'<name percentencoded="true">a%3Ab&amp;c&lt;d&gt;e</name>' in xml
    assert b'<name percentencoded="true">dir%3A%20a&amp;b</name>' in xml
    assert b'<value type="base64">' + base64.b64encode(b"\x00\x01\xff") + b"</value>" in xml
    back = parse_index([xml])
    got = back.root
    assert got.name == "Vol: 100% &<>"
    assert set(got.children) == set(specials) | {"dir: a&b"}
    f = got.children["cr\rname"]
    # a str value that is not XML text goes to tape as base64 of its UTF-8 and comes back as bytes
    assert f.xattrs == {"ltfs.hash.md5sum": "d41d8cd98f00b204e9800998ecf8427e", "k&<>": "v\r\n&amp;",
                        "bin": b"\x00\x01\xff", "ctl": b"x\x01y"}
    assert got.children["dir: a&b"].children["link"].symlink == "../a&b\r<c>"
    # the same, fed one byte at a time
    assert tree(parse_index([xml[i:i + 1] for i in range(len(xml))]).root) == tree(got)


# --- damaged and hostile input ---------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(ix=indexes(), frac=st.floats(0, 1, exclude_max=True))
def test_truncated_index_is_corrupt(ix: Index, frac: float) -> None:
    xml = index_to_xml(ix)
    end = len(xml.rstrip())                # everything before the last byte of </ltfsindex>
    cut = int(frac * end)
    with pytest.raises(CorruptArchive):
        parse_index([xml[:cut]])
    with pytest.raises(CorruptArchive):    # as records: the last one short, then the tape ends
        parse_index(pieces(xml[:cut], random.Random(cut), 512))


def _small_index() -> Index:
    t = [format_time(1_600_000_000_000_000_000)] * 5
    root = Directory("V", 1, list(t))
    root.children["a.mov"] = File("a.mov", 2, list(t), 10, [Extent(0, "b", 7, 0, 10)])
    sub = Directory("sub", 3, list(t))
    sub.children["b.wav"] = File("b.wav", 4, list(t), 3, [Extent(0, "b", 8, 0, 3)])
    root.children["sub"] = sub
    return Index("t", "7f1b2d9e-0000-4000-8000-000000000002", 4, t[0], ("b", 9), ("b", 5), root, 4)


@pytest.mark.parametrize("hostile", [
    # a DTD with an entity used in a name
    lambda x: x.replace(b'<ltfsindex', b'<!DOCTYPE ltfsindex [<!ENTITY boom "x">]>\n<ltfsindex', 1)
    .replace(b"<name>a.mov</name>", b"<name>&boom;</name>"),
    # billion laughs
    lambda x: x.replace(b'<ltfsindex', b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
                        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;">]>\n<ltfsindex', 1)
    .replace(b"<creator>t</creator>", b"<creator>&c;</creator>"),
    # an external entity
    lambda x: x.replace(b'<ltfsindex', b'<!DOCTYPE ltfsindex SYSTEM "file:///etc/passwd">\n<ltfsindex', 1),
    # an entity declaration inside a file entry
    lambda x: x.replace(b"<file><name>b.wav</name>", b'<file><!DOCTYPE f [<!ENTITY e "x">]><name>b.wav</name>'),
    # an undefined entity where the fast path reads a name, an xattr and a folder name
    lambda x: x.replace(b"<name>a.mov</name>", b"<name>a&bogus;</name>"),
    lambda x: x.replace(b"<name>sub</name>", b"<name>s&bogus;</name>"),
])
def test_dtd_and_entities_are_refused(hostile) -> None:  # type: ignore[no-untyped-def]
    xml = index_to_xml(_small_index())
    bad = hostile(xml)
    assert bad != xml
    for chunks in ([bad], [bad[i:i + 3] for i in range(0, len(bad), 3)]):
        with pytest.raises(CorruptArchive):
            parse_index(chunks)


@pytest.mark.parametrize("damage,match", [
    (lambda x: x.replace(b"<file><name>a.mov</name>", b"<file>", 1), "name"),
    (lambda x: x.replace(b"<length>10</length>", b"<length>ten</length>", 1), "not a number"),
    (lambda x: x.replace(b"</ltfsindex>", b"</ltfsindex><more/>" * 500), "after the root"),
    (lambda x: x.replace(b"<name>sub</name>", b"<name>a.mov</name>", 1), "twice"),
    (lambda x: x.replace(b'version="2.4.0"', b'version="3.0.0"', 1), "version"),
    (lambda x: x.replace(b"<highestfileuid>4</highestfileuid>", b"", 1), "highestfileuid"),
    (lambda x: x.replace(b"</file>", b"</file></file>", 1), "without"),
    (lambda x: re.sub(rb"<modifytime>[^<]*</modifytime>", b"<modifytime>yesterday</modifytime>", x, count=1),
     "time"),
])
def test_damaged_index_is_corrupt_not_a_crash(damage, match: str) -> None:  # type: ignore[no-untyped-def]
    xml = damage(index_to_xml(_small_index()))
    with pytest.raises(CorruptArchive, match=match):
        parse_index([xml])


@pytest.mark.parametrize("seed", range(12))
def test_random_garbage_in_an_index_is_corrupt_or_the_same_tree(seed: int) -> None:
    """Same-length garbage anywhere: CorruptArchive, never another exception; if it parses, the
    structure is unchanged only when the garbage hit bytes that do not matter."""
    ix = _small_index()
    xml = bytearray(index_to_xml(ix))
    rng = random.Random(seed)
    start = rng.randrange(len(xml) - 40)
    xml[start:start + 32] = rng.randbytes(32)
    try:
        back = parse_index([bytes(xml)])
    except CorruptArchive:
        return
    # garbage that parses (it hit only bytes that do not matter, or became other valid text) must not
    # have silently dropped or added an entry
    assert len(list(back.walk())) == len(list(ix.walk()))
    assert [type(n) for _, n in back.walk()] == [type(n) for _, n in ix.walk()]


# --- unusual but valid XML: the slow path ----------------------------------------------------------

def _alt_file_xml(f: File, rng: random.Random) -> str:
    """A file entry as another (valid) writer might lay it out: elements in another order,
    comments, indentation, CDATA, single-quoted attributes, &#..; references."""
    text, pct = encode_name(f.name)
    if pct:
        name = f"<name percentencoded='true'>{xml_escape(text)}</name>"
    elif "]]>" not in text and "\r" not in text and rng.random() < 0.5:
        name = f"<name><![CDATA[{text}]]></name>"
    else:
        name = f"<name>{xml_escape(text, {chr(13): '&#13;', 'é': '&#xE9;'})}</name>"
    parts = [name, f"<length>\n  {f.length}\n</length>", f"<readonly>{'true' if f.readonly else 'false'}</readonly>",
             f"<fileuid>{f.uid}</fileuid>"]
    parts += [f"<{tag}>{t}</{tag}>" for tag, t in zip(TIME_FIELDS, f.times)]
    if f.xattrs:
        xs = []
        for k, v in f.xattrs.items():
            if isinstance(v, bytes):
                xs.append(f"<xattr>\n<value type='base64'>{base64.b64encode(v).decode()}</value>"
                          f"<key>{xml_escape(k, {chr(13): '&#13;'})}</key></xattr>")
            else:
                xs.append(f"<xattr><key>{xml_escape(k, {chr(13): '&#13;'})}</key>  <!-- kv -->\n"
                          f"<value>{xml_escape(v, {chr(13): '&#13;'})}</value></xattr>")
        parts.append("<extendedattributes>\n" + "\n".join(xs) + "\n</extendedattributes>")
    if f.symlink is not None:
        parts.append(f"<symlink>{xml_escape(f.symlink, {chr(13): '&#13;'})}</symlink>")
    elif f.extents:
        ext = [f"<extent>\n <bytecount>{e.byte_count}</bytecount>\n <startblock>{e.start_block}</startblock>"
               f"<partition>{e.partition}</partition><byteoffset>{e.byte_offset}</byteoffset>"
               f"<fileoffset>{e.file_offset}</fileoffset></extent>" for e in f.extents]
        parts.append("<extentinfo>" + "".join(ext) + "</extentinfo>")
    rng.shuffle(parts)
    return "<file>\n  <!-- written by another tool -->\n  " + "\n  ".join(parts) + "\n</file>\n"


def _alt_dir_xml(d: Directory, rng: random.Random, root: bool = False) -> str:
    text, pct = encode_name(d.name)
    name = (f'<name percentencoded="true">{xml_escape(text)}</name>' if pct
            else f"<name>{xml_escape(text, {chr(13): '&#13;'})}</name>")
    meta = [name, f"<readonly>{'true' if d.readonly else 'false'}</readonly>", f"<fileuid>{d.uid}</fileuid>"]
    meta += [f"<{tag}>{t}</{tag}>" for tag, t in zip(TIME_FIELDS, d.times)]
    if d.xattrs:
        meta.append("<extendedattributes>" + "".join(
            f"<xattr><key>{xml_escape(k, {chr(13): '&#13;'})}</key>"
            + (f'<value type="base64">{base64.b64encode(v).decode()}</value>' if isinstance(v, bytes)
               else f"<value>{xml_escape(v, {chr(13): '&#13;'})}</value>") + "</xattr>"
            for k, v in d.xattrs.items()) + "</extendedattributes>")
    rng.shuffle(meta)                     # metadata in any order; <contents> last, as every writer does
    children = list(d.children.values())
    rng.shuffle(children)
    body = "".join(_alt_dir_xml(c, rng) if isinstance(c, Directory) else _alt_file_xml(c, rng) for c in children)
    return ("<directory>\n" + "\n".join(meta) + "\n<!-- contents follow -->\n<contents>\n\n" + body
            + "</contents>\n</directory>\n")


def _alt_index_xml(ix: Index, rng: random.Random) -> bytes:
    head = (f"<?xml version='1.0' encoding='UTF-8'?>\n<!-- another writer -->\n<ltfsindex version='{ix.version}'>\n"
            f"  <volumeuuid>{ix.volume_uuid}</volumeuuid>\n  <creator>{xml_escape(ix.creator, {chr(13): '&#13;'})}"
            f"</creator>\n  <generationnumber>{ix.generation}</generationnumber>\n"
            f"  <location>\n <startblock>{ix.location[1]}</startblock><partition>{ix.location[0]}</partition>"
            f"</location>\n  <updatetime>{ix.update_time}</updatetime>\n"
            f"  <highestfileuid>{ix.highest_file_uid}</highestfileuid>\n"
            f"  <allowpolicyupdate>{'true' if ix.allow_policy_update else 'false'}</allowpolicyupdate>\n")
    if ix.previous:
        head += (f"<previousgenerationlocation><partition>{ix.previous[0]}</partition><startblock>"
                 f"{ix.previous[1]}</startblock></previousgenerationlocation>\n")
    if ix.comment is not None:
        head += f"<comment>{xml_escape(ix.comment, {chr(13): '&#13;'})}</comment>\n"
    if ix.volume_lock_state:
        head += f"<volumelockstate>{ix.volume_lock_state}</volumelockstate>\n"
    return (head + _alt_dir_xml(ix.root, rng, root=True) + "</ltfsindex>\n\n").encode("utf-8")


@PROPS
@given(ix=indexes(), seed=st.integers(0, 2**32))
def test_unusual_valid_layout_parses_to_the_same_tree(ix: Index, seed: int) -> None:
    rng = random.Random(seed)
    alt = _alt_index_xml(ix, rng)
    assert alt != index_to_xml(ix)
    assert_same(parse_index([alt]), ix)
    assert_same(parse_index(pieces(alt, rng, 97)), ix)


def test_unusual_layout_example() -> None:
    """One hand-written entry: reordered, commented, indented, &amp; in the name, CR as &#13;."""
    xml = index_to_xml(_small_index()).replace(
        b"<file><name>a.mov</name>",
        b"<file>\n   <!-- moved -->\n   <fileuid>99</fileuid>\n   <name>Tom &amp; Jerry&#13;.mov</name>"
        b"\n   <extentinfo><extent><fileoffset>0</fileoffset><partition>b</partition><startblock>77</startblock>"
        b"<byteoffset>3</byteoffset><bytecount>10</bytecount></extent></extentinfo>\n<!--x-->", 1)
    xml = re.sub(rb"<fileuid>2</fileuid>(<extentinfo>.*?</extentinfo>)?", b"", xml, count=1)
    ix = parse_index([xml])
    f = ix.root.children["Tom & Jerry\r.mov"]
    assert isinstance(f, File)
    assert (f.uid, f.length, f.extents) == (99, 10, [Extent(0, "b", 77, 3, 10)])
    assert set(ix.root.children) == {"Tom & Jerry\r.mov", "sub"}


@pytest.mark.parametrize("where, extra", [
    (b"<contents>\n", b"<!-- old: <file> -->\n"),                       # between entries: a tag in a comment
    (b"<contents>\n", b"<!-- <directory><contents> -->"),
    (b"<file>", b"<!-- </file> <file> -->"),                              # inside an entry (the slow path)
    (b"<directory>", b"<!-- <contents> </directory> -->"),
    (b"<name>a.mov", b"<![CDATA[]]>"),                                   # an empty CDATA section in a name
])
def test_comments_and_cdata_holding_tags_are_still_valid_xml(where: bytes, extra: bytes) -> None:
    xml = index_to_xml(_small_index())
    at = xml.index(where) + len(where)
    doc = xml[:at] + extra + xml[at:]
    ET.fromstring(doc)                       # valid XML, as ElementTree reads it
    for cut in (1, 7, 64):                   # also when the stream arrives in small pieces
        ix = parse_index([doc[i:i + cut] for i in range(0, len(doc), cut)])
        assert {p for p, _ in ix.files()} == {"a.mov", "sub/b.wav"}


def test_a_comment_that_never_ends_is_damage() -> None:
    xml = index_to_xml(_small_index()).replace(b"<contents>\n", b"<contents>\n<!-- <file> ", 1)
    with pytest.raises(CorruptArchive):
        parse_index([xml])


# --- the reference implementation's own indexes ----------------------------------------------------

def _sha256_list(name: str) -> dict[str, str]:
    out = {}
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        digest, path = line.split("  ", 1)
        out[path] = digest
    return out


def _read_extents_from_folder(cart: Path, f: File) -> bytes:
    """A file's bytes straight from the cartridge folder's record files, as the index places them."""
    out = bytearray()
    for e in sorted(f.extents, key=lambda e: e.file_offset):
        assert len(out) <= e.file_offset
        out += bytes(e.file_offset - len(out))
        part = "1" if e.partition == "b" else "0"
        block, skip, left = e.start_block, e.byte_offset, e.byte_count
        while left:
            rec = (cart / f"{part}_{block}_R").read_bytes()
            take = rec[skip:skip + left]
            assert take, f"extent of {f.name} runs into a filemark or past the end at {block}"
            out += take
            left -= len(take)
            skip = 0
            block += 1
    out += bytes(f.length - len(out))
    return bytes(out)


@pytest.mark.parametrize("cart,record,listing,generation", [
    ("two-sessions-lto5", "1_45_R", "two-sessions-lto5.sha256", 3),
    ("two-sessions-lto5", "0_5_R", "two-sessions-lto5.sha256", 3),
    ("crashed-before-unmount-lto5", "1_39_R", "crashed-before-unmount-lto5.indexed.sha256", 2),
])
def test_reference_index_records(cart: str, record: str, listing: str, generation: int) -> None:
    folder = FIXTURES / cart
    raw = (folder / record).read_bytes()
    ix = parse_index([raw])
    assert ix.generation == generation
    assert ix.location == (("a", 5) if record.startswith("0_") else ("b", int(record.split("_")[1])))
    want = _sha256_list(listing)
    got = dict(ix.files())
    assert set(got) == set(want)
    last_end = 0
    for path, f in sorted(got.items(), key=lambda pf: pf[1].start_block or 0):
        assert f.symlink is None
        assert f.length == sum(e.byte_count for e in f.extents)
        if f.extents:
            # the reference starts every file on a new record, in the data partition, in write order
            assert [e.partition for e in f.extents] == ["b"]
            assert f.extents[0].byte_offset == 0 and f.extents[0].start_block >= max(last_end, 7)
            last_end = f.extents[0].start_block + -(-f.length // 524288)
        assert hashlib.sha256(_read_extents_from_folder(folder, f)).hexdigest() == want[path], path
    # a percent-encoded name (the reference encodes ':') and an accented one, as the reference wrote them
    assert b'<name percentencoded="true">notes%3A%20take%203.txt</name>' in raw
    assert "Sound/Day 01/notes: take 3.txt" in got and "Sound/Day 01/Scène_12–Prise_3 été.wav" in got
    # the same record, fed in pieces of every small size, gives the same tree
    for biggest in (1, 3, 500):
        assert_same(parse_index(pieces(raw, random.Random(biggest), biggest)), ix)


def test_reference_empty_volume_index() -> None:
    for record in ("0_5_R", "1_5_R"):
        ix = parse_index([(FIXTURES / "empty-lto9" / record).read_bytes()])
        assert ix.generation == 1
        assert list(ix.walk()) == []
        assert ix.location == ("a" if record[0] == "0" else "b", 5)


def test_file_names_are_written_as_folder_names_are() -> None:
    """The writer's shortcut for plain file names gives the same <name> as the general path folders take."""
    t = [format_time(1_700_000_000_123_456_789)] * 5
    chars = [chr(c) for c in range(0x3000) if not 0xD800 <= c <= 0xDFFF] + ["\ufffe", "\uffff", "\U0001F600"]
    for c in chars:
        name = f"a{c}b"
        root = Directory("", 1, list(t))
        root.children["d"] = d = Directory(name, 2, list(t))
        d.children[name] = File(name, 3, list(t), 0)
        xml = index_to_xml(Index("c", "7f1b2d9e-0000-4000-8000-000000000001", 1, t[0], ("a", 5), None, root, 3))
        found = re.findall(rb"<name[^>]*>[^<]*</name>", xml)
        assert len(found) == 3 and found[1] == found[2], (c, found)


@PROPS
@given(ix=indexes(), size=st.sampled_from([1, 3, 512, 4096, 1 << 20]))
def test_index_records_are_the_document_cut_into_records(ix: Index, size: int) -> None:
    whole = index_to_xml(ix)
    recs = list(index_records(ix, size))
    assert b"".join(recs) == whole
    assert all(len(r) == size for r in recs[:-1]) and 0 < len(recs[-1]) <= size
    assert len(recs) == -(-len(whole) // size)


def test_index_records_of_a_large_index_are_whole_records() -> None:
    t = [format_time(1_700_000_000_123_456_789)] * 5
    root = Directory("", 1, list(t))
    for i in range(5000):
        root.children[f"f{i}"] = File(f"f{i}", i + 2, list(t), 1, [Extent(0, "b", i, 0, 1)], xattrs={"k": "v" * 40})
    ix = Index("c", "7f1b2d9e-0000-4000-8000-000000000001", 1, t[0], ("a", 5), None, root, 5002)
    whole = index_to_xml(ix)
    assert len(whole) > 2 * (1 << 20)
    for size in (65536, 524288, (1 << 20) + 1):
        recs = list(index_records(ix, size))
        assert b"".join(recs) == whole and {len(r) for r in recs[:-1]} == {size}
