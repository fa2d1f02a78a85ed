"""Naming conventions: the default covers ARRI/Sony/RED and scene/take names; custom ones are regexes."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lto_archive.errors import UsageError
from lto_archive.report import naming_convention

DEFAULT = naming_convention()

letters = st.sampled_from(string.ascii_uppercase)


def num(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=string.digits, min_size=n, max_size=n)


@pytest.mark.parametrize("name, expected", [
    ("A001C002_230101_R1AB", {"camera": "A", "reel": "A001", "clip": "002", "date": "230101"}),
    ("A001_C002_0101AB", {"camera": "A", "reel": "A001", "clip": "002", "date": "0101"}),
    ("B002C005_230101XY", {"camera": "B", "reel": "B002", "clip": "005", "date": "230101"}),
    ("D001_C007_0101RX", {"camera": "D", "reel": "D001", "clip": "007", "date": "0101"}),
    ("A001C0012", {"camera": "A", "reel": "A001", "clip": "0012"}),
    ("012A_T03", {"scene": "012", "shot": "A", "take": "03"}),
    ("12B-T2", {"scene": "12", "shot": "B", "take": "2"}),
    ("SC12_SH3_TK4", {"scene": "12", "shot": "3", "take": "4"}),
    ("12_T3", {"scene": "12", "take": "3"}),
    ("holiday video", {}),
    ("A0001C002", {}),                    # four-digit reel: not the convention
])
def test_default_convention(name: str, expected: dict[str, str]) -> None:
    assert DEFAULT.parse(name) == expected


@given(cam=letters, reel=num(3), clip=st.one_of(num(3), num(4)), date=st.one_of(num(6), num(4)),
       suffix=st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=4))
def test_default_arri_sony_names(cam: str, reel: str, clip: str, date: str, suffix: str) -> None:
    name = f"{cam}{reel}C{clip}_{date}_R{suffix}"
    assert DEFAULT.parse(name) == {"camera": cam, "reel": cam + reel, "clip": clip, "date": date}


@given(cam=letters, reel=num(3), clip=num(3), date=num(4),
       suffix=st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2))
def test_default_red_names(cam: str, reel: str, clip: str, date: str, suffix: str) -> None:
    name = f"{cam}{reel}_C{clip}_{date}{suffix}"
    assert DEFAULT.parse(name) == {"camera": cam, "reel": cam + reel, "clip": clip, "date": date}


@given(scene=st.integers(1, 9999), shot=st.text(alphabet=string.ascii_uppercase, max_size=2),
       take=st.integers(1, 999), sep=st.sampled_from(["_", "-", ""]), word=st.sampled_from(["T", "TK", "TAKE"]))
def test_default_scene_take_names(scene: int, shot: str, take: int, sep: str, word: str) -> None:
    name = f"{scene:03d}{shot}{sep}{word}{take:02d}"
    got = DEFAULT.parse(name)
    assert got.get("scene") == f"{scene:03d}" and got.get("take") == f"{take:02d}"
    assert got.get("shot", "") == shot


@given(st.text(max_size=60))
def test_any_name_parses_without_error(name: str) -> None:
    got = DEFAULT.parse(name)
    assert set(got) <= {"camera", "reel", "card", "clip", "scene", "shot", "take", "date"}
    assert all(v and v in name for v in got.values())      # groups are slices of the name


CUSTOM = r"^(?P<production>[A-Z]{3})_SC(?P<scene>\d+)-(?P<shot>[A-Z])-T(?P<take>\d+)_CAM(?P<camera>[A-Z])$"


@given(prod=st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3), scene=st.integers(0, 10**4),
       shot=letters, take=st.integers(0, 500), cam=letters)
def test_custom_convention_extracts_its_groups(prod: str, scene: int, shot: str, take: int, cam: str) -> None:
    conv = naming_convention(CUSTOM)
    got = conv.parse(f"{prod}_SC{scene}-{shot}-T{take}_CAM{cam}")
    assert got == {"production": prod, "scene": str(scene), "shot": shot, "take": str(take), "camera": cam}
    assert conv.parse(f"{prod}_SC{scene}-{shot}-T{take}") == {}       # anchored: no partial match


def test_convention_file_with_card_folder(tmp_path: Path) -> None:
    f = tmp_path / "naming.txt"
    f.write_text("# our production's names\n\n"
                 r"^(?P<camera>[A-Z])(?P<reel>\d{3})_(?P<scene>\d+)_(?P<take>\d+)$" "\n"
                 r"^(?P<scene>\d+)T(?P<take>\d+)$" "\n"
                 r"card-folder: ^MAG\d+$" "\n")
    for spec in (f, f"@{f}"):
        conv = naming_convention(spec)
        assert conv.parse("B017_42_3") == {"camera": "B", "reel": "017", "scene": "42", "take": "3"}
        assert conv.parse("42T7") == {"scene": "42", "take": "7"}
        assert conv.is_card_folder("MAG12") and not conv.is_card_folder("A001")
        assert conv.origin == str(f) and len(conv.texts) == 2


def test_bad_conventions() -> None:
    with pytest.raises(UsageError, match="not a regular expression"):
        naming_convention("(?P<camera>[A-Z]")
    with pytest.raises(UsageError, match="none of the named groups"):
        naming_convention(r"^[A-Z]\d{3}")
    with pytest.raises(UsageError, match="cannot read"):
        naming_convention("@/nonexistent/naming.txt")
    with pytest.raises(UsageError, match="card folder"):
        naming_convention(None, card_folder="(")


def test_default_card_folders() -> None:
    for name in ("A001", "A001R1AB", "B002", "D001_0101RX.RDM", "SOUND_001", "SND-12"):
        assert DEFAULT.is_card_folder(name), name
    for name in ("DAY_01", "media", "A0001", "Clips"):
        assert not DEFAULT.is_card_folder(name), name
    assert re.compile(DEFAULT.card_folder.pattern)
