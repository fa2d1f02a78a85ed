"""An LTFS volume that fills up says "full" on its line, as a tape file's cartridge does (issue 15)."""

from __future__ import annotations

import random
from pathlib import Path

from lto_archive.formats.ltfs.volume import format_volume
from lto_archive.jobs.write import WriteOptions, write_archive
from lto_archive.manifest import NOT_WRITTEN
from lto_archive.tape import create_vtape

MiB = 1 << 20


def _card(top: Path) -> Path:
    top.mkdir(parents=True)
    rng = random.Random(7)
    for i in range(8):
        (top / f"clip{i}.mov").write_bytes(rng.randbytes(512 * 1024 - 3))
    return top


def _full_volume_job(tmp_path: Path, verify: bool):  # type: ignore[no-untyped-def]
    dev = create_vtape(tmp_path / "tape", "LTO-9", capacity=2 * MiB + 200 * 1024, partitions=2)
    format_volume(dev, creator="t", serial="FULL01", volume_name="Vol", block_size=65536)
    try:
        return write_archive([_card(tmp_path / "src" / "card")], dev,
                             WriteOptions(format="ltfs", index_every_bytes=None, index_every_seconds=None,
                                          chunk_size=65536, verify=verify))
    finally:
        dev.close()


def test_a_volume_that_fills_up_says_full_not_ok(tmp_path: Path) -> None:
    res = _full_volume_job(tmp_path, verify=True)
    left = [f for f in res.files if f.status == NOT_WRITTEN]
    assert left and all(f.message for f in left)      # no room (or the early warning): said per file
    (tape,) = [d for d in res.destinations if d["kind"] == "tape"]
    assert tape["status"] == "full"
    assert "what is on it is proven" in tape["error"] and f"{len(left)} file(s) did not fit" in tape["error"]
    assert "--span" in tape["error"]
    assert res.status == "incomplete"


def test_every_volume_of_a_fan_out_says_full(tmp_path: Path) -> None:
    """Two volumes (each read back on its own, as a fan-out always is): each line says full."""
    devs = []
    for name in ("A", "B"):
        dev = create_vtape(tmp_path / name, "LTO-9", capacity=2 * MiB + 200 * 1024, partitions=2)
        format_volume(dev, creator="t", serial=f"FULL0{name}", volume_name="Vol", block_size=65536)
        devs.append(dev)
    try:
        res = write_archive([_card(tmp_path / "src" / "card")], devs,
                            WriteOptions(format="ltfs", index_every_bytes=None, index_every_seconds=None,
                                         chunk_size=65536, verify=False))
    finally:
        for dev in devs:
            dev.close()
    tapes = [d for d in res.destinations if d["kind"] == "tape"]
    assert len(tapes) == 2
    assert all(t["status"] == "full" and "did not fit" in t["error"] for t in tapes), tapes
