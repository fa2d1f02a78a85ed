"""The st backend on the kernel's real st driver, inside tapevm (tests/tapevm_helpers.py).

Each test boots one VM (a minute or more under emulation) and runs a batch of tests there;
deselect them with `-m "not tapevm"`. Library tests add their own run here, e.g.
run_in_tapevm(["tests/library_vm"], drives=2, tapes=6, tape_size_mb=100, changer=True).
"""

from __future__ import annotations

import pytest

from .tapevm_helpers import run_in_tapevm

pytestmark = [pytest.mark.tapevm, pytest.mark.slow]


def _check(code: int, output: str) -> None:
    assert code == 0, f"tests inside tapevm failed (exit {code}):\n{output[-20000:]}"
    assert " passed" in output, output[-5000:]


def test_st_backend_in_tapevm() -> None:
    """Conformance suite first (on the blank cartridge), then interop and bad input on /dev/nst0."""
    _check(*run_in_tapevm(["tests/tape/test_st_conformance.py", "tests/st", "tests/scsi/vm"], tape_size_mb=40,
                          env={"LTO_ARCHIVE_TEST_TAPE": "/dev/nst0"}, pytest_args=("-rs",)))


def test_empty_drive_in_tapevm() -> None:
    """With a changer every drive starts empty: the commands say so (exit 4)."""
    _check(*run_in_tapevm(["tests/st/test_empty_drive.py", "tests/scsi/vm"], tapes=2, tape_size_mb=40, changer=True,
                          env={"LTO_ARCHIVE_TEST_EMPTY_DRIVE": "1"}))
