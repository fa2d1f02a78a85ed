"""The st backend on the kernel's real st driver, inside tapevm (tests/tapevm_helpers.py).

The test boots one VM (a minute or more under emulation) and runs a batch of tests there;
deselect it with `-m "not tapevm"`. The VM with a changer (drives start empty) is booted once, for the
empty-drive, span, SCSI and library tests (tests/conftest.py, `tapevm_changer_run`): the SCSI checks
run there, on a drive the changer loaded.
"""

from __future__ import annotations

import pytest

from .tapevm_helpers import run_in_tapevm

pytestmark = [pytest.mark.tapevm, pytest.mark.slow]


def test_st_backend_in_tapevm() -> None:
    """Conformance suite first (on the blank cartridge), then interop and bad input on /dev/nst0."""
    run = run_in_tapevm(["tests/tape/test_st_conformance.py", "tests/st"], tape_size_mb=40,
                        env={"LTO_ARCHIVE_TEST_TAPE": "/dev/nst0"}, pytest_args=("-rs",))
    assert run.code == 0, f"tests inside tapevm failed (exit {run.code}):\n{run.output[-20000:]}"
    assert " passed" in run.output, run.output[-5000:]
    run.check(["tests/st/test_st_vm.py"], may_skip=("tests/st/test_st_vm.py",))   # it ran there, and passed

