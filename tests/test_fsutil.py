"""The one atomic-write helper: whole or nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lto_archive.fsutil import atomic_write


def test_writes_bytes_and_text_with_mode(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.bin", b"\x00\x01")
    atomic_write(tmp_path / "b.txt", "é\n", mode=0o600)
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_bytes() == "é\n".encode()
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "b.txt"]


def test_replaces_an_existing_file(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_text("old")
    atomic_write(p, "new", fsync=False)
    assert p.read_text() == "new"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    p = tmp_path / "log.txt"
    p.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(p, "\udcff", encoding="utf-8")      # a lone surrogate cannot be encoded strictly
    assert p.read_text() == "old"
    assert os.listdir(tmp_path) == ["log.txt"]


def test_a_missing_folder_is_an_oserror_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "no" / "such.txt", "x")
    assert os.listdir(tmp_path) == []
