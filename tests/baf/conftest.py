"""A camera card, virtual cartridges and a catalog filled by real write and verify jobs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lto_archive.catalog import Catalog, record_read, record_write
from lto_archive.jobs.catalog_import import tape_used
from lto_archive.formats.ltfs.volume import open_volume
from lto_archive.jobs.read import verify_tape
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.tape import VirtualTape

from ..catalog.conftest import ltfs_tape, tar_tape


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def make_file(path: Path, data: bytes, mtime: str = "2026-03-15T09:00:00") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (ts(mtime), ts(mtime)))
    return path


def make_card(root: Path, name: str = "A001_C007") -> Path:
    """A camera card as an ARRI names it: clips, a sidecar, an empty file, an empty folder."""
    card = root / name
    make_file(card / "CLIPS" / "A001C007_260315_R1AB.mxf", os.urandom(48_000), "2026-03-15T09:00:00")
    make_file(card / "CLIPS" / "A001C008_260315_R1AB.mxf", os.urandom(21_000), "2026-03-15T09:30:00")
    make_file(card / "A001C007_260315_R1AB.xml", b"<clip/>\n", "2026-03-15T09:00:01")
    make_file(card / "EMPTY.bin", b"", "2026-03-15T09:00:02")
    (card / "LOST.DIR").mkdir()
    return card


def write_to(cat: Catalog, dev: VirtualTape, sources: list[Path], fmt: str = "tar",
             operator: str = "Jane DIT") -> Any:
    result = write_archive(sources, dev, WriteOptions(format=fmt, record_size=16384, chunk_size=65536,
                                                      operator=operator, index_every_bytes=None,
                                                      index_every_seconds=None))
    assert result.status == "ok", result.problems
    uuid = open_volume(dev).label.volume_uuid if fmt == "ltfs" else None
    record_write(cat, result, dev.medium(), volume_uuid=uuid, used=tape_used(dev))
    return result


def verify(cat: Catalog, dev: VirtualTape, who: str = "jane", when: str | None = None) -> Any:
    result = verify_tape(dev)
    assert result.status == "ok", result.to_dict()
    uuid = open_volume(dev).label.volume_uuid if dev.partitions == 2 else None
    out = record_read(cat, result, dev.medium(), who, volume_uuid=uuid, when=when)
    assert out.verifications > 0 and not out.unmatched
    return result


@dataclass
class Lab:
    """A card, two TAR cartridges, and the catalog (nothing written yet)."""

    root: Path
    card: Path
    catalog: Catalog
    tapes: dict[str, VirtualTape] = field(default_factory=dict)

    def tape(self, barcode: str, ltfs: bool = False) -> VirtualTape:
        if barcode not in self.tapes:
            make = ltfs_tape if ltfs else tar_tape
            self.tapes[barcode] = make(self.root / "tapes" / barcode, barcode)
        return self.tapes[barcode]

    def copy(self, barcode: str, fmt: str = "tar") -> Any:
        return write_to(self.catalog, self.tape(barcode, ltfs=fmt == "ltfs"), [self.card], fmt)

    def verify(self, barcode: str, who: str = "jane", when: str | None = None) -> Any:
        return verify(self.catalog, self.tapes[barcode], who, when)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(tmp_path, make_card(tmp_path / "media"), Catalog.open(tmp_path / "catalog.sqlite"))
    yield lab
    lab.catalog.close()
    for dev in lab.tapes.values():
        dev.close()


def make_safe(lab: Lab) -> Lab:
    """The card copied to LTA001L9 and LTA002L9, both read back: safe to format."""
    lab.copy("LTA001L9")
    lab.copy("LTA002L9")
    lab.verify("LTA001L9", "jane", "2026-03-15T20:00:00.000000Z")
    lab.verify("LTA002L9", "bob", "2026-03-15T21:00:00.000000Z")
    return lab


@pytest.fixture
def safe_lab(lab: Lab) -> Lab:
    return make_safe(lab)


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A safe lab for tests that only read it (one per test module)."""
    root = tmp_path_factory.mktemp("baf-lab")
    lab = Lab(root, make_card(root / "media"), Catalog.open(root / "catalog.sqlite"))
    yield make_safe(lab)
    lab.catalog.close()
    for dev in lab.tapes.values():
        dev.close()
