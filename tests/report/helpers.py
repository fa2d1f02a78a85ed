"""Shared by the rushes-report tests: the committed media fixtures and their known values."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from tests.conftest import FIXTURES

MEDIA = FIXTURES / "media"
MOV = MEDIA / "A001R1AB" / "A001C002_230101_R1AB.mov"
MXF = MEDIA / "B002" / "B002C005_230101XY.mxf"
WAV = MEDIA / "SOUND_001" / "012A_T03.wav"
DPX_DIR = MEDIA / "C003" / "C003C001_230101_R2CD"
RDM = MEDIA / "D001_0101RX.RDM"
RDC = RDM / "D001_C007_0101RX.RDC"
CARDS = [MEDIA / "A001R1AB", MEDIA / "B002", MEDIA / "SOUND_001", MEDIA / "C003", RDM]

NTSC24 = Fraction(24000, 1001)


def by_name(report, name):  # type: ignore[no-untyped-def]
    """The report's clip called `name`."""
    found = [c for c in report.clips if c.name == name]
    assert len(found) == 1, [c.name for c in report.clips]
    return found[0]


def fake_tool(folder: Path, name: str, script: str) -> Path:
    """An executable shell script standing in for a tool."""
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text("#!/bin/sh\n" + script + "\n")
    p.chmod(0o755)
    return p
