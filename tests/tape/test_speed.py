"""The drive-speed model, driven by an injected clock (no wall time)."""

from __future__ import annotations

import pytest

from lto_archive.errors import UsageError
from lto_archive.generations import GENERATIONS
from lto_archive.tape import VirtualTape, create_vtape
from lto_archive.tape.speed import DriveSpeedModel, SpeedSettings, TapeStats


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def model(clock, **kw) -> DriveSpeedModel:
    # floor 1 MB/s, native 4 MB/s, 1 MB buffer: easy numbers
    s = SpeedSettings(enabled=True, buffer_bytes=1_000_000, min_mb_s=1, native_mb_s=4, **kw)
    return DriveSpeedModel(GENERATIONS["LTO-9"], s, TapeStats(), clock=clock, sleep=clock.sleep)


def feed(m, clock, n, size, interval):
    for _ in range(n):
        m.on_write(size)
        clock.t += interval


def test_host_inside_speed_matching_range_never_underruns():
    clock = FakeClock()
    m = model(clock)
    feed(m, clock, 200, 100_000, 0.05)          # 2 MB/s
    assert m.stats.underruns == 0
    assert m.stats.host_wait_seconds == 0
    assert m.streaming and m.level == 1_000_000


def test_host_at_the_floor_never_underruns():
    clock = FakeClock()
    m = model(clock)
    feed(m, clock, 200, 100_000, 0.1)           # exactly 1 MB/s
    assert m.stats.underruns == 0


def test_host_below_the_floor_shoe_shines():
    # 0.5 MB/s: the drive starts when the buffer is full (10th write), drains 200 kB
    # per 0.2 s while receiving 100 kB, runs dry on the 20th write, refills for 9
    # writes, and so on: underruns on writes 20, 39, 58, 77, 96.
    clock = FakeClock()
    m = model(clock)
    feed(m, clock, 19, 100_000, 0.2)
    assert m.stats.underruns == 0
    feed(m, clock, 1, 100_000, 0.2)
    assert m.stats.underruns == 1
    assert not m.streaming
    feed(m, clock, 80, 100_000, 0.2)
    assert m.stats.underruns == 5


def test_fast_host_is_throttled_to_native():
    clock = FakeClock()
    m = model(clock, throttle=True)
    feed(m, clock, 10, 500_000, 0.0)            # infinitely fast host
    # buffer full after 2 writes; each further 500 kB waits 500 kB / 4 MB/s
    assert clock.sleeps == [0.125] * 8
    assert clock.t == pytest.approx(1.0)
    assert m.stats.host_wait_seconds == pytest.approx(1.0)
    assert m.stats.underruns == 0


def test_without_throttle_waits_are_only_counted():
    clock = FakeClock()
    m = model(clock)
    feed(m, clock, 10, 500_000, 0.0)
    assert clock.sleeps == []
    assert m.stats.host_wait_seconds == pytest.approx(1.0)


def test_flush_is_not_an_underrun():
    clock = FakeClock()
    m = model(clock, throttle=True, restart_bytes=100_000)
    feed(m, clock, 3, 100_000, 0.0)
    m.flush()
    assert m.stats.flushes == 1 and m.stats.underruns == 0
    assert clock.sleeps == [pytest.approx(0.075)]   # 300 kB at 4 MB/s
    assert m.level == 0 and not m.streaming
    m.flush()
    assert m.stats.flushes == 1                     # nothing left to flush


def test_stall_while_streaming_is_an_underrun():
    clock = FakeClock()
    m = model(clock, restart_bytes=100_000)
    m.on_write(100_000)                             # starts streaming
    clock.t += 5.0                                  # host stalls: the drive runs dry
    m.on_write(100_000)
    assert m.stats.underruns == 1


def test_unpublished_floor_assumes_no_speed_matching():
    for name in ("LTO-4", "LTO-10"):
        m = DriveSpeedModel(GENERATIONS[name], SpeedSettings(enabled=True), TapeStats())
        assert m.floor == m.native == GENERATIONS[name].native_mb_s * 10**6
    m = DriveSpeedModel(GENERATIONS["LTO-9"], SpeedSettings(enabled=True), TapeStats())
    assert (m.floor, m.native) == (177 * 10**6, 400 * 10**6)


def test_bad_settings():
    with pytest.raises(UsageError):
        SpeedSettings.from_dict({"buffer": 1})
    with pytest.raises(UsageError):
        SpeedSettings.from_dict({"buffer_bytes": 0})
    with pytest.raises(UsageError):
        DriveSpeedModel(GENERATIONS["LTO-9"], SpeedSettings(min_mb_s=500), TapeStats())


def test_virtual_tape_counts_underruns(tmp_path):
    clock = FakeClock()
    speed = {"enabled": True, "buffer_bytes": 1_000_000, "min_mb_s": 1, "native_mb_s": 4}
    vt = create_vtape(tmp_path / "c", "LTO-9", capacity=10**9, speed=speed, clock=clock, sleep=clock.sleep)
    assert vt.speed is not None
    for _ in range(20):
        vt.write_record(bytes(100_000))
        clock.t += 0.2
    assert vt.stats.underruns == 1
    assert vt.stats.records_written == 20 and vt.stats.bytes_written == 2_000_000
    vt.write_filemarks(1)                   # a commit point flushes the buffer
    assert vt.stats.flushes == 1
    vt.close()
    with VirtualTape(tmp_path / "c", clock=clock, sleep=clock.sleep) as again:   # settings persist
        assert again.speed is not None and again.speed.buffer_bytes == 1_000_000


def test_enable_speed_emulation_from_code(tmp_path):
    clock = FakeClock()
    with create_vtape(tmp_path / "c", "LTO-9", capacity=10**9) as vt:
        assert vt.speed is None
        vt.enable_speed_emulation(SpeedSettings(buffer_bytes=1_000_000, throttle=True), clock=clock,
                                  sleep=clock.sleep)
        for _ in range(4):
            vt.write_record(bytes(500_000))
        assert clock.sleeps == [pytest.approx(500_000 / 400e6)] * 2
        vt.save_settings()
    with VirtualTape(tmp_path / "c", clock=clock, sleep=clock.sleep) as vt:
        assert vt.speed is not None and vt.speed.throttle
