"""What the one-pass tests of every format share: a card of random clips, and a tape's
restored files (without our metadata folder and the card's ASC MHL history)."""

from __future__ import annotations

import os
from pathlib import Path

from lto_archive.jobs.read import restore_tape
from lto_archive.tape import TapeDevice


def card(root: Path, sizes: list[int]) -> dict[str, bytes]:
    """Clips of `sizes` random bytes under root/A001; returns {'<root name>/A001/Cnnn.mov': bytes}."""
    out = {}
    for i, n in enumerate(sizes):
        p = root / "A001" / f"C{i:03d}.mov"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(n)
        p.write_bytes(data)
        out[f"{root.name}/A001/C{i:03d}.mov"] = data
    return out


def restored(dev: TapeDevice, dest: Path, top: str) -> dict[str, bytes]:
    """Restore `top` from the tape into dest (every file proven) and return the files' bytes."""
    restore_tape(dev, dest, patterns=[top]).raise_for_status()
    return {str(p.relative_to(dest)): p.read_bytes() for p in dest.rglob("*")
            if p.is_file() and ".lto-archive" not in p.parts and "ascmhl" not in p.parts}
