"""Shared test helpers.

`require_tool("bsdtar")` skips a test when a tool nobody here wrote is missing,
except when LTO_ARCHIVE_REQUIRE_TOOLS=1 (set by .ci/run): then a missing tool
fails the test, so CI never passes an interop test by skipping it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("LTO_ARCHIVE_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{name} is required (LTO_ARCHIVE_REQUIRE_TOOLS=1) but not installed")
    pytest.skip(f"{name} not installed")


@pytest.fixture(autouse=True, scope="session")
def _private_catalog(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CLI records every job in the default catalog: keep the tests' out of the user's home."""
    os.environ.setdefault("LTO_ARCHIVE_CATALOG", str(tmp_path_factory.mktemp("catalog") / "catalog.sqlite"))
    # ...and the user's config file (profiles) out of the tests: a path that does not exist
    os.environ["LTO_ARCHIVE_CONFIG"] = str(tmp_path_factory.mktemp("config") / "no-config.toml")
    os.environ.pop("LTO_ARCHIVE_PROFILE", None)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


#: The VM with a changer (drives start empty), booted once for every test that needs it, in this order:
#: the empty-drive commands first, then the span set (it takes the first blank cartridges), then the SCSI
#: checks (which load a cartridge) and the library tests (each starts by putting every cartridge home).
CHANGER_VM_TESTS = ["tests/st/test_empty_drive.py", "tests/span/test_span_vm.py", "tests/scsi/vm",
                    "tests/library/test_library_vm.py"]


@pytest.fixture(scope="session")
def tapevm_changer_run():  # type: ignore[no-untyped-def]
    """One tapevm boot with two drives, six 100 MB cartridges and a changer, shared by
    tests/library/test_library_tapevm.py and tests/span/test_span_tapevm.py (a boot costs minutes)."""
    from .tapevm_helpers import run_in_tapevm

    return run_in_tapevm(CHANGER_VM_TESTS, drives=2, tapes=6, tape_size_mb=100, changer=True,
                         env={"LTO_ARCHIVE_TEST_EMPTY_DRIVE": "1"}, pytest_args=("-rs",))


@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    """A throw-away PostgreSQL server (tests/pg_helpers.py), started once for the whole run."""
    from .pg_helpers import start_cluster

    cluster = start_cluster()
    if isinstance(cluster, str):
        if os.environ.get("LTO_ARCHIVE_REQUIRE_TOOLS") == "1":
            pytest.fail(f"PostgreSQL is required (LTO_ARCHIVE_REQUIRE_TOOLS=1): {cluster}")
        pytest.skip(cluster)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster) -> str:  # type: ignore[no-untyped-def]
    """The URL of a new, empty PostgreSQL database for one test."""
    return str(pg_cluster.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new catalog on each engine: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.sqlite")
    return str(request.getfixturevalue("pg_url"))
