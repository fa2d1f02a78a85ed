"""The packed folders of the LTFS index model (index_folder.PackedFolder, index_model.Children).

Each is checked against the plain structure it replaces (a dict), over seeded random operations:
arbitrary names (unicode, control characters, the record's own separator characters, lone
surrogates), rewritten and deleted entries, deep trees, many extents; and the parser against
damaged indexes (only CorruptArchive, never another exception).
"""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lto_archive.errors import CorruptArchive
from lto_archive.formats.ltfs import index_model
from lto_archive.formats.ltfs.index import Directory, Extent, File, Index, index_to_xml, parse_index, parse_index_bytes
from lto_archive.formats.ltfs.index_folder import PackedFolder
from lto_archive.formats.ltfs.index_model import Children, key_name, name_key
from lto_archive.formats.ltfs.times import format_time

PROPS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
T = [format_time(1_765_000_000_123_456_789)] * 5

# names as the model may be given them: anything but "/", including what the record format must quote
_odd = st.sampled_from(["\x00", "\x01", "\x02", "\x03", "|", ";", ",", "=", "&", "<", "\r", "\ud800", "\udcff",
                        "\u00e9", "e\u0301", "\U0001F3AC", ":", "%"])
model_names = st.lists(st.one_of(_odd, st.characters(blacklist_characters="/")), min_size=1, max_size=12).map("".join)
keys = st.binary(min_size=1, max_size=20).filter(lambda b: b"\x00" not in b)
records = st.binary(max_size=300)


# --- PackedFolder against a dict ------------------------------------------------------------------

ops = st.lists(st.tuples(st.sampled_from(["add", "put", "set", "delete", "find"]), keys, records), max_size=120)


@PROPS
@given(ops)
def test_packed_folder_behaves_as_a_dict(script: list[tuple[str, bytes, bytes]]) -> None:
    folder, ref = PackedFolder(), {}
    numbers: dict[bytes, int] = {}
    for op, key, rec in script:
        if op == "add":
            e = folder.add(key, rec)
            assert (e < 0) == (key in ref)
            if e >= 0:
                ref[key], numbers[key] = rec, e
        elif op == "put":
            e = folder.put(key, rec)
            if key in ref:
                assert e == numbers[key]
            ref[key], numbers[key] = rec, e
        elif op == "set" and key in ref:
            folder.set_record(numbers[key], rec)
            ref[key] = rec
        elif op == "delete" and key in ref:
            folder.delete(numbers.pop(key))
            del ref[key]
        assert folder.find(key) == numbers.get(key, -1)
        assert len(folder) == len(ref)
    listed = [(k, data[len(k) + 1:]) for _, k, data in folder.entries()]
    assert listed == list(ref.items())          # insertion order kept, a rewritten entry keeps its place
    for k, e in numbers.items():
        assert folder.entry(e) == (k, ref[k])


def test_rewrites_are_compacted_and_entry_numbers_stay() -> None:
    folder = PackedFolder()
    for i in range(200):
        assert folder.add(f"f{i}".encode(), b"x" * 10) == i
    for round_ in range(20):            # records that grow: each rewrite leaves garbage behind
        for i in range(200):
            folder.set_record(i, b"y" * (11 + round_))
    assert len(folder._blob) < 3 * 200 * 40     # compacted, not 20 generations of garbage
    assert all(folder.entry(i) == (f"f{i}".encode(), b"y" * 30) for i in range(200))
    assert [k for _, k, _ in folder.entries()] == [f"f{i}".encode() for i in range(200)]


def test_a_deleted_entry_still_reads_for_a_file_bound_to_it() -> None:
    folder = PackedFolder()
    e = folder.add(b"gone", b"rec")
    folder.delete(e)
    assert folder.find(b"gone") == -1 and len(folder) == 0 and list(folder.entries()) == []
    assert folder.entry(e) == (b"gone", b"rec")
    assert folder.add(b"gone", b"new") != e


def test_add_entries_stops_at_a_name_already_there() -> None:
    folder = PackedFolder()
    entries = [(b"a", b"a\x001"), (b"b", b"b\x002"), (b"a", b"a\x003"), (b"c", b"c\x004")]
    assert folder.add_entries(entries) == b"a"
    assert [(k, d) for _, k, d in folder.entries()] == [(b"a", b"a\x001"), (b"b", b"b\x002")]


def test_many_entries_in_one_folder_are_found() -> None:
    rng = random.Random(15)
    folder, names = PackedFolder(), [f"frame_{i:07d}.dpx".encode() for i in range(30_000)]
    rng.shuffle(names)
    assert folder.add_entries([(n, n + b"\x00r") for n in names]) is None
    assert all(folder.find(n) == i for i, n in enumerate(names))
    assert folder.find(b"frame_9999999.dpx") == -1


# --- Children against a dict of nodes -------------------------------------------------------------

def _state(node: File | Directory) -> tuple:  # type: ignore[type-arg]
    if isinstance(node, Directory):
        return ("dir", node.name, node.uid)
    return ("file", node.name, node.uid, node.length, tuple(node.extents), node.symlink, node.xattrs, node.readonly,
            tuple(node.times))


@st.composite
def nodes(draw, name):  # type: ignore[no-untyped-def]
    uid = draw(st.integers(1, 2**63 - 1))
    if draw(st.integers(0, 4)) == 0:
        return Directory(name, uid, list(T))
    n = draw(st.integers(0, 4))
    extents = [Extent(i * 10, draw(st.sampled_from("ab")), draw(st.integers(0, 10**12)), 0, 10) for i in range(n)]
    xattrs = draw(st.one_of(st.none(), st.dictionaries(model_names, st.one_of(model_names, st.binary(max_size=8)),
                                                       max_size=3)))
    link = draw(st.one_of(st.none(), model_names)) if not n else None
    return File(name, uid, list(T), 10 * n, extents, link, draw(st.booleans()), xattrs)


@PROPS
@given(st.data())
def test_children_behave_as_a_dict(data: st.DataObject) -> None:
    children, ref = Children(), {}
    for _ in range(data.draw(st.integers(0, 25))):
        name = data.draw(st.one_of(model_names, st.sampled_from(list(ref) or ["x"])))
        if data.draw(st.integers(0, 5)) == 0 and name in ref:
            del children[name]
            del ref[name]
            continue
        node = data.draw(nodes(name))
        want = _state(node)
        children[name] = node
        ref[name] = want
        assert name in children and _state(children[name]) == want
    assert list(children) == list(ref)
    assert [(k, _state(v)) for k, v in children.items()] == list(ref.items())
    assert len(children) == len(ref) == len(list(children.values()))
    assert "/not/there" not in children and children.get("/not/there") is None


xml_names = st.lists(st.one_of(st.sampled_from(list(":%&<>;\t\r\x01\x1b\x7f\x85\u2028\U0001F3AC")),
                              st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00\ufffe\uffff")),
                     min_size=1, max_size=16).map("".join)


@PROPS
@given(xml_names, st.dictionaries(xml_names, xml_names, max_size=3))
def test_a_files_name_and_xattrs_are_written_as_the_general_path_writes_them(name: str, xattrs: dict) -> None:  # type: ignore[type-arg]
    """The writer's shortcuts for plain names and xattrs (index_writer._PLAIN_NAME, _NOT_PLAIN, the
    cached xattr forms) give the XML of the general path: a folder's name, and _xattrs_xml."""
    from lto_archive.formats.ltfs.index_writer import _name_xml, _xattrs_xml
    root = Directory("", 1, list(T))
    root.children[name] = File(name, 2, list(T), 0, xattrs=xattrs or None)
    xml = index_to_xml(Index("c", "00000000-0000-4000-8000-000000000000", 1, T[0], ("b", 5), None, root, 2))
    assert ("<file>" + _name_xml(name) + "<length>").encode() in xml
    if xattrs:
        assert _xattrs_xml(xattrs).encode("utf-8", "surrogatepass") in xml


@PROPS
@given(model_names)
def test_a_name_round_trips_through_its_packed_form(name: str) -> None:
    key = name_key(name)
    assert b"\x00" not in key and key_name(key) == name


def test_a_file_changed_after_it_was_put_in_changes_the_folder() -> None:
    d = Directory("d", 2, list(T))
    f = File("a.mov", 3, list(T), 5, [Extent(0, "b", 7, 0, 5)])
    d.children["a.mov"] = f
    f.xattrs = {"ltfs.hash.xxh128": "ab" * 16}          # as set_hashes does, on the hash thread
    f.length = 6
    again = d.children["a.mov"]
    assert again.xattrs == {"ltfs.hash.xxh128": "ab" * 16} and again.length == 6 and again.uid == 3
    assert d.children["a.mov"].extents == [Extent(0, "b", 7, 0, 5)]


def test_hashes_set_on_another_thread_while_files_are_added() -> None:
    d = Directory("d", 2, list(T))
    added: list[File] = []
    done = threading.Event()

    def hasher() -> None:
        i = 0
        while not done.is_set() or i < len(added):
            if i < len(added):
                added[i].xattrs = {"ltfs.hash.md5sum": f"{i:032x}"}
                i += 1
    t = threading.Thread(target=hasher)
    t.start()
    for i in range(3000):
        f = File(f"f{i}", i + 3, list(T), 1, [Extent(0, "b", i, 0, 1)])
        d.children[f.name] = f
        added.append(f)
    done.set()
    t.join()
    for i in range(3000):
        g = d.children[f"f{i}"]
        assert (g.uid, g.extents, g.xattrs) == (i + 3, [Extent(0, "b", i, 0, 1)], {"ltfs.hash.md5sum": f"{i:032x}"})


def test_keys_past_the_shared_table_are_kept_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_model, "MAX_KEYS", len(index_model.KEYS))
    odd = {"a never seen key \x03": "\x03v", "\x031": "x", "\x02": "\x01"}   # look like the record's own marks
    f = File("f", 3, list(T), 0, xattrs=odd)
    assert f.xattrs == odd
    root = Directory("", 1, list(T))
    root.children["f"] = f
    assert root.children["f"].xattrs == odd
    root.children["g"] = File("g", 4, list(T), 0, xattrs={"user.unseen & new": "v<1>", "ltfs.hash.md5sum": "00"})
    ix = Index("c", "00000000-0000-4000-8000-000000000000", 1, T[0], ("b", 5), None, root, 4)
    del root.children["f"]        # XML cannot hold those keys
    back = parse_index_bytes(index_to_xml(ix))
    assert back.root.children["g"].xattrs == {"user.unseen & new": "v<1>", "ltfs.hash.md5sum": "00"}


# --- whole indexes ------------------------------------------------------------------------------

def test_a_deep_tree_with_many_extents_round_trips() -> None:
    rng = random.Random(7)
    root = Directory("vol", 1, list(T))
    ix = Index("c", "00000000-0000-4000-8000-000000000000", 1, T[0], ("b", 5), None, root, 1)
    d = root
    for depth in range(300):
        d = ix.make_dirs([f"d{depth}"], T) if d is root else _sub(ix, d, f"d{depth}\u00e9")
        name = f"f{depth}:\u2013&<{depth}>"
        exts, off = [], 0
        for _ in range(rng.randrange(0, 6)):
            n = rng.randrange(1, 10**9)
            exts.append(Extent(off, rng.choice("ab"), rng.randrange(10**10), rng.randrange(524288), n))
            off += n + rng.randrange(3)
        d.children[name] = File(name, ix.next_uid(), list(T), off, exts, xattrs={"ltfs.hash.sha256sum": "0" * 64})
    data = index_to_xml(ix)
    back = parse_index([data[i:i + 4093] for i in range(0, len(data), 4093)])
    assert index_to_xml(back) == data
    assert [(p, f.extents, f.length) for p, f in back.files()] == [(p, f.extents, f.length) for p, f in ix.files()]


def _sub(ix: Index, parent: Directory, name: str) -> Directory:
    d = Directory(name, ix.next_uid(), list(T))
    parent.children[name] = d
    return d


def _sample_index() -> bytes:
    root = Directory("vol", 1, list(T))
    ix = Index("c", "00000000-0000-4000-8000-000000000000", 1, T[0], ("b", 5), None, root, 1)
    for r in range(3):
        d = ix.make_dirs([f"reel{r}"], T)
        for i in range(40):
            n = f"frame {i}\u00e9.dpx" if i % 7 else f"a:b{i}"
            d.children[n] = File(n, ix.next_uid(), list(T), 12, [Extent(0, "b", 7 + i, 0, 12)],
                                 xattrs={"ltfs.hash.xxh128": f"{i:032x}", "user.note": "a&b"})
    return index_to_xml(ix)


def test_damaged_indexes_are_refused_cleanly() -> None:
    """Seeded damage (flipped, dropped, repeated and inserted bytes, cuts): CorruptArchive or a tree the
    writer can write again; never another exception."""
    good = _sample_index()
    rng = random.Random(2026)
    outcomes = {"parsed": 0, "refused": 0}
    for _ in range(400):
        data = bytearray(good)
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(data))
            kind = rng.randrange(5)
            if kind == 0:
                data[i] = rng.randrange(256)
            elif kind == 1:
                del data[i:i + rng.randrange(1, 40)]
            elif kind == 2:
                data[i:i] = data[i:i + rng.randrange(1, 200)]
            elif kind == 3:
                data[i:i] = bytes(rng.choice(b"<>&/\x00\x01\x02\x03\r\xed\xa0\x80ab") for _ in range(rng.randrange(1, 6)))
            else:
                del data[i:]
        pieces = [bytes(data[j:j + 997]) for j in range(0, len(data), 997)]
        try:
            ix = parse_index(pieces)
        except CorruptArchive:
            outcomes["refused"] += 1
            continue
        outcomes["parsed"] += 1
        again = parse_index_bytes(index_to_xml(ix))
        assert [p for p, _ in again.walk()] == [p for p, _ in ix.walk()]
    assert outcomes["parsed"] and outcomes["refused"]
