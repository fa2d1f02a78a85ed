"""LTFS names: what can be stored, and the percent encoding the reference writes and reads."""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lto_archive.errors import SourceError, UnstorableName
from lto_archive.formats.ltfs.names import MAX_NAME_LENGTH, check_name, decode_name, encode_name

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ltfs-reference"

# Characters XML 1.0 cannot hold (Char production); surrogates cannot reach here (not UTF-8).
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def storable(name: str) -> bool:
    try:
        check_name(name, "Card/" + name)
    except UnstorableName:
        return False
    return True


# Text that hits every interesting case often: triggers, kept escapes, C1, multi-byte.
tricky = st.text(alphabet=st.sampled_from(list(":%/ .\t\n\r\x00\x01\x1e\x1f\x7f\x80\x85\x9f\xa0aZ~é€\U0001F3AC\u0301\ufffd\ufffe\uffff")),
                 min_size=1, max_size=40) | st.text(min_size=1, max_size=60)


# --- encode / decode -------------------------------------------------------------

@pytest.mark.parametrize(("name", "text", "encoded"), [
    ("notes: take 3.txt", "notes%3A%20take%203.txt", True),      # as in the reference fixture
    ("second session 100%.mov", "second session 100%.mov", False),  # % alone is no trigger
    ("Scène_12–Prise_3 été.wav", "Scène_12–Prise_3 été.wav", False),
    ("A001_C001", "A001_C001", False),
    ("été:x", "%C3%A9t%C3%A9%3Ax", True),
    ("a:b%c d", "a%3Ab%25c%20d", True),
    ("a\x01b", "a%01b", True),
    ("a\tb", "a%09b", True),            # the reference writes tab/LF/CR literally; we encode them
    ("a\nb", "a%0Ab", True),
    ("a\rb", "a%0Db", True),
    ("a\x7fb", "a%7Fb", True),          # DEL: not a reference trigger; we encode it
    ("a\x85b", "a\x85b", False),        # C1 control: not a trigger, as in the reference
    ("a\x85:b", "a%C2%85%3Ab", True),   # ...but encoded like any non-ASCII once triggered
    ("🎬:1", "%F0%9F%8E%AC%3A1", True),
    ("&<>\"'", "&<>\"'", False),        # XML escaping is the XML writer's job
    ("&:<", "&%3A<", True),
    ("!\"#$&`'()*+,-./;<=>?@[\\]^_{|}~:", "!\"#$&`'()*+,-./;<=>?@[\\]^_{|}~%3A", True),
])
def test_exact_encodings(name: str, text: str, encoded: bool) -> None:
    assert encode_name(name) == (text, encoded)
    assert decode_name(text, encoded) == name


@given(st.text(min_size=1, max_size=300).map(lambda s: unicodedata.normalize("NFC", s)).filter(storable))
def test_round_trip_of_every_storable_name(name: str) -> None:
    assert decode_name(*encode_name(name)) == name


@given(tricky.filter(lambda s: not {"/", "\x00", "\x1f"} & set(s)))
def test_round_trip_without_nfc(name: str) -> None:
    # NFC is check_name's business; the encoding itself round-trips any name without
    # '/', NUL and U+001F (those three the reference keeps as '%2F', '%00', '%1F').
    assert decode_name(*encode_name(name)) == name


@given(tricky)
def test_xml_never_sees_a_character_it_cannot_hold(name: str) -> None:
    text, encoded = encode_name(name)
    assert not XML_ILLEGAL.search(text)
    assert "\r" not in text          # an XML parser would turn it into "\n"
    if encoded:
        assert all("\x21" <= c <= "\x7e" for c in text)
    # Through a real XML writer and parser the text comes back unchanged.
    element = ET.Element("name")
    element.text = text
    assert ET.fromstring(ET.tostring(element, encoding="unicode")).text == text


@given(tricky)
def test_encoding_only_when_triggered(name: str) -> None:
    text, encoded = encode_name(name)
    triggered = bool(re.search("[\x00-\x1f\x7f:\ufffe\uffff]", name))
    assert encoded == triggered
    if not encoded:
        assert text == name


def test_surrogate_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        encode_name("caf\udce9:")
    with pytest.raises(ValueError, match="UTF-8"):
        encode_name("caf\udce9")


def test_decode_accepts_lowercase_hex_and_literal_unicode() -> None:
    assert decode_name("a%3ab%c3%a9", True) == "a:bé"
    assert decode_name("été%3A", True) == "été:"


def test_decode_keeps_escapes_the_reference_keeps() -> None:
    # The reference never turns %2F, %1F, %00 into '/', US, NUL (xml_reader_libltfs.c).
    assert decode_name("a%2Fb", True) == "a%2Fb"
    assert decode_name("a%2fb", True) == "a%2fb"
    assert decode_name("%00x", True) == "%00x"
    assert decode_name("x%1F", True) == "x%1F"


def test_decode_without_flag_is_literal() -> None:
    assert decode_name("100%.mov", False) == "100%.mov"
    assert decode_name("a%3Ab", False) == "a%3Ab"


@pytest.mark.parametrize("text", ["%", "a%", "a%4", "%G1", "a%zzb", "%-1", "%+1", "% 1", "%1 "])
def test_decode_rejects_broken_escapes(text: str) -> None:
    with pytest.raises(ValueError, match="two hex digits"):
        decode_name(text, True)


@pytest.mark.parametrize("text", ["%C3", "%FF", "a%C3%28", "%ED%A0%80", "%C0%AF"])
def test_decode_rejects_bytes_that_are_not_utf8(text: str) -> None:
    with pytest.raises(ValueError, match="UTF-8"):
        decode_name(text, True)


# --- check_name -------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "A001C001_240101_R1AB.RDM", "notes: take 3.txt", "100%", " leading and trailing ",
    "Scène_12–Prise_3 été.wav", "a\tb", "line\nbreak", "a\x7f", "a\x85", "...", ".hidden",
    "é" * MAX_NAME_LENGTH, "🎬" * MAX_NAME_LENGTH, "x" * MAX_NAME_LENGTH,
])
def test_storable_names(name: str) -> None:
    check_name(name, "Card/" + name)


@pytest.mark.parametrize(("name", "why"), [
    ("", "empty"),
    (".", "reserved"),
    ("..", "reserved"),
    ("a/b", "'/'"),
    ("a\x00b", "NUL"),
    ("Sce\u0300ne.wav", "not in Unicode NFC form"),
    ("x" * (MAX_NAME_LENGTH + 1), "256 characters"),
    ("é" * (MAX_NAME_LENGTH + 1), "256 characters"),
    ("caf\udce9.mov", "not valid UTF-8"),
    ("a\x1fb", "U+001F"),
    ("a\ufffe", "U+FFFE"),
    ("a\uffff", "U+FFFF"),
])
def test_unstorable_names(name: str, why: str) -> None:
    with pytest.raises(UnstorableName) as caught:
        check_name(name, "Card/Day 1/" + name)
    message = str(caught.value)
    assert why in message
    assert "Card/Day 1/" in message
    assert "never renames files silently" in message
    assert caught.value.exit_code == SourceError.exit_code
    assert isinstance(caught.value, SourceError)


def test_nfc_message_explains_mac_accents() -> None:
    with pytest.raises(UnstorableName, match="macOS") as caught:
        check_name("e\u0301te\u0301.wav", "Sound/e\u0301te\u0301.wav")
    assert "NFC" in str(caught.value)


def test_message_shows_undecodable_bytes_and_controls_readably() -> None:
    with pytest.raises(UnstorableName) as caught:
        check_name("caf\udce9", "Card/caf\udce9")
    assert "Card/caf\\xe9" in str(caught.value)
    str(caught.value).encode("utf-8")               # printable on any UTF-8 terminal
    assert caught.value.to_dict()["path"] == "Card/caf\\xe9"
    with pytest.raises(UnstorableName) as caught:
        check_name("a\x1fb", "Card/a\x1fb")
    assert "Card/a\\x1fb" in str(caught.value)


# --- the reference's own index ------------------------------------------------------

def _fixture_indexes() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*_R") if b"<ltfsindex" in p.read_bytes()[:200])


def test_fixture_index_names() -> None:
    """Every name the reference wrote decodes to a storable name and encodes back exactly."""
    indexes = _fixture_indexes()
    assert FIXTURES / "two-sessions-lto5" / "0_5_R" in indexes
    seen: set[str] = set()
    flags: set[bool] = set()
    for index in indexes:
        root = ET.fromstring(index.read_bytes())
        for element in root.iter("name"):
            text = element.text or ""
            flag = element.get("percentencoded") == "true"
            name = decode_name(text, flag)
            if element is root.find("directory/name") and name == "":
                continue                                  # the root folder's name may be empty
            check_name(name, f"{index.parent.name}/{index.name}: {name}")
            assert unicodedata.is_normalized("NFC", name)
            assert encode_name(name) == (text, flag), index
            seen.add(name)
            flags.add(flag)
    # The fixture has the cases that matter; make sure the test did not pass on nothing.
    assert "notes: take 3.txt" in seen
    assert "second session 100%.mov" in seen
    assert "Scène_12–Prise_3 été.wav" in seen
    assert flags == {True, False}
