"""A catalog with real jobs in it for the web view: a card written to a virtual tape, read back, recorded."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive import add_web_user
from lto_archive_cli.main import cli

CLIPS = ("A001C007_210315_R1AB.mov", "A001C008_210315_R1AB.mov", "A001C009_210315_R1AB.wav")


@dataclass
class Archive:
    catalog: str
    tape: Path
    card: Path


def make_archive(root: Path, catalog: str) -> Archive:
    rng = random.Random(5)
    card = root / "A001_C007"
    card.mkdir(parents=True)
    for name in CLIPS:
        (card / name).write_bytes(rng.randbytes(20_000))
    runner = CliRunner()
    tape = root / "WEB001"
    for args in (["vtape", "create", str(tape), "--barcode", "WEB001L9"],
                 ["write", str(card), "--device", f"vtape:{tape}", "--catalog", catalog, "--no-progress",
                  "--log-dir", str(root / "logs"), "--production", "Feature One"],
                 ["catalog", "set-location", "WEB001L9", "Vault, shelf 3", "--catalog", catalog]):
        res = runner.invoke(cli, args)
        assert res.exit_code == 0, res.output
    add_web_user("olive", "operator-pass", "operator", catalog=catalog)
    add_web_user("victor", "viewer-pass", "viewer", catalog=catalog)
    return Archive(catalog, tape, card)


@pytest.fixture
def archive(tmp_path: Path, catalog_url: str) -> Archive:
    """The same archive on each engine (SQLite, PostgreSQL)."""
    os.environ.pop("LTO_ARCHIVE_NOW", None)
    return make_archive(tmp_path, catalog_url)


@pytest.fixture
def pg_archive(tmp_path: Path, pg_url: str) -> Archive:
    return make_archive(tmp_path, pg_url)
