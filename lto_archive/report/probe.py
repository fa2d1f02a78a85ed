"""Technical metadata of a media file, read by ffprobe (Debian package ffmpeg).

`run_ffprobe` runs `ffprobe -v error -print_format json -show_format -show_streams`
on one file (with a timeout) and returns its JSON or the reason it could not
read the file; `interpret` turns that into report fields. Nothing is guessed:
a field ffprobe does not give is `Field.na(reason)`. In particular
- ffprobe gives image files a frame rate of 25 by default: never used;
- a WAV's timecode comes from its BWF `time_reference` (samples since
  midnight) only at a frame rate given from outside, and says which;
- the timecode is the first of: the video stream's `timecode` tag, a
  timecode (tmcd) data stream, the container's tag, any other stream's tag.

`read_dpx_header` reads the timecode and frame rate a DPX file's television
and film headers may hold (ffprobe does not report them).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..errors import ToolMissing
from .model import Field
from .timecode import clock, ffprobe_rate, format_timecode, parse_timecode, rate_display

FFPROBE_TIMEOUT = 60.0
INSTALL_HINT = "install it with `apt-get install ffmpeg` (Debian, Ubuntu) or `brew install ffmpeg` (macOS)"


def find_ffprobe(ffprobe: str | os.PathLike[str] | None = None) -> str:
    """The ffprobe to run: `ffprobe` if given (a name on PATH or a path), else $LTO_ARCHIVE_FFPROBE,
    else `ffprobe` on PATH. ToolMissing naming the package when there is none."""
    name = os.fspath(ffprobe) if ffprobe else (os.environ.get("LTO_ARCHIVE_FFPROBE") or "ffprobe")
    found = shutil.which(name)
    if not found:
        raise ToolMissing(f"ffprobe not found ({name!r} is not an executable on PATH): the rushes report reads "
                          f"every clip's technical metadata with it; {INSTALL_HINT}",
                          tool="ffprobe", looked_for=name)
    return found


@dataclass
class ProbeResult:
    path: Path
    data: dict[str, Any] | None = None    # ffprobe's JSON document
    error: str | None = None              # why there is none

    @property
    def ok(self) -> bool:
        return self.data is not None


def run_ffprobe(path: str | os.PathLike[str], ffprobe: str | os.PathLike[str] | None = None,
                timeout: float = FFPROBE_TIMEOUT) -> ProbeResult:
    """ffprobe's view of one file. A file it cannot read gives `error` (its own message); a missing
    ffprobe raises ToolMissing. The file is named as `file:ABSOLUTE` so that no name (one starting
    with '-', or containing ':') is taken for an option or a protocol."""
    exe = find_ffprobe(ffprobe)
    p = Path(path)
    arg = "file:" + os.fspath(p.absolute())
    cmd = [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", arg]
    try:
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ToolMissing(f"ffprobe could not be run ({exe}): {INSTALL_HINT}", tool="ffprobe") from None
    except PermissionError as exc:
        raise ToolMissing(f"ffprobe could not be run ({exe}: {exc.strerror}): {INSTALL_HINT}",
                          tool="ffprobe") from None
    except subprocess.TimeoutExpired:
        return ProbeResult(p, error=f"ffprobe did not finish reading the file within {timeout:g} s")
    messages = cp.stderr.decode("utf-8", "replace").strip().replace(arg + ": ", "").splitlines()
    if cp.returncode != 0:
        detail = messages[-1] if messages else f"exit status {cp.returncode}"
        return ProbeResult(p, error=f"ffprobe cannot read it ({detail})")
    try:
        data = json.loads(cp.stdout.decode("utf-8", "replace"))
    except ValueError:
        return ProbeResult(p, error="ffprobe's output is not JSON")
    if not isinstance(data, dict) or not isinstance(data.get("format"), dict):
        return ProbeResult(p, error="ffprobe found no container format in it")
    if not isinstance(data.get("streams"), list):
        data["streams"] = []
    return ProbeResult(p, data=data)


# --- DPX headers ---------------------------------------------------------------

@dataclass
class DpxHeader:
    timecode: str | None = None
    frame_rate: Fraction | None = None
    rate_source: str | None = None


def _bcd_timecode(word: int) -> str | None:
    digits = [(word >> shift) & 0xF for shift in range(28, -4, -4)]
    if any(d > 9 for d in digits):
        return None
    h, m, s, f = (digits[i] * 10 + digits[i + 1] for i in range(0, 8, 2))
    return f"{h:02d}:{m:02d}:{s:02d}:{f:02d}"


def _plausible_rate(x: float) -> Fraction | None:
    if not math.isfinite(x) or not 1 <= x <= 1000:
        return None
    for exact in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(48000, 1001), Fraction(60000, 1001)):
        if abs(x - float(exact)) < 0.001:
            return exact
    return Fraction(round(x)) if abs(x - round(x)) < 0.001 else Fraction(x).limit_denominator(1001)


def read_dpx_header(path: Path) -> DpxHeader:
    """Timecode (TV header, offset 1920, BCD) and frame rate (TV header 1940, else film header 1724),
    when the header is long enough to hold them and they are set (all-ones means undefined)."""
    try:
        with open(path, "rb") as f:
            head = f.read(2048)
    except OSError:
        return DpxHeader()
    if len(head) < 32 or head[:4] not in (b"SDPX", b"XPDS"):
        return DpxHeader()
    bo = ">" if head[:4] == b"SDPX" else "<"
    (offset,) = struct.unpack_from(bo + "I", head, 4)      # image data offset = header length
    out = DpxHeader()
    if offset >= 1924 and len(head) >= 1924:
        (word,) = struct.unpack_from(bo + "I", head, 1920)
        if word != 0xFFFFFFFF:
            out.timecode = _bcd_timecode(word)
    if offset >= 1944 and len(head) >= 1944:
        (rate,) = struct.unpack_from(bo + "f", head, 1940)
        out.frame_rate = _plausible_rate(rate)
        out.rate_source = "DPX television header frame rate" if out.frame_rate else None
    if out.frame_rate is None and offset >= 1728 and len(head) >= 1728:
        (rate,) = struct.unpack_from(bo + "f", head, 1724)
        out.frame_rate = _plausible_rate(rate)
        out.rate_source = "DPX film header frame rate" if out.frame_rate else None
    return out


# --- interpretation ------------------------------------------------------------

@dataclass
class ProbeInfo:
    """What the file's metadata says, field by field."""

    container: Field
    codec: Field
    codec_name: str | None             # ffprobe's codec_name of the main stream
    codec_type: str | None             # "video", "audio", or None
    frame_rate: Field
    start_timecode: Field
    drop_frame: bool
    duration_seconds: Field            # value: Fraction of seconds
    duration_frames: Field
    resolution: Field
    audio: Field
    reel: Field                        # a reel name the file records (QuickTime tmcd, BWF sTAPE)
    scene: Field
    take: Field
    time_reference: int | None         # BWF samples since midnight
    sample_rate: int | None
    tags: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "QuickTime / MP4", "mxf": "MXF", "wav": "WAV", "w64": "Wave64",
               "aiff": "AIFF", "matroska,webm": "Matroska", "avi": "AVI", "mpegts": "MPEG-TS",
               "rf64": "RF64"}

_PRORES = {"apco": "ProRes 422 Proxy", "apcs": "ProRes 422 LT", "apcn": "ProRes 422", "apch": "ProRes 422 HQ",
           "ap4h": "ProRes 4444", "ap4x": "ProRes 4444 XQ", "aprn": "ProRes RAW", "aprh": "ProRes RAW HQ"}
_PRORES_PROFILE = {"proxy": "ProRes 422 Proxy", "lt": "ProRes 422 LT", "standard": "ProRes 422",
                   "hq": "ProRes 422 HQ", "4444": "ProRes 4444", "4444xq": "ProRes 4444 XQ",
                   "xq": "ProRes 4444 XQ"}


def _tags(d: dict[str, Any]) -> dict[str, str]:
    t = d.get("tags")
    return {str(k).lower(): str(v) for k, v in t.items()} if isinstance(t, dict) else {}


def _int(x: Any) -> int | None:
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def _frac(x: Any) -> Fraction | None:
    try:
        v = Fraction(str(x))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return v if v >= 0 else None


def codec_label(stream: dict[str, Any]) -> str:
    """"ProRes 422 HQ", "DNxHR LB", "H.264", "PCM 24-bit": the codec as a lab names it."""
    name = str(stream.get("codec_name") or "")
    tag = str(stream.get("codec_tag_string") or "").lower()
    profile = str(stream.get("profile") or "")
    if name == "prores" or tag in _PRORES:
        return _PRORES.get(tag) or _PRORES_PROFILE.get(profile.lower().replace(" ", ""), "ProRes")
    if name == "dnxhd":
        if profile.upper().startswith("DNXHR"):
            return "DNxHR " + profile[5:].strip()
        return "DNxHD"
    if name in ("h264", "hevc"):
        label = "H.264" if name == "h264" else "H.265"
        return f"{label} {profile}".strip() if profile and profile != "unknown" else label
    if name == "mpeg2video":
        return "MPEG-2" + (f" {profile}" if profile and profile != "unknown" else "")
    if name.startswith("pcm_"):
        bits = _int(stream.get("bits_per_raw_sample")) or _int(stream.get("bits_per_sample"))
        kind = "float" if name.startswith("pcm_f") else "bit"
        return f"PCM {bits}-{kind}" if bits else "PCM"
    if name == "dpx":
        bits = _int(stream.get("bits_per_raw_sample"))
        return f"DPX {bits}-bit" if bits else "DPX"
    return str(stream.get("codec_long_name") or name or "unknown codec")


@dataclass
class _Probed:
    """ffprobe's document, sorted for reading: the format, its tags, the streams by kind
    (attached cover pictures are not video), and the notes gathered on the way."""

    fmt: dict[str, Any]
    ftags: dict[str, str]
    streams: list[dict[str, Any]]
    video: list[dict[str, Any]]
    audio: list[dict[str, Any]]
    image: bool
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, data: dict[str, Any], image: bool) -> _Probed:
        fmt = data["format"]
        streams = [s for s in data["streams"] if isinstance(s, dict)]
        video = [s for s in streams if s.get("codec_type") == "video"
                 and not (s.get("disposition") or {}).get("attached_pic")]
        audio = [s for s in streams if s.get("codec_type") == "audio"]
        return cls(fmt, _tags(fmt), streams, video, audio, image)

    @property
    def main(self) -> dict[str, Any] | None:
        """The stream the codec is named from: the first video, else the first audio stream."""
        return self.video[0] if self.video else (self.audio[0] if self.audio else None)


def interpret(result: ProbeResult, *, image: bool = False) -> ProbeInfo:
    """Report fields from ffprobe's JSON (or, when it could not read the file, every field
    'not available' with ffprobe's reason). `image`: the file is one frame of a sequence."""
    if not result.ok:
        na = Field.na(result.error or "ffprobe cannot read it")
        return ProbeInfo(container=na, codec=na, codec_name=None, codec_type=None, frame_rate=na,
                         start_timecode=na, drop_frame=False, duration_seconds=na, duration_frames=na,
                         resolution=na, audio=na, reel=na, scene=na, take=na, time_reference=None,
                         sample_rate=None)
    p = _Probed.of(result.data or {}, image)
    main = p.main
    codec = (Field.of(codec_label(main), f"ffprobe stream {main.get('index')}") if main
             else Field.na("ffprobe finds no video or audio stream"))
    frame_rate, rate = _frame_rate(p)
    candidates = _timecode_candidates(p)
    start_timecode, drop = _start_timecode(p, candidates, rate)
    duration_seconds, duration_frames = _duration(p, rate)
    reel, scene, take = _slate(p, candidates)
    return ProbeInfo(container=_container(p), codec=codec,
                     codec_name=str(main.get("codec_name")) if main else None,
                     codec_type=str(main.get("codec_type")) if main else None, frame_rate=frame_rate,
                     start_timecode=start_timecode, drop_frame=drop, duration_seconds=duration_seconds,
                     duration_frames=duration_frames, resolution=_resolution(p), audio=_audio_tracks(p),
                     reel=reel, scene=scene, take=take, time_reference=_int(p.ftags.get("time_reference")),
                     sample_rate=_int(p.audio[0].get("sample_rate")) if p.audio else None,
                     tags=p.ftags, notes=p.notes)


def _container(p: _Probed) -> Field:
    fname = str(p.fmt.get("format_name") or "")
    name = _CONTAINERS.get(fname) or str(p.fmt.get("format_long_name") or fname) or None
    if fname.startswith("mov") and p.ftags.get("major_brand", "").strip() not in ("", "qt"):
        name = f"MP4 ({p.ftags['major_brand'].strip()})"
    if fname == "wav" and "time_reference" in p.ftags:
        name = "Broadcast WAV (BWF)"
    return Field.of(name, "ffprobe format") if name else Field.na("ffprobe names no format")


def _frame_rate(p: _Probed) -> tuple[Field, Fraction | None]:
    """The frame rate field, and the rate itself when the file gives one."""
    if p.image:
        return Field.na("image files do not give ffprobe a frame rate (its 25 is a default, not read "
                        "from the file)"), None
    if not p.video:
        return Field.na("audio only: no frame rate in the file"), None
    v = p.video[0]
    r, avg = ffprobe_rate(v.get("r_frame_rate")), ffprobe_rate(v.get("avg_frame_rate"))
    rate = r or avg
    if r and avg and r != avg:
        p.notes.append(f"variable frame rate? ffprobe gives r_frame_rate {rate_display(r)} and "
                       f"avg_frame_rate {rate_display(avg)}; the report uses {rate_display(r)}")
    if not rate:
        return Field.na("ffprobe gives no frame rate for the video stream"), None
    return Field.of(rate, f"ffprobe stream {v.get('index')} {'r_frame_rate' if r else 'avg_frame_rate'}"), rate


def _timecode_candidates(p: _Probed) -> list[tuple[dict[str, str], str]]:
    """Every place a timecode (or reel name) may be tagged, most trusted first, with its source."""
    candidates: list[tuple[dict[str, str], str]] = []
    if p.video:
        candidates.append((_tags(p.video[0]), f"ffprobe stream {p.video[0].get('index')} tag timecode"))
    for s in p.streams:
        if s.get("codec_type") == "data" and str(s.get("codec_tag_string")) == "tmcd":
            candidates.append((_tags(s), f"ffprobe timecode track (stream {s.get('index')})"))
    candidates.append((p.ftags, "ffprobe format tag timecode"))
    for s in p.streams:
        candidates.append((_tags(s), f"ffprobe stream {s.get('index')} tag timecode"))
    return candidates


def _start_timecode(p: _Probed, candidates: list[tuple[dict[str, str], str]],
                    rate: Fraction | None) -> tuple[Field, bool]:
    """The start timecode field (checked against the frame rate) and whether it is drop-frame."""
    tc_text, tc_source = None, None
    found: list[tuple[str, str]] = [(t["timecode"], src) for t, src in candidates if t.get("timecode")]
    if found:
        tc_text, tc_source = found[0]
        others = {t for t, _ in found if t != tc_text}
        if others:
            p.notes.append(f"the file holds other timecodes too ({', '.join(sorted(others))}); "
                           f"the report uses {tc_text} ({tc_source})")
    if tc_text and rate:
        try:
            frames, drop = parse_timecode(tc_text, rate)
            return Field.of(format_timecode(frames, rate, drop), tc_source or "ffprobe"), drop
        except ValueError as exc:
            return Field.na(f"{tc_source}: {exc}"), False
    if tc_text:
        return Field.of(tc_text, f"{tc_source} (not checked: no frame rate)"), False
    if p.video and not p.image:
        return Field.na("no timecode in the file (no timecode tag, no timecode track)"), False
    if p.image:
        return Field.na("ffprobe reads no timecode from image files"), False
    return Field.na("no timecode in the file"), False   # audio: see time_reference


def _duration(p: _Probed, rate: Fraction | None) -> tuple[Field, Field]:
    """The duration in seconds and in frames."""
    if p.image:
        return (Field.na("one frame of a sequence: see the frame count"),
                Field.na("one frame of a sequence: see the frame count"))
    if p.video:
        return _video_duration(p, p.video[0], rate)
    if p.audio:
        a = p.audio[0]
        dts, tb = _int(a.get("duration_ts")), _frac(a.get("time_base"))
        secs: Fraction | None
        if tb and dts:
            secs, src = tb * dts, "ffprobe audio duration_ts"
        else:
            secs = _frac(a.get("duration")) or _frac(p.fmt.get("duration"))
            src = "ffprobe duration"
        return (Field.of(secs, src) if secs is not None else Field.na("ffprobe gives no duration"),
                Field.na("audio only: no frames (the frame count needs a frame rate)"))
    na = Field.na("no video or audio stream")
    return na, na


def _video_duration(p: _Probed, v: dict[str, Any], rate: Fraction | None) -> tuple[Field, Field]:
    """A video's duration: its frame count when there is one (noting a disagreeing duration),
    else its duration times the frame rate."""
    nb = _int(v.get("nb_frames"))
    tb, dts = _frac(v.get("time_base")), _int(v.get("duration_ts"))
    secs = (tb * dts) if (tb and dts) else _frac(v.get("duration")) or _frac(p.fmt.get("duration"))
    src = ("ffprobe stream duration_ts" if (tb and dts) else
           "ffprobe stream duration" if _frac(v.get("duration")) else "ffprobe format duration")
    if nb and rate:
        duration_frames = Field.of(nb, f"ffprobe stream {v.get('index')} nb_frames")
        if secs is not None and abs(secs - Fraction(nb) / rate) > 1 / rate:
            p.notes.append(f"ffprobe's duration ({float(secs):.3f} s) and frame count ({nb} frames at "
                           f"{rate_display(rate)} fps) disagree by more than a frame")
        secs, src = Fraction(nb) / rate, f"{nb} frames at {rate_display(rate)} fps"
    elif secs is not None and rate:
        duration_frames = Field.of(round(secs * rate), f"{src} x frame rate")
    else:
        duration_frames = Field.na("ffprobe gives neither a frame count nor a duration and rate")
    return (Field.of(secs, src) if secs is not None else Field.na("ffprobe gives no duration")), duration_frames


def _resolution(p: _Probed) -> Field:
    if p.video and _int(p.video[0].get("width")) and _int(p.video[0].get("height")):
        return Field.of(f"{p.video[0]['width']}x{p.video[0]['height']}", "ffprobe stream width, height")
    if p.video:
        return Field.na("ffprobe gives no picture size")
    return Field.na("no picture (audio only)")


def _audio_tracks(p: _Probed) -> Field:
    """Each audio stream as channels, sample rate and bits."""
    if not p.audio:
        return Field.of("none", "ffprobe: no audio stream")
    parts = []
    for a in p.audio:
        ch = _int(a.get("channels"))
        sr = _int(a.get("sample_rate"))
        bits = _int(a.get("bits_per_raw_sample")) or _int(a.get("bits_per_sample"))
        desc = f"{ch} ch" if ch else "? ch"
        if sr:
            desc += f" {sr / 1000:g} kHz"
        if bits:
            desc += f" {bits}-bit"
        parts.append(desc)
    if len(parts) > 1:
        return Field.of(f"{len(parts)} tracks: " + ", ".join(parts), "ffprobe audio streams")
    return Field.of(parts[0], "ffprobe audio stream")


def _slate(p: _Probed, candidates: list[tuple[dict[str, str], str]]) -> tuple[Field, Field, Field]:
    """What the file records about itself: reel (QuickTime tmcd name, BWF sTAPE), scene, take."""
    reel = Field.na("the file records no reel name")
    for t, _src in candidates:
        if t.get("reel_name"):
            reel = Field.of(t["reel_name"], "ffprobe tag reel_name")
            break
    scene = take = Field.na("the file records no scene or take")
    bwf = _bwf_description(p.ftags.get("comment") or p.ftags.get("description") or "")
    if bwf.get("stape"):
        reel = Field.of(bwf["stape"], "BWF description sTAPE")
    if bwf.get("sscene"):
        scene = Field.of(bwf["sscene"], "BWF description sSCENE")
    if bwf.get("stake"):
        take = Field.of(bwf["stake"], "BWF description sTAKE")
    return reel, scene, take


def _bwf_description(text: str) -> dict[str, str]:
    """Sound Devices / iXML-style `sSCENE=12A` lines in a BWF description, keys lower-cased."""
    out: dict[str, str] = {}
    for line in text.replace("\r", "\n").split("\n"):
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() in ("sscene", "stake", "stape", "snote") and value.strip():
            out[key.strip().lower()] = value.strip()
    return out


def bwf_timecode(time_reference: int, sample_rate: int, rate: Fraction) -> tuple[str, int]:
    """A BWF time reference (samples since midnight) as timecode at `rate` (non-drop-frame), and
    the samples past the last whole frame (0 when it falls on a frame)."""
    exact = Fraction(time_reference) * rate / sample_rate
    frames = math.floor(exact)
    rest = round((exact - frames) * sample_rate / rate)
    return format_timecode(frames, rate), rest


def time_of_day(time_reference: int, sample_rate: int) -> str:
    return clock(Fraction(time_reference, sample_rate))
