"""docs/audit.md and docs/metrics.md name only commands and options that exist (each `$ lto-archive ...` line is
parsed by the real command line, with --help so nothing runs)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from lto_archive_cli.main import cli

DOCS = Path(__file__).resolve().parents[2] / "docs"


def commands(name: str) -> list[list[str]]:
    lines = [line.strip() for line in (DOCS / name).read_text().splitlines()]
    return [shlex.split(line)[2:] for line in lines if line.startswith("$ lto-archive ")]


@pytest.mark.parametrize("name", ["audit.md", "metrics.md"])
def test_documented_commands_parse(name: str) -> None:
    found = commands(name)
    assert len(found) >= (8 if name == "audit.md" else 1)
    for args in found:
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output
