"""A small sample camera card, so a new user can watch a whole job in seconds."""

from __future__ import annotations

import hashlib
import os
import random
import struct
from pathlib import Path


def _pseudo_random(seed: int, size: int) -> bytes:
    """Incompressible but reproducible bytes (like real footage)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.shake_256(struct.pack("<QQ", seed, counter)).digest(1 << 20)
        counter += 1
    return bytes(out[:size])


def make_sample_card(root: Path, clip_mb: int = 8, frames: int = 24) -> Path:
    """An ARRI-style card: three clips, a sidecar XML, and a DPX frame sequence folder."""
    card = Path(root) / "A001_C007"
    clips = card / "CLIPS"
    clips.mkdir(parents=True)
    rng = random.Random(7)
    for take in range(1, 4):
        name = f"A001C00{take}_261123_R1AB.mov"
        (clips / name).write_bytes(_pseudo_random(take, clip_mb * 1024 * 1024 + rng.randrange(1, 4096)))
    (card / "A001_C007.xml").write_text(
        '<?xml version="1.0"?>\n<card reel="A001" camera="A" date="2026-11-23" clips="3"/>\n')
    seq = card / "VFX_PLATE_0010"
    seq.mkdir()
    header = b"SDPX" + bytes(2044)
    for frame in range(1001, 1001 + frames):
        (seq / f"plate_0010.{frame:07d}.dpx").write_bytes(header + _pseudo_random(1000 + frame, 512 * 1024))
    (card / "EMPTY_FOLDER").mkdir()
    os.utime(card / "A001_C007.xml", ns=(1_763_900_000_123_456_789, 1_763_900_000_123_456_789))
    return card
