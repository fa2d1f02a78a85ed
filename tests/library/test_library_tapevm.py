"""The library tests on tapevm's real changer (mtx, sg, st): tests/library/test_library_vm.py in a VM
with two drives, six 100 MB cartridges and a changer. The boot is shared with the span set
(tests/conftest.py, `tapevm_changer_run`); deselect with `-m "not tapevm"`."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.tapevm, pytest.mark.slow]


def test_library_in_tapevm(tapevm_changer_run) -> None:  # type: ignore[no-untyped-def]
    """Everything that needs a changer: the drives start empty, so the empty-drive commands run first,
    then the SCSI checks (which load a cartridge), then the library tests. Only the real-drive checks of
    tests/scsi/vm may skip in the VM."""
    tapevm_changer_run.check(["tests/st/test_empty_drive.py", "tests/scsi/vm", "tests/library/test_library_vm.py"],
                             may_skip=("tests/scsi/vm",))
