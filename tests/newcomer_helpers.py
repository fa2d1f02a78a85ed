"""What the newcomer tests (issue 16) share: a command run as a user types it, and a small camera card."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from lto_archive_cli.main import cli


def run(*args: str, code: int = 0) -> Result:
    """`lto-archive ARGS`, which must exit `code`."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    return result


def make_card(root: Path, files: int = 3) -> Path:
    """A card A001_C007 with `files` small clips (distinct bytes) under `root`."""
    clips = root / "A001_C007" / "CLIPS"
    clips.mkdir(parents=True)
    for i in range(files):
        (clips / f"A001C00{i}.mov").write_bytes(bytes([i + 1]) * (4000 + i))
    return root / "A001_C007"
