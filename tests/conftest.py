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


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
