"""Sizes the user types (issue 16): capacities and amounts of data are decimal, as tape vendors quote
them; binary only when said (20GiB); block and record sizes are binary by nature (512K = 524288)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lto_archive as lto

from .bad_input_helpers import run


@pytest.mark.parametrize("text, want", [
    ("20G", 20_000_000_000), ("20GB", 20_000_000_000), ("20 gb", 20_000_000_000), ("18T", 18 * 10**12),
    ("1.5T", 1_500_000_000_000), ("100M", 100_000_000), ("1536K", 1_536_000), ("4096", 4096),
    ("20GiB", 20 * 2**30), ("1MiB", 2**20), ("64kib", 64 * 1024), (12345, 12345),
])
def test_capacities_are_decimal_unless_binary_is_said(text: str | int, want: int) -> None:
    assert lto.parse_capacity(text) == want


@pytest.mark.parametrize("text, want", [
    ("512K", 524_288), ("512KiB", 524_288), ("512KB", 524_288), ("1M", 2**20), ("64k", 65_536), ("4096", 4096),
])
def test_block_sizes_are_binary(text: str, want: int) -> None:
    assert lto.parse_size(text) == want


@pytest.mark.parametrize("text", ["", "G", "20X", "20iB", "20GI", "-1G", "twenty"])
def test_not_a_size_is_a_usage_error(text: str) -> None:
    with pytest.raises(lto.UsageError):
        lto.parse_capacity(text)
    with pytest.raises(lto.UsageError):
        lto.parse_size(text)


def test_api_cartridge_capacity_is_decimal(tmp_path: Path) -> None:
    with lto.create_vtape(tmp_path / "a", capacity="20M") as dev:
        assert dev.medium().capacity == 20_000_000
    with lto.create_vtape(tmp_path / "b", capacity="20MiB") as dev:
        assert dev.medium().capacity == 20 * 2**20


def test_vtape_create_shows_decimal_with_binary_in_brackets(tmp_path: Path) -> None:
    cp = run("vtape", "create", tmp_path / "t", "--capacity", "20G", check=0)
    assert "20.0 GB (18.6 GiB)" in cp.stdout and "21.5 GB" not in cp.stdout, cp.stdout
    doc = json.loads(run("vtape", "create", tmp_path / "u", "--capacity", "20GiB", "--json", check=0).stdout)
    assert doc["capacity"] == 20 * 2**30
    cp = run("info", "--device", f"vtape:{tmp_path / 't'}", check=0)
    assert "20.0 GB (18.6 GiB)" in cp.stdout, cp.stdout


def test_vlib_create_shows_the_capacity_decimal(tmp_path: Path) -> None:
    cp = run("vlib", "create", tmp_path / "lib", "--slots", "2", "--capacity", "100M", check=0)
    assert "100.0 MB (95.4 MiB)" in cp.stdout, cp.stdout


def test_help_says_the_convention() -> None:
    for cmd in (["vtape", "create"], ["vlib", "create"], ["write"]):
        out = " ".join(run(*cmd, "--help", check=0).stdout.split())
        assert "decimal" in out, (cmd, out)
    out = " ".join(run("write", "--help", check=0).stdout.split())
    assert "binary: 512K = 524,288 bytes" in out
