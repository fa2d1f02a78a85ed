"""The st backend on the kernel's real st driver, inside tapevm (tests/tapevm_helpers.py).

Each test boots one VM (a minute or more under emulation) and runs a batch of tests there;
deselect them with `-m "not tapevm"`. The VM with a changer (drives start empty) is booted once, by
tests/library/test_library_tapevm.py, for the empty-drive, SCSI and library tests.
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

