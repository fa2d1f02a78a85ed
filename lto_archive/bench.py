"""Throughput benchmark: our write pipeline beside a raw copy of the same bytes, same run.

Two targets: a null device (shows the pipeline's own cost: read + hash + TAR
framing + hand-off) against a raw read of the source; and a virtual tape
against raw record writes in the same one-file-per-record layout (so the
emulator's cost is not mistaken for ours). Figures are only comparable inside
one run on one machine; quote the ratios.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .generations import by_name
from .jobs.write import WriteOptions, write_archive
from .streaming import DEFAULT_RECORD_SIZE
from .tape import NullTape, create_vtape

MiB = 1024 * 1024


@dataclass
class Measurement:
    dataset: str
    case: str
    seconds: float
    bytes: int
    files: int

    @property
    def mb_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds else 0.0

    @property
    def files_s(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "mb_s": round(self.mb_s, 1), "files_s": round(self.files_s, 1)}


def make_dataset(root: Path, big_size: int, small_count: int, small_size: int) -> dict[str, Path]:
    """One big clip and a folder of small frames; reused when already there with the same sizes."""
    root.mkdir(parents=True, exist_ok=True)
    pattern = os.urandom(64 * MiB)  # incompressible, cheap to repeat
    big = root / "big" / "A001C001.mov"
    if not big.exists() or big.stat().st_size != big_size:
        big.parent.mkdir(exist_ok=True)
        with open(big, "wb") as f:
            left = big_size
            while left:
                n = min(left, len(pattern))
                f.write(memoryview(pattern)[:n])
                left -= n
    small = root / "small"
    marker = small / f".complete-{small_count}x{small_size}"
    if not marker.exists():
        shutil.rmtree(small, ignore_errors=True)
        (small / "frames").mkdir(parents=True)
        for i in range(small_count):
            off = (i * 7919) % max(1, len(pattern) - small_size)
            (small / "frames" / f"frame.{i:07d}.dpx").write_bytes(pattern[off:off + small_size])
        marker.touch()
    return {"big file": big.parent, "small files": small / "frames"}


def _files(src: Path) -> list[Path]:
    return sorted(p for p in src.rglob("*") if p.is_file())


def raw_read(src: Path, buf_size: int = 8 * MiB) -> tuple[int, int]:
    """Read every byte of every file once, into one reused buffer."""
    buf = bytearray(buf_size)
    view = memoryview(buf)
    total = files = 0
    for path in _files(src):
        with open(path, "rb", buffering=0) as f:
            while n := f.readinto(view):
                total += n
        files += 1
    return total, files


def raw_record_writes(src: Path, cart: Path, record_size: int) -> tuple[int, int]:
    """The same bytes as fixed records, one file per record (the virtual-tape layout), no framing or hashing."""
    cart.mkdir(parents=True)
    buf = bytearray(record_size)
    view = memoryview(buf)
    fill = block = total = files = 0
    dfd = os.open(cart, os.O_RDONLY)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC

    def flush(n: int) -> None:
        nonlocal block
        fd = os.open(f"0_{block}_R", flags, 0o644, dir_fd=dfd)
        os.write(fd, view[:n])
        os.close(fd)
        block += 1

    try:
        for path in _files(src):
            with open(path, "rb", buffering=0) as f:
                while n := f.readinto(view[fill:]):
                    fill += n
                    total += n
                    if fill == record_size:
                        flush(fill)
                        fill = 0
            files += 1
        if fill:
            flush(fill)
    finally:
        os.close(dfd)
    return total, files


def run_benchmark(workdir: Path, *, big_size: int = 2 * 1024 * MiB, small_count: int = 5000,
                  small_size: int = MiB, algorithms: tuple[str, ...] = ("xxh128",),
                  record_size: int = DEFAULT_RECORD_SIZE, rounds: int = 1) -> dict:
    """Run every case on both data sets; return measurements and our/raw ratios."""
    workdir = Path(workdir)
    datasets = make_dataset(workdir / "data", big_size, small_count, small_size)
    tapes = workdir / "tapes"
    results: list[Measurement] = []

    def timed(dataset: str, case: str, fn) -> None:  # type: ignore[no-untyped-def]
        best: Measurement | None = None
        for _ in range(rounds):
            shutil.rmtree(tapes, ignore_errors=True)
            tapes.mkdir(parents=True)
            t0 = time.perf_counter()
            nbytes, nfiles = fn()
            m = Measurement(dataset, case, time.perf_counter() - t0, nbytes, nfiles)
            if best is None or m.seconds < best.seconds:
                best = m
        shutil.rmtree(tapes, ignore_errors=True)
        assert best is not None
        results.append(best)

    def ours(src: Path, device_factory) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        dev = device_factory()
        try:
            r = write_archive([src], dev, WriteOptions(algorithms=algorithms, record_size=record_size, verify=False))
            r.raise_for_status()
            return r.manifest.session.bytes_copied, r.manifest.session.files
        finally:
            dev.close()

    for name, src in datasets.items():
        timed(name, "raw read (null baseline)", lambda: raw_read(src))
        timed(name, "ours -> null", lambda: ours(src, NullTape))
        timed(name, "raw records -> vtape layout", lambda: raw_record_writes(src, tapes / "raw", record_size))
        timed(name, "ours -> vtape", lambda: ours(src, lambda: create_vtape(tapes / "vt", by_name("LTO-9"))))
    ratios = {}
    for name in datasets:
        by_case = {m.case: m for m in results if m.dataset == name}
        ratios[name] = {
            "null / raw read": round(by_case["ours -> null"].mb_s / by_case["raw read (null baseline)"].mb_s, 3),
            "vtape / raw records": round(by_case["ours -> vtape"].mb_s / by_case["raw records -> vtape layout"].mb_s, 3),
        }
    return {"workdir": str(workdir), "algorithms": list(algorithms), "record_size": record_size,
            "big_size": big_size, "small_count": small_count, "small_size": small_size, "rounds": rounds,
            "cpus": os.cpu_count(), "results": [m.to_dict() for m in results], "ratios": ratios}
