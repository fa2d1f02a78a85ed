"""The library tests on tapevm's real changer (mtx, sg, st): tests/library/test_library_vm.py in a VM
with two drives, six 100 MB cartridges and a changer. One VM boot; deselect with `-m "not tapevm"`."""

from __future__ import annotations

import pytest

from ..tapevm_helpers import run_in_tapevm

pytestmark = [pytest.mark.tapevm, pytest.mark.slow]


def test_library_in_tapevm() -> None:
    code, output = run_in_tapevm(["tests/library/test_library_vm.py"], drives=2, tapes=6, tape_size_mb=100,
                                 changer=True, pytest_args=("-rs",))
    assert code == 0, f"library tests inside tapevm failed (exit {code}):\n{output[-20000:]}"
    assert "4 passed" in output and "skipped" not in output, output[-5000:]
