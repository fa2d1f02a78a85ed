"""Grouping a card's files into clips: frame folders and RED folders are one clip each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lto_archive.errors import SourceError
from lto_archive.report import build_report, group_clips
from tests.conftest import require_tool

from .helpers import CARDS, DPX_DIR, MEDIA, MXF, RDM


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_dpx_folder_is_one_clip_with_its_frames() -> None:
    clips, others = group_clips([MEDIA / "C003"])
    assert others == [] and len(clips) == 1
    c = clips[0]
    assert (c.name, c.kind, c.path) == ("C003C001_230101_R2CD", "sequence", "C003/C003C001_230101_R2CD")
    assert c.frames.count == 5 and (c.frames.first, c.frames.last) == (86400, 86404) and c.frames.missing == []
    assert [f.path.rsplit("/", 1)[-1] for f in c.files] == sorted(p.name for p in DPX_DIR.iterdir())
    assert c.folders == ["C003"]


def test_red_rdc_folder_is_one_clip_with_its_sidecar() -> None:
    clips, others = group_clips([RDM])
    assert others == [] and len(clips) == 1
    c = clips[0]
    assert (c.name, c.kind) == ("D001_C007_0101RX", "red")
    assert [(f.path, f.role) for f in c.files] == [
        ("D001_0101RX.RDM/D001_C007_0101RX.RDC/D001_C007_0101RX_001.R3D", "media"),
        ("D001_0101RX.RDM/D001_C007_0101RX.RDC/D001_C007_0101RX.RMD", "sidecar")]
    assert c.probe_path.suffix == ".R3D"


def test_sidecar_named_after_its_clip() -> None:
    clips, others = group_clips([MXF.parent])
    assert others == [] and len(clips) == 1
    assert [f.role for f in clips[0].files] == ["media", "sidecar"]
    assert clips[0].files[1].path == "B002/B002C005_230101XYM01.XML"


def test_every_fixture_file_is_in_a_clip_or_listed() -> None:
    clips, others = group_clips([MEDIA])
    listed = {f.path for c in clips for f in c.files} | {f.path for f in others}
    on_disk = {str(p.relative_to(MEDIA.parent)) for p in MEDIA.rglob("*") if p.is_file()}
    assert listed == on_disk
    assert [f.path for f in others] == ["media/README.md"]
    assert len(clips) == 5 and len(group_clips(CARDS)[0]) == 5


def test_sequences_raw_frames_spans_and_other_files(tmp_path: Path) -> None:
    card = tmp_path / "A002R2CD"
    # ARRIRAW frame folder with frame 5 missing
    for n in (1, 2, 3, 4, 6, 7):
        _touch(card / "A002C003_230102_R2CD" / f"A002C003_230102_R2CD.{n:07d}.ari", b"a" * n)
    # two EXR sequences in one folder: one clip each, named after their prefix
    for n in range(3):
        _touch(card / "VFX" / f"shotA_v1.{n:04d}.exr")
        _touch(card / "VFX" / f"shotB_v1_{n:04d}.exr")
    _touch(card / "VFX" / "still_0001.png")                     # a lone numbered image: a clip of its own
    # a RED clip spanned over two segments
    rdc = card / "A002_0102XY.RDM" / "A002_C004_0102XY.RDC"
    for seg in ("001", "002"):
        _touch(rdc / f"A002_C004_0102XY_{seg}.R3D")
    _touch(card / "A002R2CD.ale")                               # card-level sidecar: no clip of that name
    _touch(card / ".DS_Store")
    _touch(card / "A002C003_230102_R2CD.xml")                   # belongs to the frame folder next to it
    _touch(card / "A002C003_230102_R2CD" / "notes.txt")         # in a clip folder but no sidecar type
    os.symlink("/etc/passwd", card / "link.mov")                 # listed, never followed
    clips, others = group_clips([card])
    byname = {c.name: c for c in clips}
    assert sorted(byname) == ["A002C003_230102_R2CD", "A002_C004_0102XY", "shotA_v1", "shotB_v1", "still_0001"]
    ari = byname["A002C003_230102_R2CD"]
    assert ari.kind == "sequence" and ari.frames.count == 6 and ari.frames.missing == [5]
    assert [f.path for f in ari.files if f.role == "sidecar"] == ["A002R2CD/A002C003_230102_R2CD.xml"]
    assert byname["shotA_v1"].frames.count == 3 and byname["shotA_v1"].path == "A002R2CD/VFX/shotA_v1.[0-2].exr"
    assert byname["shotB_v1"].frames.count == 3
    assert byname["still_0001"].kind == "file"
    red = byname["A002_C004_0102XY"]
    assert [f.role for f in red.files] == ["media", "media"]
    assert sorted(f.path for f in others) == sorted([
        "A002R2CD/.DS_Store", "A002R2CD/A002R2CD.ale", "A002R2CD/A002C003_230102_R2CD/notes.txt",
        "A002R2CD/link.mov"])


def test_raw_sequence_report_says_raw_and_not_available(tmp_path: Path) -> None:
    require_tool("ffprobe")
    card = tmp_path / "A002R2CD"
    for n in (1, 2, 3, 4, 6, 7):
        _touch(card / "A002C003_230102_R2CD" / f"A002C003_230102_R2CD.{n:07d}.ari", b"not arriraw")
    report = build_report([card])
    c = report.clips[0]
    assert c.file_type.value == "RAW" and c.codec.value == "ARRIRAW" and ".ari" in c.codec.source
    assert c.duration_frames.value == 6
    assert not c.frame_rate.available and not c.start_timecode.available
    assert any("1 frame(s) missing" in n and "5" in n for n in c.notes)
    assert c.card.value == "A002R2CD" and c.camera.value == "A" and c.reel.value == "A002"


def test_red_report_fields_not_available_with_a_reason() -> None:
    require_tool("ffprobe")
    report = build_report([RDM])
    c = report.clips[0]
    assert c.card.value == "D001_0101RX" and c.camera.value == "D" and c.reel.value == "D001"
    assert c.clip_number.value == "007" and c.file_type.value == "RAW"
    for attr in ("start_timecode", "end_timecode", "frame_rate", "duration", "duration_frames", "duration_seconds",
                 "resolution", "audio", "container"):
        f = getattr(c, attr)
        assert f.value is None and f.reason, attr
    assert "ffprobe cannot read it" in c.start_timecode.reason
    assert "ffprobe cannot read it" in c.frame_rate.reason
    assert report.totals()["clips_without_duration"] == 1


def test_card_ids_from_folders(tmp_path: Path) -> None:
    require_tool("ffprobe")
    report = build_report(CARDS)
    assert {c.name: c.card.value for c in report.clips} == {
        "A001C002_230101_R1AB": "A001R1AB", "B002C005_230101XY": "B002", "C003C001_230101_R2CD": "C003",
        "D001_C007_0101RX": "D001_0101RX", "012A_T03": "SOUND_001"}
    # a clip given on its own: its card folder is the folder holding it, when it looks like one
    assert build_report([MXF]).clips[0].card.value == "B002"
    # a folder that does not look like a card: the source folder's name, said so
    day = tmp_path / "DAY_01" / "stuff"
    day.mkdir(parents=True)
    (day / "B002C005_230101XY.mxf").write_bytes(MXF.read_bytes())
    c = build_report([tmp_path / "DAY_01"]).clips[0]
    assert c.card.value == "DAY_01" and "no folder name matches" in c.card.source


def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        group_clips([])
    with pytest.raises(SourceError, match="does not exist"):
        group_clips([tmp_path / "nope"])
    (tmp_path / "a" / "A001").mkdir(parents=True)
    (tmp_path / "b" / "A001").mkdir(parents=True)
    with pytest.raises(SourceError, match="same name"):
        group_clips([tmp_path / "a" / "A001", tmp_path / "b" / "A001"])
