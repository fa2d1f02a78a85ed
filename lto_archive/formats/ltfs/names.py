"""File names in an LTFS index: which can be stored, and the `<name>` text for them.

LTFS names are UTF-8 in Unicode NFC form, at most 255 code points, never `/`
or NUL. lto-archive refuses a name it cannot store exactly (UnstorableName)
rather than renaming the file: what is on tape must match the source.

Percent encoding follows the LTFS reference implementation (fs.c
fs_is_percent_encode_required, xml_writer_libltfs.c encode_entry_name): a
name is percent-encoded only when it holds a trigger character, and then every
byte of its UTF-8 form outside printable ASCII, plus space, `%` and `:`, is
written as %XX (uppercase hex). Triggers here:

- `:` and the C0 controls U+0000-U+001F except tab, newline and carriage
  return: exactly the reference's triggers;
- tab, newline, carriage return and DEL (U+007F): NOT triggers in the
  reference, which writes them as literal XML text. We encode them because an
  XML parser turns a literal carriage return into a newline, so the name
  would come back changed unless every XML writer escapes it; the reference
  reads %09 %0A %0D %7F back to the same characters;
- U+FFFE and U+FFFF (not allowed in XML 1.0; check_name refuses them anyway).

C1 controls U+0080-U+009F are not triggers, as in the reference: they are
legal XML 1.0 characters (their UTF-8 bytes are >= 0x80, which the
reference's byte test never matches). So every character XML 1.0 cannot hold
ends up percent-encoded, or refused by check_name (surrogates, U+FFFE, U+FFFF).
"""

from __future__ import annotations

import os
import re
import unicodedata

from ...errors import UnstorableName
from ...manifest import not_utf8

MAX_NAME_LENGTH = 255  # Unicode code points, as the LTFS spec and reference count

_TRIGGER = re.compile("[\x00-\x1f\x7f:\ud800-\udfff\ufffe\uffff]")
_PLAIN = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"%", ":"}
_HEX_BYTE = tuple(f"%{b:02X}" for b in range(256))
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
# The reference keeps these escapes as the three characters "%2F", "%1F",
# "%00" when it reads a name, so it never produces "/" or NUL (xml_reader_libltfs.c).
_KEPT_ESCAPES = frozenset((0x00, 0x1F, 0x2F))

_SUFFIX = ("lto-archive never renames files silently: rename it on disk (or leave it out) "
           "and run the job again")


def _shown(path: str) -> str:
    """`path` printable: non-UTF-8 bytes (surrogate escapes) and control characters as \\xNN."""
    if not_utf8(path):
        path = os.fsencode(path).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be stored in an LTFS index, or None when it can."""
    if name == "":
        return "the name is empty"
    if name in (".", ".."):
        return f"the name {name!r} is reserved for folders"
    if "\x00" in name:
        return "the name contains a NUL character"
    if "/" in name:
        return "the name contains '/', which separates folders"
    if not_utf8(name):
        return ("the name is not valid UTF-8 (it holds bytes in another character set, "
                "e.g. Latin-1 from an old system), and LTFS stores only UTF-8 names")
    for bad in ("\x1f", "\ufffe", "\uffff"):
        if bad in name:
            return (f"the name contains the character U+{ord(bad):04X}, which the LTFS reference "
                    "implementation refuses or changes when it reads the tape")
    if not unicodedata.is_normalized("NFC", name):
        return ("the name is not in Unicode NFC form (e.g. accents stored as separate "
                "combining marks, as macOS does), and LTFS stores names in NFC form")
    if len(name) > MAX_NAME_LENGTH:
        return f"the name is {len(name)} characters long; LTFS allows at most {MAX_NAME_LENGTH}"
    return None


def check_name(name: str, path: str) -> None:
    """Raise UnstorableName, naming `path`, when LTFS cannot store `name` exactly.

    `name` is the last part of `path` as os.fsdecode gives it (undecodable
    bytes as surrogate escapes).
    """
    problem = name_problem(name)
    if problem is not None:
        shown = _shown(path)
        raise UnstorableName(f"{shown}: cannot be written to an LTFS tape: {problem}. {_SUFFIX}.",
                             path=shown, reason=problem)


def encode_name(name: str) -> tuple[str, bool]:
    """The `<name>` text for `name` and whether it needs `percentencoded="true"`.

    XML escaping of & < > is left to the XML writer. ValueError when `name`
    holds a lone surrogate (it is not valid UTF-8; check_name refuses it).
    """
    if _TRIGGER.search(name) is None:
        return name, False
    try:
        data = name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"name {name!r} is not valid UTF-8 and cannot be stored in LTFS") from None
    plain = _PLAIN
    out = []
    for b in data:
        c = chr(b)
        out.append(c if c in plain else _HEX_BYTE[b])
    return "".join(out), True


def decode_name(text: str, percent_encoded: bool) -> str:
    """The name that `<name>` text stands for; ValueError for a bad %XX or non-UTF-8 bytes.

    As in the reference, %2F, %1F and %00 stay as those three characters, so
    a decoded name never gets a '/' or NUL; literal characters are returned
    unchanged (the index reader decides whether the name is acceptable).
    """
    if not percent_encoded or "%" not in text:
        return text
    parts = text.split("%")
    try:
        out = bytearray(parts[0].encode("utf-8"))
        for part in parts[1:]:
            hx = part[:2]
            if len(hx) != 2 or hx[0] not in _HEX_DIGITS or hx[1] not in _HEX_DIGITS:
                raise ValueError(f"name {text!r} has a broken percent escape {'%' + hx!r} "
                                 "(% must be followed by two hex digits)")
            b = int(hx, 16)
            if b in _KEPT_ESCAPES:
                out += b"%" + hx.encode("ascii")
            else:
                out.append(b)
            out += part[2:].encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"name {text!r} is not valid UTF-8") from None
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"name {text!r}: its percent-encoded bytes are not valid UTF-8") from None
