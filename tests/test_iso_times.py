"""manifest.iso (the seconds' text made once per second) gives exactly what datetime's isoformat gives."""

from __future__ import annotations

import random
import struct
from datetime import datetime, timezone

from lto_archive.manifest import iso


def _reference(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _times(n: int, seed: int = 15) -> list[float]:
    rng = random.Random(seed)
    out: list[float] = []
    for i in range(n):
        k = i % 6
        if k == 0:
            out.append(rng.uniform(-2e9, 4e9))                                        # any time, negative too
        elif k == 1:
            out.append(rng.randint(0, 2 * 10**9) + (rng.randint(0, 2 * 10**6) / 2 + 0.5) * 1e-6)  # half a µs
        elif k == 2:
            out.append(rng.randint(0, 2 * 10**9) + 0.9999995 + rng.uniform(-1e-7, 1e-7))  # carried to the second
        elif k == 3:
            out.append(1.7e9 + i * 0.04 + 0.000123)                                   # a frame sequence
        elif k == 4:
            out.append(float(rng.randint(-10**10, 10**10)))                           # whole seconds
        else:
            out.append(struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0])  # any double
    return out


def test_iso_is_isoformat() -> None:
    checked = 0
    for ts in _times(60_000):
        try:
            want = _reference(ts)
        except (OverflowError, ValueError, OSError):
            continue
        assert iso(ts) == want, repr(ts)
        checked += 1
    assert checked > 50_000
    now = datetime.now(timezone.utc)
    assert iso(now) == now.isoformat(timespec="microseconds").replace("+00:00", "Z")
