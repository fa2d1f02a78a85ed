"""C4 IDs, hash formats and directory hashes (content and structure) of ASC MHL."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.mhl.hashes import (C4_ALPHABET, MHL_FORMATS, MhlHasher, c4_from_digest, c4_id, c4_to_digest,
                                    check_formats, digest_bytes, directory_hashes, hash_of_hashes, is_valid_hash)

# SMPTE ST 2114: the C4 ID of no bytes at all
C4_EMPTY = "c459dsjfscH38cYeXXYogktxf4Cd9ibshE3BHUo6a58hBXmRQdZrAkZzsWcbWtDg5oQstpDuni4Hirj75GEmTc1sFT"


def test_c4_of_empty_input() -> None:
    assert c4_id(b"") == C4_EMPTY


@given(st.binary(max_size=300))
def test_c4_is_base58_of_sha512(data: bytes) -> None:
    c4 = c4_id(data)
    assert len(c4) == 90 and c4.startswith("c4")
    assert set(c4[2:]) <= set(C4_ALPHABET)
    assert c4_to_digest(c4) == hashlib.sha512(data).digest()
    n = int.from_bytes(hashlib.sha512(data).digest(), "big")
    body = 0
    for ch in c4[2:]:
        body = body * 58 + C4_ALPHABET.index(ch)
    assert body == n


def test_c4_pads_small_numbers_with_the_alphabets_zero() -> None:
    assert c4_from_digest(bytes(64)) == "c4" + "1" * 88
    assert c4_from_digest(bytes(63) + b"\x01") == "c4" + "1" * 87 + "2"
    assert c4_to_digest("c4" + "1" * 87 + "2") == bytes(63) + b"\x01"


@pytest.mark.parametrize("bad", ["", "c4", "c5" + "1" * 88, "c4" + "0" * 88, "c4" + "z" * 88, "c4" + "1" * 89])
def test_bad_c4_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        c4_to_digest(bad)
    assert not is_valid_hash("c4", bad)


def test_formats_and_hasher_one_pass() -> None:
    data = b"frame 0001" * 1000
    h = MhlHasher(["xxh128", "md5", "c4", "sha1", "xxh64", "xxh3"])
    h.update(data[:7])
    h.update(memoryview(data)[7:])
    d = h.hexdigests()
    assert list(d) == ["xxh128", "md5", "c4", "sha1", "xxh64", "xxh3"]
    assert d["md5"] == hashlib.md5(data).hexdigest()
    assert d["sha1"] == hashlib.sha1(data).hexdigest()
    assert d["c4"] == c4_id(data)
    for fmt, v in d.items():
        assert is_valid_hash(fmt, v), fmt
    assert check_formats(["XXH128", " md5", "md5"]) == ("xxh128", "md5")
    with pytest.raises(ValueError, match="sha256"):
        check_formats(["sha256"])
    assert "sha256" not in MHL_FORMATS


# A tree hashed by the ASC MHL reference tool (ascmhl 1.2): its directory hashes.
TREE = {"CLIPS/sub/c.txt": b"x\n", "CLIPS/a.mov": b"hello\n", "CLIPS/b \u00e9.mov": b"world\n",
        "Sidecar.txt": b"side\n"}
REFERENCE = {
    ("CLIPS/sub", "md5"): ("7c9c9bebd5878de54fbc3278f364c55a", "54d36958f80ab1fc7b7118b5bb44fe94"),
    ("CLIPS", "md5"): ("22d574e581674fd3e544a8fe71a9426c", "7f95802783659b8be76d018a6916424e"),
    ("empty", "md5"): ("d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"),
    (".", "md5"): ("6a2b01ec5c8c5b58d417a70447c2ec95", "c48902b6c12fbe9f1302faefbcc096db"),
    ("CLIPS/sub", "xxh128"): ("baf161ab199af827f04cbfc85a633e19", "f3ee19591d318873b1f17b2b694a87f8"),
    ("CLIPS", "xxh128"): ("3b77a9af519fceb57434e7987d3d32ae", "2e8092dd99bcf3cad8143a507232da4b"),
    (".", "xxh128"): ("fb266165eeaea3de3a87df8d8f3d4006", "fd54f3de70df665028ce8666b40d1625"),
}


def _hashes(tree: dict[str, bytes], formats: list[str]) -> dict[str, dict[str, str]]:
    out = {}
    for p, data in tree.items():
        h = MhlHasher(formats)
        h.update(data)
        out[p] = h.hexdigests()
    return out


def test_directory_hashes_match_the_reference_tool() -> None:
    dirs = directory_hashes(_hashes(TREE, ["md5", "xxh128"]), ["empty", "CLIPS", "CLIPS/sub"], ["md5", "xxh128"])
    for (path, fmt), pair in REFERENCE.items():
        assert dirs[path][fmt] == pair, (path, fmt)


def test_a_folder_with_an_unhashed_file_gets_no_directory_hash() -> None:
    dirs = directory_hashes(_hashes(TREE, ["md5"]), ["empty"], ["md5"], incomplete=["CLIPS/sub/broken.mov"])
    assert dirs["CLIPS/sub"] == {} and dirs["CLIPS"] == {} and dirs["."] == {}
    assert dirs["empty"]["md5"] == REFERENCE[("empty", "md5")]


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=12)


@settings(max_examples=60)
@given(st.dictionaries(st.lists(names, min_size=1, max_size=3).map("/".join), st.binary(max_size=20),
                       min_size=1, max_size=8),
       st.sampled_from(MHL_FORMATS))
def test_directory_hashes_do_not_depend_on_order(tree: dict[str, bytes], fmt: str) -> None:
    # a path that is a file cannot also be a folder
    paths = sorted(tree)
    tree = {p: tree[p] for p in paths if not any(q.startswith(p + "/") for q in paths)}
    hashes = _hashes(tree, [fmt])
    a = directory_hashes(hashes, [], [fmt])
    b = directory_hashes(dict(reversed(list(hashes.items()))), [], [fmt])
    assert a == b
    root_files = {p: h[fmt] for p, h in hashes.items() if "/" not in p}
    if len(root_files) == len(hashes):        # flat tree: the content hash is the hash of the sorted file hashes
        assert a["."][fmt][0] == hash_of_hashes(fmt, root_files.values())
    for pair in a.values():
        assert is_valid_hash(fmt, pair[fmt][0]) and is_valid_hash(fmt, pair[fmt][1])
    assert len(digest_bytes(fmt, a["."][fmt][0])) in (8, 16, 20, 64)
