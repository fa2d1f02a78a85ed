"""ffprobe on the committed fixtures: the right timecode, rate and duration; nothing guessed."""

from __future__ import annotations

import shutil
import struct
from fractions import Fraction
from pathlib import Path

import pytest

from lto_archive.errors import ToolMissing
from lto_archive.report import build_report, find_ffprobe, interpret, read_dpx_header, run_ffprobe
from lto_archive.report.probe import bwf_timecode
from tests.conftest import require_tool

from .helpers import DPX_DIR, MOV, MXF, NTSC24, RDC, WAV, by_name, fake_tool


@pytest.fixture(scope="module")
def ffprobe() -> str:
    return require_tool("ffprobe")


def test_mov_prores_25fps_timecode_and_duration(ffprobe: str) -> None:
    info = interpret(run_ffprobe(MOV))
    assert info.start_timecode.value == "01:00:00:00"
    assert "timecode" in info.start_timecode.source
    assert info.frame_rate.value == Fraction(25)
    assert info.duration_frames.value == 50
    assert abs(info.duration_seconds.value - 2) <= Fraction(1, 25)
    assert info.codec.value == "ProRes 422 Proxy"
    assert info.resolution.value == "160x90"
    assert info.audio.value == "2 ch 48 kHz 16-bit"
    assert info.notes == []


def test_mxf_dnxhr_23976_timecode_and_duration(ffprobe: str) -> None:
    info = interpret(run_ffprobe(MXF))
    assert info.start_timecode.value == "10:00:00:00"
    assert info.frame_rate.value == NTSC24 and info.frame_rate.display() == "23.976"
    assert info.duration_frames.value == 48
    assert abs(info.duration_seconds.value - Fraction(2002, 1000)) <= 1 / NTSC24
    assert info.codec.value == "DNxHR LB"
    assert info.container.value == "MXF"


def test_report_end_timecode_is_start_plus_duration(ffprobe: str) -> None:
    report = build_report([MOV.parent, MXF.parent])
    mov, mxf = by_name(report, MOV.stem), by_name(report, MXF.stem)
    assert (mov.start_timecode.value, mov.end_timecode.value, mov.duration.value) == \
        ("01:00:00:00", "01:00:02:00", "00:00:02:00")
    assert (mxf.start_timecode.value, mxf.end_timecode.value, mxf.duration.value) == \
        ("10:00:00:00", "10:00:02:00", "00:00:02:00")
    assert mxf.duration_seconds.value == pytest.approx(2.002, abs=1e-6)
    assert mov.file_type.value == "ProRes" and mxf.file_type.value == "DNx"
    assert not mov.start_timecode.assumed and not mxf.frame_rate.assumed


def test_wav_bwf_time_reference_read_but_no_timecode_without_a_rate(ffprobe: str) -> None:
    info = interpret(run_ffprobe(WAV))
    assert info.time_reference == 173280000 and info.sample_rate == 48000
    assert not info.start_timecode.available          # a WAV records no frame rate: not guessed here
    assert not info.frame_rate.available and "audio" in info.frame_rate.reason
    assert abs(info.duration_seconds.value - 2) < Fraction(1, 48000)
    # what the BWF description records about itself
    assert (info.scene.value, info.take.value, info.reel.value) == ("012A", "03", "SOUND_001")
    assert info.container.value == "Broadcast WAV (BWF)"

    report = build_report([WAV.parent])                # alone: no rate to assume
    clip = report.clips[0]
    assert not clip.start_timecode.available
    assert "01:00:10.000" in clip.start_timecode.reason and "--rate" in clip.start_timecode.reason
    assert not report.project_rate.available


def test_wav_timecode_from_time_reference_at_the_given_rate(ffprobe: str) -> None:
    clip = build_report([WAV.parent], rate="25").clips[0]
    assert clip.start_timecode.value == "01:00:10:00"
    assert clip.start_timecode.assumed and "25 fps" in clip.start_timecode.source
    assert "173280000" in clip.start_timecode.source
    assert clip.end_timecode.value == "01:00:12:00"
    assert not clip.frame_rate.available               # the WAV's own rate stays "not available"
    # the rate of the video clips, when they all agree, is assumed (and said)
    report = build_report([MOV.parent, WAV.parent])
    wav = by_name(report, WAV.stem)
    assert wav.start_timecode.value == "01:00:10:00" and wav.start_timecode.assumed
    assert "every video clip" in wav.start_timecode.source
    # different video rates: nothing assumed
    report = build_report([MOV.parent, MXF.parent, WAV.parent])
    wav = by_name(report, WAV.stem)
    assert not wav.start_timecode.available and "different rates" in wav.start_timecode.reason


def test_bwf_timecode_is_exact_at_ntsc_rates() -> None:
    assert bwf_timecode(173280000, 48000, Fraction(25)) == ("01:00:10:00", 0)
    # 3610 s at 24000/1001: 86553.44... frames -> frame 86553 = 01:00:06:09 (24 frames per TC second)
    tc, rest = bwf_timecode(173280000, 48000, NTSC24)
    assert tc == "01:00:06:09" and rest > 0
    assert bwf_timecode(0, 48000, NTSC24) == ("00:00:00:00", 0)


def test_dpx_frame_rate_from_ffprobe_is_not_trusted(ffprobe: str) -> None:
    first = sorted(DPX_DIR.iterdir())[0]
    result = run_ffprobe(first)
    assert result.ok and result.data["streams"][0]["r_frame_rate"] == "25/1"   # ffprobe's default
    info = interpret(result, image=True)
    assert not info.frame_rate.available and "default" in info.frame_rate.reason
    assert not info.start_timecode.available
    assert info.resolution.value == "64x36"


def test_r3d_is_unreadable_and_every_field_says_so(ffprobe: str) -> None:
    r3d = next(RDC.glob("*.R3D"))
    result = run_ffprobe(r3d)
    assert not result.ok and "ffprobe cannot read it" in result.error
    info = interpret(result)
    for f in (info.start_timecode, info.frame_rate, info.duration_seconds, info.duration_frames,
              info.resolution, info.codec, info.container, info.audio):
        assert f.value is None and f.reason == result.error


def test_missing_ffprobe_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("LTO_ARCHIVE_FFPROBE", raising=False)
    for call in (find_ffprobe, lambda: run_ffprobe(MOV), lambda: build_report([MOV.parent])):
        with pytest.raises(ToolMissing) as ei:
            call()
        assert "ffprobe" in ei.value.message and "apt-get install ffmpeg" in ei.value.message
        assert ei.value.exit_code == 4 and ei.value.data["tool"] == "ffprobe"
    with pytest.raises(ToolMissing):
        find_ffprobe(tmp_path / "nonexistent" / "ffprobe")
    # not executable
    (tmp_path / "empty" / "ffprobe").write_text("#!/bin/sh\n")
    with pytest.raises(ToolMissing):
        find_ffprobe()


def test_ffprobe_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_tool(tmp_path / "bin", "my-ffprobe", "echo '{\"format\": {\"format_name\": \"wav\"}}'")
    monkeypatch.setenv("LTO_ARCHIVE_FFPROBE", str(fake))
    assert find_ffprobe() == str(fake)
    assert run_ffprobe(MOV).ok


def test_ffprobe_that_hangs_times_out(tmp_path: Path) -> None:
    fake = fake_tool(tmp_path / "bin", "ffprobe", "exec sleep 30")
    result = run_ffprobe(MOV, ffprobe=fake, timeout=0.5)
    assert not result.ok and "within 0.5 s" in result.error


def test_ffprobe_failures_become_reasons(tmp_path: Path) -> None:
    bad = fake_tool(tmp_path / "a", "ffprobe", "echo 'not json'")
    assert "not JSON" in run_ffprobe(MOV, ffprobe=bad).error
    err = fake_tool(tmp_path / "b", "ffprobe", "echo \"$7: Permission denied\" >&2; exit 1")
    result = run_ffprobe(MOV, ffprobe=err)
    assert result.error == "ffprobe cannot read it (Permission denied)"     # the file name is left out
    empty = fake_tool(tmp_path / "c", "ffprobe", "echo '{}'")
    assert "no container format" in run_ffprobe(MOV, ffprobe=empty).error


def test_hostile_metadata_is_not_trusted(tmp_path: Path) -> None:
    doc = ('{"format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "tags": {"timecode": "01:00:00:30"}},'
           ' "streams": [{"index": 0, "codec_type": "video", "codec_name": "prores", "r_frame_rate": "25/1",'
           ' "avg_frame_rate": "25/1", "nb_frames": "x", "width": 16, "height": 9}]}')
    fake = fake_tool(tmp_path, "ffprobe", f"cat <<'EOF'\n{doc}\nEOF")
    info = interpret(run_ffprobe(MOV, ffprobe=fake))
    assert not info.start_timecode.available and "not a timecode at 25 fps" in info.start_timecode.reason
    assert not info.duration_frames.available and not info.duration_seconds.available
    assert info.frame_rate.value == 25 and info.codec.value == "ProRes"


def test_file_names_are_never_options_or_protocols(tmp_path: Path, ffprobe: str) -> None:
    odd = tmp_path / "-i concat:x|y.mov"
    shutil.copy(MOV, odd)
    info = interpret(run_ffprobe(odd))
    assert info.start_timecode.value == "01:00:00:00"


def _dpx_with_headers(template: Path, out: Path, timecode_bcd: int, rate: float, big_endian: bool = False) -> None:
    """A DPX frame whose header is 2048 bytes long and holds a TV-header timecode and frame rate."""
    raw = template.read_bytes()
    bo = "<"
    (offset,) = struct.unpack_from(bo + "I", raw, 4)
    head, data = bytearray(raw[:offset]), raw[offset:]
    head += b"\xff" * (2048 - len(head))
    struct.pack_into(bo + "I", head, 4, 2048)
    struct.pack_into(bo + "I", head, 16, 2048 + len(data))
    struct.pack_into(bo + "I", head, 808, 2048)               # image element 1 data offset
    struct.pack_into(bo + "I", head, 1920, timecode_bcd)
    struct.pack_into(bo + "f", head, 1940, rate)
    if big_endian:                                             # only for read_dpx_header: header fields
        head[:4] = b"SDPX"
        for off, fmt in ((4, "I"), (1920, "I"), (1940, "f")):
            (v,) = struct.unpack_from("<" + fmt, head, off)
            struct.pack_into(">" + fmt, head, off, v)
    out.write_bytes(bytes(head) + data)


def test_dpx_header_timecode_and_rate(tmp_path: Path, ffprobe: str) -> None:
    frames = sorted(DPX_DIR.iterdir())
    assert read_dpx_header(frames[0]).timecode is None and read_dpx_header(frames[0]).frame_rate is None
    seq = tmp_path / "E004" / "E004C001_230101_R9ZZ"
    seq.mkdir(parents=True)
    for i, f in enumerate(frames):
        _dpx_with_headers(f, seq / f"E004C001_230101_R9ZZ.{1000 + i:07d}.dpx", 0x01000000 + i, 24000 / 1001)
    head = read_dpx_header(seq / "E004C001_230101_R9ZZ.0001000.dpx")
    assert head.timecode == "01:00:00:00" and head.frame_rate == NTSC24
    clip = build_report([seq.parent]).clips[0]
    assert clip.kind == "sequence" and clip.duration_frames.value == 5
    assert clip.start_timecode.value == "01:00:00:00" and "DPX" in clip.start_timecode.source
    assert clip.frame_rate.value == NTSC24 and not clip.frame_rate.assumed
    assert clip.end_timecode.value == "01:00:00:05"
    assert clip.duration_seconds.value == pytest.approx(5 * 1001 / 24000, abs=1e-6)
    # big-endian headers, and undefined (all ones) fields
    _dpx_with_headers(frames[0], tmp_path / "be.dpx", 0x10203004, 25.0, big_endian=True)
    head = read_dpx_header(tmp_path / "be.dpx")
    assert head.timecode == "10:20:30:04" and head.frame_rate == 25
    _dpx_with_headers(frames[0], tmp_path / "undef.dpx", 0xFFFFFFFF, float("nan"))
    head = read_dpx_header(tmp_path / "undef.dpx")
    assert head.timecode is None and head.frame_rate is None
