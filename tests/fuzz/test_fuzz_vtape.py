"""Fuzz: a damaged virtual cartridge folder (tape/vtape_store.py, vtape_settings.py): the sidecar
JSON, the LTFS file backend's conf XML, cartridge-memory attribute files and the record files
themselves, as create_vtape and a write left them, then mutated. Opening, reading every record
and the medium's attributes give data or an LtoArchiveError, never another exception."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from lto_archive.errors import EndOfData, LtoArchiveError
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.vtape_settings import CONF_NAME, SIDECAR_NAME
from tests.fuzz.common import FUZZ
from tests.fuzz.mutate_bytes import mutated_bytes, mutated_json

BASE = Path(tempfile.mkdtemp(prefix="fuzz-vtape-"))


def _cartridge() -> Path:
    cart = BASE / "cart"
    tape = create_vtape(cart, "LTO-8", capacity=1 << 24, barcode="FUZ001L8", partitions=2,
                        early_warning_bytes=4096)
    for data in (b"a" * 100, b"b" * 4096, b""):
        if data:
            tape.write_record(data)
        else:
            tape.write_filemarks(1)
    tape.write_record(b"c" * 10)
    tape.write_filemarks(1)
    tape.close()
    return cart


CART = _cartridge()
FILES = sorted(os.listdir(CART))
SIDECAR = (CART / SIDECAR_NAME).read_bytes()
CONF = (CART / CONF_NAME).read_bytes()
ATTRS = [n for n in FILES if n.startswith("attr_")]
RECORDS = [n for n in FILES if n.endswith(("_R", "_F", "_E"))]


def use(cart: Path) -> None:
    try:
        tape = VirtualTape(cart)
    except LtoArchiveError:
        return
    try:
        for call in (tape.medium, lambda: [tape.read_attribute(0, a) for a in (0x0400, 0x0806, 0x0220)]):
            try:
                call()
            except LtoArchiveError:
                pass
        for p in range(tape.partitions):
            try:
                tape.locate(p, 0)
                for _ in range(16):
                    tape.read_record()
            except EndOfData:
                pass
            except LtoArchiveError:
                pass
    finally:
        tape.close()


def damaged(change: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cart = Path(tmp) / "cart"
        shutil.copytree(CART, cart)
        change(cart)
        use(cart)


def test_the_cartridge_reads() -> None:
    tape = VirtualTape(CART)
    try:
        tape.locate(0, 0)
        assert tape.read_record() == b"a" * 100
    finally:
        tape.close()


@FUZZ
@given(mutated_json(json.loads(SIDECAR)) | mutated_bytes(SIDECAR))
@example(b'{"capacity": 1e400}')
@example(b'{"drive_generation": 8, "write_protected": "no", "faults": [], "speed": 1}')
@example(b'\xff{}')
@example(b"[" * 100_000 + b"]" * 100_000)
def test_sidecar(raw: bytes) -> None:
    damaged(lambda cart: (cart / SIDECAR_NAME).write_bytes(raw))


@FUZZ
@given(mutated_bytes(CONF))
@example(CONF.replace(b'encoding="UTF-8"', b'encoding="TTF-8"'))     # LookupError (5000-example run)
def test_conf(raw: bytes) -> None:
    damaged(lambda cart: (cart / CONF_NAME).write_bytes(raw))


@FUZZ
@given(st.sampled_from(ATTRS), st.sampled_from(ATTRS).flatmap(lambda a: mutated_bytes((CART / a).read_bytes())))
def test_attribute_file(name: str, raw: bytes) -> None:
    damaged(lambda cart: (cart / name).write_bytes(raw))


@FUZZ
@given(st.sampled_from(RECORDS), st.sampled_from(["delete", "dir", "symlink", "fifo", "rename", "huge", "unreadable"]),
       st.sampled_from(["0_00_R", "0_-1_R", "2_0_R", "0_99999999999999999999999_R", "1_0_F", "0_1_E", "x"]))
def test_object_files(name: str, how: str, other: str) -> None:
    def change(cart: Path) -> None:
        p = cart / name
        p.unlink()
        if how == "dir":
            p.mkdir()
        elif how == "symlink":
            p.symlink_to("/etc/hostname" if os.path.exists("/etc/hostname") else "/dev/null")
        elif how == "fifo":
            os.mkfifo(p)
        elif how == "rename":
            (cart / other).write_bytes(b"z")
        elif how == "huge":
            with open(p, "wb") as f:
                f.truncate(1 << 40)            # sparse: a record of a terabyte
        elif how == "unreadable":
            p.write_bytes(b"x")
            p.chmod(0)
    damaged(change)
