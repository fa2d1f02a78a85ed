"""Footage, cartridges and jobs for the catalog tests: real write and verify jobs on virtual tapes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lto_archive.catalog import Catalog, record_read, record_write
from lto_archive.jobs.catalog_import import tape_used
from lto_archive.formats.ltfs.volume import format_volume, open_volume
from lto_archive.jobs.read import verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import VirtualTape, create_vtape

MiB = 1 << 20


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def make_file(path: Path, data: bytes, mtime: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (ts(mtime), ts(mtime)))
    return path


def make_cards(root: Path) -> dict[str, Path]:
    """Camera cards as the cameras name them, each with its own day."""
    a = root / "A001_C007"
    make_file(a / "CLIPS" / "A001C007_210315_R1AB.mxf", os.urandom(40_000), "2021-03-15T09:00:00")
    make_file(a / "CLIPS" / "A001C008_210315_R1AB.mxf", os.urandom(25_000), "2021-03-15T10:30:00")
    make_file(a / "A001C007_210315_R1AB.xml", b"<clip/>\n", "2021-03-15T09:00:01")
    (a / "EMPTY").mkdir()
    make_file(a / "EMPTY" / "zero.bin", b"", "2021-03-15T11:00:00")
    b = root / "B002_C010"
    make_file(b / "B002C010_210316_R2CD.mov", os.urandom(30_000), "2021-03-16T14:00:00")
    make_file(b / "B002C011_210316_R2CD.mov", os.urandom(12_345), "2021-03-16T15:00:00")
    red = root / "A003_0317XY.RDM"
    make_file(red / "A003_C001_0317XY.RDC" / "A003_C001_0317XY_001.R3D", os.urandom(20_000), "2021-03-17T08:00:00")
    snd = root / "SOUND_DAY3"
    make_file(snd / "T001.WAV", os.urandom(5_000), "2021-03-17T08:00:05")
    return {"A001": a, "B002": b, "RED": red, "SOUND": snd}


@dataclass
class Shoot:
    """Three cartridges written and verified, with the catalog the jobs filled as they ran."""

    root: Path
    cards: dict[str, Path]
    tapes: dict[str, VirtualTape]
    catalog: Catalog
    results: list[Any] = field(default_factory=list)

    def device(self, barcode: str) -> VirtualTape:
        return self.tapes[barcode]


def tar_tape(path: Path, barcode: str) -> VirtualTape:
    return create_vtape(path, "LTO-9", capacity=64 * MiB, barcode=barcode)


def ltfs_tape(path: Path, barcode: str) -> VirtualTape:
    dev = create_vtape(path, "LTO-9", capacity=64 * MiB, barcode=barcode, partitions=2)
    format_volume(dev, creator="lto-archive tests", serial=barcode[:6], volume_name="DAY", block_size=4096)
    return dev


def opts(fmt: str) -> WriteOptions:
    return WriteOptions(format=fmt, record_size=16384, chunk_size=65536, operator="Jane DIT",
                        index_every_bytes=None, index_every_seconds=None)


def write_and_record(cat: Catalog, dev: VirtualTape, sources: list[Path], fmt: str) -> Any:
    result = write_archive(sources, dev, opts(fmt))
    assert result.status == "ok", result.problems
    uuid = open_volume(dev).label.volume_uuid if fmt == "ltfs" else None
    record_write(cat, result, dev.medium(), volume_uuid=uuid, used=tape_used(dev))
    return result


def verify_and_record(cat: Catalog, dev: VirtualTape, who: str = "Lab QC") -> Any:
    result = verify_tape(dev)
    assert result.status == "ok", result.to_dict()
    uuid = open_volume(dev).label.volume_uuid if dev.partitions == 2 else None
    record_read(cat, result, dev.medium(), who, volume_uuid=uuid)
    return result


@pytest.fixture
def shoot(tmp_path: Path, catalog_url: str) -> Shoot:
    """The same shoot recorded in a catalog on each engine (SQLite, PostgreSQL)."""
    cards = make_cards(tmp_path / "media")
    cat = Catalog.open(catalog_url)
    tapes = {"TAR001L9": tar_tape(tmp_path / "TAR001", "TAR001L9"),
             "CPI002L9": tar_tape(tmp_path / "CPI002", "CPI002L9"),
             "LTF003L9": ltfs_tape(tmp_path / "LTF003", "LTF003L9")}
    s = Shoot(tmp_path, cards, tapes, cat)
    # day 1: A001 to the TAR tape and, for the second copy, to the CPIO tape; day 2: B002 to both
    s.results.append(write_and_record(cat, tapes["TAR001L9"], [cards["A001"]], "tar"))
    s.results.append(write_and_record(cat, tapes["CPI002L9"], [cards["A001"]], "cpio"))
    s.results.append(write_and_record(cat, tapes["TAR001L9"], [cards["B002"]], "tar"))
    s.results.append(write_and_record(cat, tapes["CPI002L9"], [cards["B002"]], "cpio-crc"))
    # LTFS: everything, in two sessions
    s.results.append(write_and_record(cat, tapes["LTF003L9"], [cards["A001"], cards["B002"]], "ltfs"))
    s.results.append(write_and_record(cat, tapes["LTF003L9"], [cards["RED"], cards["SOUND"]], "ltfs"))
    for dev in tapes.values():
        verify_and_record(cat, dev)
    yield s
    cat.close()
    for dev in tapes.values():
        dev.close()
