"""Sense decoding (fixed and descriptor formats), DIT messages, and the error each sense maps to."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lto_archive.errors import (DeviceError, EndOfData, EndOfMedium, GenerationError, MediumError, NoMedium,
                                WriteProtected)
from lto_archive.tape.scsi import ScsiError, ScsiUnsupported, decode_sense, sense_to_error
from lto_archive.tape.scsi.sense import TABLE

from .examples import TGT_INVALID_OPCODE_SENSE
from .fake import descriptor_sense, fixed_sense

H = bytes.fromhex


def test_tgt_invalid_opcode_sense():
    s = decode_sense(TGT_INVALID_OPCODE_SENSE)
    assert (s.key, s.asc, s.ascq, s.response_code) == (5, 0x20, 0, 0x70)
    assert s.code == "05/20/00" and s.is_unsupported and not s.is_good
    assert "does not support this command" in s.message
    assert s.information is None


def test_fixed_sense_fields_by_hand():
    # valid INFORMATION 0x00000200 (residue), FILEMARK + ILI, key NO SENSE, 00/01 filemark detected
    raw = H("f0 00 a0 00 00 02 00 0a 00 00 00 00 00 01 00 00 00 00")
    s = decode_sense(raw)
    assert (s.key, s.asc, s.ascq) == (0, 0, 1)
    assert s.filemark and s.ili and not s.eom
    assert s.information == 0x200
    assert not s.is_good        # a filemark is a condition, not a plain success


def test_short_fixed_sense_reads_missing_bytes_as_zero():
    s = decode_sense(H("70 00 02 00 00 00 00 00"))
    assert (s.key, s.asc, s.ascq) == (2, 0, 0)


def test_deferred_error_says_so():
    s = decode_sense(fixed_sense(0x3, 0x0C, 0x00, deferred=True))
    assert s.deferred
    assert s.message.startswith("an earlier write or filemark failed")


def test_descriptor_sense_with_information_and_stream_descriptors():
    raw = H("72 0d 00 02 00 00 00 18"          # VOLUME OVERFLOW 00/02, 24 bytes of descriptors
            "00 0a 80 00 00 00 00 00 00 00 01 00"   # information, VALID, 0x100
            "04 02 00 40"                      # stream commands: EOM
            "02 06 00 00 00 00 00 00")         # sense key specific (kept raw, ignored)
    s = decode_sense(raw)
    assert (s.key, s.asc, s.ascq, s.response_code) == (0xD, 0, 2, 0x72)
    assert s.eom and not s.filemark and s.information == 0x100
    assert isinstance(sense_to_error(s), EndOfMedium)


def test_descriptor_sense_truncated_descriptor_is_ignored():
    s = decode_sense(H("72 03 11 00 00 00 00 0c 00 0a 80 00 00"))     # information cut short
    assert (s.key, s.asc) == (3, 0x11) and s.information is None


@pytest.mark.parametrize("raw", [b"", H("7f 00 00"), H("00 01 02")])
def test_non_standard_sense_is_refused(raw):
    with pytest.raises(ValueError):
        decode_sense(raw)


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_value_error(raw):
    try:
        s = decode_sense(raw)
    except ValueError:
        return
    assert 0 <= s.key <= 0xF and s.message


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 15), st.integers(0, 255), st.integers(0, 255), st.booleans(), st.booleans(), st.booleans(),
       st.none() | st.integers(0, 2**32 - 1), st.booleans())
def test_fixed_sense_round_trip(key, asc, ascq, fm, eom, ili, info, deferred):
    s = decode_sense(fixed_sense(key, asc, ascq, filemark=fm, eom=eom, ili=ili, information=info, deferred=deferred))
    assert (s.key, s.asc, s.ascq, s.filemark, s.eom, s.ili, s.information, s.deferred) == (
        key, asc, ascq, fm, eom, ili, info, deferred)


@settings(deadline=None)  # no timing in tests: the machine is shared
@given(st.integers(0, 15), st.integers(0, 255), st.integers(0, 255), st.booleans(), st.booleans(), st.booleans(),
       st.none() | st.integers(0, 2**64 - 1), st.booleans())
def test_descriptor_sense_round_trip(key, asc, ascq, fm, eom, ili, info, deferred):
    raw = descriptor_sense(key, asc, ascq, filemark=fm, eom=eom, ili=ili, information=info, deferred=deferred)
    s = decode_sense(raw)
    assert (s.key, s.asc, s.ascq, s.filemark, s.eom, s.ili, s.information, s.deferred) == (
        key, asc, ascq, fm, eom, ili, info, deferred)
    assert s.response_code == (0x73 if deferred else 0x72)


def test_descriptor_and_fixed_sense_map_to_the_same_error():
    for key, asc, ascq, flags, cls, _ in CASES:
        a = sense_to_error(decode_sense(fixed_sense(key, asc, ascq, **flags)))
        b = sense_to_error(decode_sense(descriptor_sense(key, asc, ascq, **flags)))
        assert type(a) is type(b) is cls and a.message == b.message


# key, asc, ascq, flags -> error class, words the message must hold
CASES = [
    (0x2, 0x3A, 0x00, {}, NoMedium, "no cartridge"),
    (0x2, 0x3A, 0x02, {}, NoMedium, "no cartridge"),
    (0x7, 0x27, 0x00, {}, WriteProtected, "write-protect"),
    (0x3, 0x11, 0x00, {}, MediumError, "cannot be read"),
    (0x3, 0x0C, 0x00, {}, MediumError, "write error"),
    (0x3, 0x99, 0x01, {}, MediumError, "medium error"),
    (0x0, 0x00, 0x17, {}, ScsiError, "cleaning"),
    (0x0, 0x82, 0x82, {}, ScsiError, "cleaning"),
    (0x0, 0x00, 0x02, {"eom": True}, EndOfMedium, "nearly full"),
    (0x0, 0x00, 0x00, {"eom": True}, EndOfMedium, "nearly full"),
    (0xD, 0x00, 0x02, {"eom": True}, EndOfMedium, "NOT written"),
    (0x8, 0x00, 0x05, {}, EndOfData, "end of data"),
    (0x2, 0x04, 0x01, {}, ScsiError, "getting ready"),
    (0x6, 0x28, 0x00, {}, ScsiError, "may have changed"),
    (0x6, 0x29, 0x00, {}, ScsiError, "reset"),
    (0x6, 0x29, 0x02, {}, ScsiError, "reset"),
    (0x5, 0x30, 0x00, {}, GenerationError, "generation not supported by this drive"),
    (0x5, 0x30, 0x02, {}, GenerationError, "cannot read this cartridge"),
    (0x3, 0x30, 0x00, {}, GenerationError, "generation not supported"),
    (0x7, 0x30, 0x05, {}, GenerationError, "cannot write this cartridge's format"),
    (0x7, 0x30, 0x0C, {}, WriteProtected, "WORM"),
    (0x5, 0x20, 0x00, {}, ScsiUnsupported, "does not support this command"),
    (0x5, 0x24, 0x00, {}, ScsiUnsupported, "refused a field"),
    (0x5, 0x26, 0x00, {}, ScsiError, "refused a parameter"),
    (0x4, 0x44, 0x00, {}, ScsiError, "hardware failure"),
    (0xB, 0x47, 0x00, {}, ScsiError, "try again"),
    (0x9, 0x80, 0x00, {}, ScsiError, "vendor specific with ASC/ASCQ 80/00"),
]


@pytest.mark.parametrize("key,asc,ascq,flags,cls,words", CASES)
def test_sense_to_error(key, asc, ascq, flags, cls, words):
    s = decode_sense(fixed_sense(key, asc, ascq, **flags))
    err = sense_to_error(s, command="LOCATE(16)", device="/dev/nst0")
    assert type(err) is cls
    assert isinstance(err, DeviceError)
    assert words in err.message
    assert err.message.startswith("/dev/nst0: LOCATE(16): ")
    assert f"{key:02X}/{asc:02X}/{ascq:02X}" in err.message
    assert err.sense is s
    d = err.to_dict()
    assert d["sense"] == s.code and d["command"] == "LOCATE(16)" and d["exit_code"] == 4


def test_every_table_row_is_reachable():
    """No row is hidden behind an earlier, wider one."""
    for i, (key, asc, ascq, text, cls) in enumerate(TABLE):
        s = decode_sense(fixed_sense(0x0 if key is None else key, 0x99 if asc is None else asc,
                                     0x5A if ascq is None else ascq))
        err = sense_to_error(s)
        first = next(j for j, (k, a, q, _, _) in enumerate(TABLE)
                     if (k is None or k == s.key) and (a is None or a == s.asc) and (q is None or q == s.ascq))
        assert first == i or TABLE[first][3] == text, (i, TABLE[i][:3], TABLE[first][:3])
        assert text in err.message


def test_recovered_error_and_plain_no_sense_are_good():
    assert decode_sense(fixed_sense(0x1, 0x17, 0x01)).is_good
    assert decode_sense(fixed_sense(0x0)).is_good
    assert not decode_sense(fixed_sense(0x0, eom=True)).is_good
