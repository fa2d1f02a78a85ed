"""An LTFS read-back of many small files reads them in tape order without a locate per file (each locate
made a real drive stop streaming between files), and still verifies and restores every byte; a file read
after damage (or one that is not where the last read ended) is located to as before."""

from __future__ import annotations

import random
from pathlib import Path

from lto_archive.jobs.read import restore_tape, verify_tape
from lto_archive.jobs.write import write_archive
from lto_archive.tape import VirtualTape

from .test_ltfs_jobs import ltfs_opts, new_volume


def _card(root: Path, n: int) -> Path:
    rng = random.Random(n)
    src = root / "card"
    (src / "frames").mkdir(parents=True)
    for i in range(n):
        (src / "frames" / f"f{i:04d}.dpx").write_bytes(rng.randbytes(rng.choice([0, 1, 700, 4096, 9000])))
    return src


def test_small_files_are_read_without_a_locate_each(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    src = _card(tmp_path, 120)
    dev = new_volume(tmp_path / "cart")
    write_archive([src], dev, ltfs_opts()).raise_for_status()
    dev.close()
    locates: list[tuple[int, int]] = []
    real = VirtualTape.locate
    monkeypatch.setattr(VirtualTape, "locate", lambda self, p, b: (locates.append((p, b)), real(self, p, b))[1])
    dev = VirtualTape(tmp_path / "cart")
    try:
        verify_tape(dev).raise_for_status()
        verify_locates = len(locates)
        locates.clear()
        restore_tape(dev, tmp_path / "out").raise_for_status()
    finally:
        dev.close()
    assert verify_locates < 60 and len(locates) < 60        # 120 files (and the session's own) in tape order
    for p in (src / "frames").iterdir():
        assert (tmp_path / "out" / "card" / "frames" / p.name).read_bytes() == p.read_bytes()
