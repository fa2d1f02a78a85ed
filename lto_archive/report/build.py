"""Build a digital rushes report (CST RT-030 2.3.2) from camera cards."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from fractions import Fraction
from pathlib import Path

from typing import TYPE_CHECKING

from ..version import __version__
from .clips import AUDIO_EXT, FRAME_EXT, ClipGroup, group_clips, raw_label
from .copies import add_copies
from .model import ClipReport, Field, Report
from .naming import NamingConvention, naming_convention
from .probe import (FFPROBE_TIMEOUT, ProbeInfo, bwf_timecode, find_ffprobe, interpret, read_dpx_header,
                    run_ffprobe, time_of_day)
from .timecode import clock, format_timecode, parse_rate, parse_timecode, rate_display

if TYPE_CHECKING:
    from ..catalog.store import Catalog

_NAME_FIELDS = (("camera", "camera"), ("reel", "reel"), ("clip_number", "clip"), ("scene", "scene"),
                ("shot", "shot"), ("take", "take"), ("date", "date"))


def ffprobe_version(exe: str) -> str:
    try:
        cp = subprocess.run([exe, "-version"], capture_output=True, timeout=10, check=False,
                            stdin=subprocess.DEVNULL)
        first = cp.stdout.decode("utf-8", "replace").splitlines()[:1]
    except (OSError, subprocess.TimeoutExpired):
        return "ffprobe"
    words = first[0].split() if first else []
    return f"ffprobe {words[2]}" if len(words) > 2 and words[0] == "ffprobe" else "ffprobe"


def build_report(sources: list[str | os.PathLike[str]], *, naming: NamingConvention | str | Path | None = None,
                 rate: str | Fraction | int | None = None, production: str | None = None,
                 operator: str | None = None, catalog: "str | os.PathLike[str] | Catalog | None" = None,
                 ffprobe: str | os.PathLike[str] | None = None, timeout: float = FFPROBE_TIMEOUT,
                 workers: int | None = None, created: datetime | None = None) -> Report:
    """Group the sources' files into clips, read each clip's metadata with ffprobe, and name its
    camera, card, reel, scene, shot and take from the naming convention.

    `rate` is the project frame rate: used, and marked as assumed, only for clips whose files
    record none (a WAV's BWF time reference as timecode, a frame sequence's duration in seconds).
    Without it, the rate every video clip of the report shares is assumed (and said so).
    `catalog` (a path, or an open lto_archive.catalog.Catalog): each clip's copies, the tapes
    and folders holding its files and whether they were verified (report.copies); a path must
    name an existing catalog.
    """
    convention = naming if isinstance(naming, NamingConvention) else naming_convention(naming)
    project = parse_rate(rate) if rate is not None else None
    exe = find_ffprobe(ffprobe)                     # before any work: a clear error if it is missing
    from ..catalog.store import Catalog
    cat = catalog if isinstance(catalog, Catalog) or catalog is None else Catalog.open(catalog, create=False)
    try:
        rep = _build(sources, convention, project, exe, timeout, workers, production, operator, created)
        if cat is not None:
            add_copies(rep, cat)
            rep.catalog = os.fspath(cat.path)
    finally:
        if cat is not None and cat is not catalog:
            cat.close()
    return rep


def _build(sources: list[str | os.PathLike[str]], convention: NamingConvention, project: Fraction | None, exe: str,
           timeout: float, workers: int | None, production: str | None, operator: str | None,
           created: datetime | None) -> Report:
    groups, others = group_clips([Path(s) for s in sources])

    def probe(g: ClipGroup) -> ProbeInfo:
        return interpret(run_ffprobe(g.probe_path, exe, timeout), image=g.kind == "sequence" or g.ext in FRAME_EXT)

    n = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(1, n)) as pool:
        infos = list(pool.map(probe, groups))

    clips = [_clip(g, info, convention) for g, info in zip(groups, infos)]

    # the project rate, for clips whose files record none
    if project is not None:
        project_rate = Field.of(project, "given with --rate")
    else:
        shared = {c.frame_rate.value for c in clips if c.frame_rate.available and not c.frame_rate.assumed}
        if len(shared) == 1:
            project_rate = Field.of(shared.pop(), "the frame rate every video clip of this report records",
                                    assumed=True)
        elif shared:
            project_rate = Field.na(f"not given (--rate), and the video clips record different rates "
                                    f"({', '.join(sorted(rate_display(r) for r in shared))})")
        else:
            project_rate = Field.na("not given (--rate), and no clip records a frame rate")
    for c, g, info in zip(clips, groups, infos):
        _fill_from_project_rate(c, g, info, project_rate)
        _finish_durations(c, info)

    seen: dict[str, str] = {}
    for c in clips:
        if c.name in seen:
            c.notes.append(f"another clip has the same name: {seen[c.name]}")
        else:
            seen[c.name] = c.path

    return Report(
        clips=clips, other_files=others, sources=[os.fspath(s) for s in sources],
        created=(created or datetime.now().astimezone()).isoformat(timespec="seconds"),
        generator=f"lto-archive {__version__}, {ffprobe_version(exe)}",
        production=production, operator=operator, catalog=None,
        naming=list(convention.texts), card_folder=convention.card_folder.pattern, project_rate=project_rate)


def _clip(g: ClipGroup, info: ProbeInfo, convention: NamingConvention) -> ClipReport:
    c = ClipReport(name=g.name, path=g.path, source=g.source, kind=g.kind, files=list(g.files), frames=g.frames)
    c.notes.extend(info.notes)
    c.container, c.codec, c.resolution, c.audio = info.container, info.codec, info.resolution, info.audio
    c.frame_rate, c.start_timecode = info.frame_rate, info.start_timecode
    c.duration_seconds, c.duration_frames = info.duration_seconds, info.duration_frames
    _file_type(c, g, info)
    if g.kind == "sequence":
        _sequence(c, g)
    if g.frames and g.frames.missing:
        c.notes.append(f"{len(g.frames.missing)} frame(s) missing between {g.frames.first} and {g.frames.last}: "
                       f"{g.frames.missing_text()}")

    # names
    parsed = convention.parse(g.name)
    label = "default" if convention.origin == "default" else convention.origin
    why = (f"the name {g.name!r} does not follow the naming convention" if not parsed
           else "the naming convention does not give it for this name")
    for attr, group in _NAME_FIELDS:
        if group in parsed:
            setattr(c, attr, Field.of(parsed[group], f"clip name ({label} naming convention)"))
        else:
            setattr(c, attr, Field.na(why))
    known = {group for _, group in _NAME_FIELDS} | {"card"}
    c.naming_extra = {k: v for k, v in parsed.items() if k not in known}
    for attr in ("reel", "scene", "take"):
        mine, theirs = getattr(c, attr), getattr(info, attr)
        setattr(c, attr, mine if mine.available else theirs if theirs.available
                else Field.na(f"{mine.reason}; {theirs.reason}"))
    c.card = _card(g, parsed, label, convention)
    return c


def _card(g: ClipGroup, parsed: dict[str, str], label: str, convention: NamingConvention) -> Field:
    if "card" in parsed:
        return Field.of(parsed["card"], f"clip name ({label} naming convention)")
    for folder in g.folders:
        if folder.lower().endswith(".rdm"):
            return Field.of(folder[:-4], "RED card folder (.RDM)")
    for folder in g.folders:
        if convention.is_card_folder(folder):
            return Field.of(folder, "card folder name")
    if g.source_parent and convention.is_card_folder(g.source_parent):
        return Field.of(g.source_parent, "card folder name (the folder holding the source)")
    if g.folders:
        return Field.of(g.folders[-1], "source folder name (no folder name matches the card-folder pattern)")
    return Field.na("the clip was given on its own, not in a card folder, and its name gives no card")


def _file_type(c: ClipReport, g: ClipGroup, info: ProbeInfo) -> None:
    ext = g.ext
    raw = raw_label(ext)
    codec = info.codec_name or ""
    if raw:
        c.file_type = Field.of("RAW", f"file extension {ext}")
        if not c.codec.available:
            c.codec = Field.of(raw, f"file extension {ext} ({c.codec.reason})")
        return
    if not info.container.available and info.codec_name is None:
        if ext in AUDIO_EXT:
            c.file_type = Field.of("Audio", f"file extension {ext}")
        else:
            c.file_type = Field.na(c.container.reason or "ffprobe cannot read it")
        return
    tags = info.tags
    if g.kind == "sequence":
        kind = "Image sequence"
    elif codec == "prores" and str(c.codec.value).startswith("ProRes RAW"):
        kind = "RAW"
    elif codec == "prores":
        kind = "ProRes"
    elif codec == "dnxhd":
        kind = "DNx"
    elif codec in ("h264", "hevc") and (tags.get("major_brand", "").strip().upper().startswith("XAVC")
                                        or ("sony" in tags.get("company_name", "").lower()
                                            and str(c.container.value) == "MXF")):
        kind = "XAVC"
    elif codec == "h264":
        kind = "H.264"
    elif codec == "hevc":
        kind = "H.265"
    elif codec == "mpeg2video":
        kind = "MPEG-2"
    elif info.codec_type == "audio":
        kind = "Audio"
    elif ext in FRAME_EXT:
        kind = "Image"
    else:
        kind = "Other"
    c.file_type = Field.of(kind, "ffprobe codec" if kind != "Image sequence" else "numbered frames in one folder")


def _sequence(c: ClipReport, g: ClipGroup) -> None:
    """A frame folder: the frame count is its duration; DPX headers may say rate and timecode."""
    assert g.frames is not None
    c.duration_frames = Field.of(g.frames.count, "frames in the folder")
    if c.container.available:
        c.container = Field.of(f"{g.ext[1:].upper()} frames", "numbered frames in one folder")
    c.start_timecode = Field.na("the frames record no timecode ffprobe reads")
    c.frame_rate = Field.na("the frames record no frame rate")
    c.duration_seconds = Field.na("the frames record no frame rate")
    if g.ext != ".dpx":
        return
    head = read_dpx_header(g.probe_path)
    first = g.files[0].path.rsplit("/", 1)[-1]
    if head.frame_rate:
        c.frame_rate = Field.of(head.frame_rate, f"{head.rate_source} of {first}")
    else:
        c.frame_rate = Field.na(f"the DPX header of {first} records no frame rate")
    if head.timecode:
        c.start_timecode = Field.of(head.timecode, f"DPX television header timecode of {first}")
    else:
        c.start_timecode = Field.na(f"the DPX header of {first} records no timecode")


def _fill_from_project_rate(c: ClipReport, g: ClipGroup, info: ProbeInfo, project: Field) -> None:
    """Values that need a frame rate the files do not record: at the project rate, marked assumed."""
    rate: Fraction | None = project.value
    why = f"{rate_display(rate)} fps, the project rate ({project.source})" if rate else None
    # a WAV's BWF time reference: samples since midnight
    if info.time_reference is not None and info.sample_rate and not c.start_timecode.available:
        tr, sr = info.time_reference, info.sample_rate
        if rate:
            tc, rest = bwf_timecode(tr, sr, rate)
            c.start_timecode = Field.of(tc, f"BWF time_reference {tr} samples at {sr} Hz ({time_of_day(tr, sr)}) "
                                            f"written as timecode at {why}: the file records no frame rate",
                                        assumed=True)
            if rest:
                c.notes.append(f"the BWF time reference falls {rest} samples after the start of frame {tc}")
            secs = c.duration_seconds.value
            if secs is not None:
                end = tr + round(Fraction(secs) * sr)
                c.end_timecode = Field.of(bwf_timecode(end, sr, rate)[0],
                                          f"BWF time_reference + duration, at {why}", assumed=True)
        else:
            c.start_timecode = Field.na(f"the BWF time reference is {time_of_day(tr, sr)} ({tr} samples at {sr} Hz), "
                                        f"but no frame rate is known to write it as timecode ({project.reason}); "
                                        f"give the project rate with --rate")
    elif info.time_reference is None and info.codec_type == "audio" and not c.start_timecode.available \
            and info.container.available:
        c.start_timecode = Field.na("no timecode in the file (no BWF time reference)")
    # a frame sequence without a rate in its headers
    if g.kind == "sequence" and not c.frame_rate.available and rate:
        c.frame_rate = Field.of(rate, f"{why}: {c.frame_rate.reason}", assumed=True)


def _finish_durations(c: ClipReport, info: ProbeInfo) -> None:
    """Seconds from frames (or frames from seconds) where the rate is known; the end timecode
    (exclusive: start + duration, as edit systems count it); the duration as HH:MM:SS:FF."""
    rate: Fraction | None = c.frame_rate.value
    assumed = c.frame_rate.assumed
    frames = c.duration_frames.value
    if c.kind == "sequence" and frames is not None and rate and not c.duration_seconds.available:
        c.duration_seconds = Field.of(Fraction(frames) / rate, f"{frames} frames at {rate_display(rate)} fps"
                                      + (" (assumed rate)" if assumed else ""), assumed=assumed)
    secs = c.duration_seconds.value
    if isinstance(secs, Fraction):
        c.duration_seconds = Field(round(float(secs), 6), c.duration_seconds.source, None,
                                   c.duration_seconds.assumed)
    # duration as a timecode-style length
    drop = info.drop_frame
    if frames is not None and rate:
        c.duration = Field.of(format_timecode(frames, rate, drop), f"{frames} frames at {rate_display(rate)} fps",
                              assumed=assumed)
    elif secs is not None:
        c.duration = Field.of(clock(secs), c.duration_seconds.source or "duration", c.duration_seconds.assumed)
    else:
        c.duration = Field.na(c.duration_seconds.reason or c.duration_frames.reason or "no duration")
    # end timecode
    start = c.start_timecode
    if not start.available:
        c.end_timecode = Field.na("no start timecode")
        return
    if c.end_timecode.available:
        return                                   # a BWF end, counted in samples
    tc_rate = rate
    if tc_rate is None:
        c.end_timecode = Field.na("no frame rate to count the duration in frames")
        return
    if frames is None:
        c.end_timecode = Field.na(f"no duration in frames ({c.duration_frames.reason})")
        return
    try:
        first, drop = parse_timecode(str(start.value), tc_rate)
    except ValueError as exc:
        c.end_timecode = Field.na(str(exc))
        return
    c.end_timecode = Field.of(format_timecode(first + frames, tc_rate, drop),
                              "start timecode + duration (exclusive end, as edit systems count it)",
                              assumed=assumed or start.assumed)
