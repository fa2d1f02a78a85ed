"""A drive with no cartridge (tapevm with a changer: every drive starts empty): clear errors, exit 4."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lto_archive.errors import NoMedium
from lto_archive.devices import open_device

from ..bad_input_helpers import make_card, run

pytestmark = pytest.mark.tapevm


@pytest.fixture
def empty_drive() -> str:
    drives = os.environ.get("TAPEVM_DRIVES", "").split()
    if os.environ.get("TAPEVM") != "1" or not os.environ.get("TAPEVM_CHANGER") or not drives:
        pytest.skip("needs tapevm with a changer (its drives start empty)")
    if os.environ.get("LTO_ARCHIVE_TEST_EMPTY_DRIVE") != "1":
        pytest.skip("the drives of this VM may hold cartridges (set LTO_ARCHIVE_TEST_EMPTY_DRIVE=1 at boot)")
    return drives[0]


def test_commands_on_an_empty_drive_say_no_cartridge(empty_drive: str, tmp_path: Path) -> None:
    with pytest.raises(NoMedium, match=f"no cartridge in {empty_drive}"):
        open_device(empty_drive)
    card = make_card(tmp_path / "src")
    for args in (["write", card, "--device", empty_drive, "--log-dir", tmp_path / "logs", "--no-progress",
                  "--no-catalog"],
                 ["ls", "--device", empty_drive],
                 ["restore", "--device", empty_drive, tmp_path / "dest", "--no-progress", "--no-catalog"]):
        cp = run(*args)
        assert cp.returncode == 4, (args, cp.stdout, cp.stderr)
        assert "no cartridge" in cp.stderr, cp.stderr
    assert not (tmp_path / "dest").exists() or not any((tmp_path / "dest").iterdir())
