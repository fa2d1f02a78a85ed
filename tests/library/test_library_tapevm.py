"""The library tests on tapevm's real changer (mtx, sg, st): tests/library/test_library_vm.py in a VM
with two drives, six 100 MB cartridges and a changer. One VM boot; deselect with `-m "not tapevm"`."""

from __future__ import annotations

import pytest

from ..tapevm_helpers import run_in_tapevm

pytestmark = [pytest.mark.tapevm, pytest.mark.slow]


def test_library_in_tapevm() -> None:
    """One boot for everything that needs a changer: the drives start empty, so the empty-drive commands
    run first, then the SCSI checks (which load a cartridge), then the library tests."""
    code, output = run_in_tapevm(["tests/st/test_empty_drive.py", "tests/scsi/vm", "tests/library/test_library_vm.py"],
                                 drives=2, tapes=6, tape_size_mb=100, changer=True,
                                 env={"LTO_ARCHIVE_TEST_EMPTY_DRIVE": "1"}, pytest_args=("-rs",))
    assert code == 0, f"changer tests inside tapevm failed (exit {code}):\n{output[-20000:]}"
    assert "passed" in output, output[-5000:]
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    # only the real-drive checks of tests/scsi/vm may skip in the VM
    assert not [line for line in skipped if "test_empty_drive" in line or "test_library_vm" in line], skipped
