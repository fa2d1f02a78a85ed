"""Tests on a real Linux st device: they run inside tapevm (tests/test_tapevm.py starts them) or
against a drive named by LTO_ARCHIVE_TEST_TAPE=/dev/nstN (its cartridge is overwritten)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def tape_device() -> str | None:
    spec = os.environ.get("LTO_ARCHIVE_TEST_TAPE")
    if spec:
        return spec
    if os.environ.get("TAPEVM") == "1":
        drives = os.environ.get("TAPEVM_DRIVES", "").split()
        return drives[0] if drives else None
    return None


@pytest.fixture
def nst() -> str:
    dev = tape_device()
    if not dev:
        pytest.skip("no tape device: runs inside tapevm or with LTO_ARCHIVE_TEST_TAPE=/dev/nstN")
    return dev


def mt(dev: str, *args: str) -> None:
    """mt -f DEV ARGS (mt-st)."""
    path = dev.removeprefix("st:").split("?")[0]
    proc = subprocess.run([shutil.which("mt") or "mt", "-f", path, *args], capture_output=True, text=True)
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
