"""Helpers for the LTFS mount backend tests.

No LTFS software or drive here: `install_fake_tools` writes small Python
scripts named mkltfs, ltfs, ltfsck, umount (and fusermount) that append their
arguments as JSON to a log and exit with the code an environment variable
chooses, after printing the output another one gives. A plain folder stands in
for the mount point; `FakeLtfsXattrs` plays the LTFS virtual attributes where
a test needs them (volume UUID, start blocks assigned as files are written).
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from lto_archive.ltfs_tools import (LTFS_HASH_XATTRS, PARTITION, START_BLOCK, SYNC, VOLUME_UUID, DictXattrs,
                                    OsXattrs, XattrStore)

FAKE_TOOL = """#!{python}
import json, os, sys, time
name = os.path.basename(sys.argv[0])
key = name.upper().replace("-", "_")
log = os.environ["FAKE_LTFS_LOG"]
with open(log, "a") as f:
    f.write(json.dumps({{"tool": name, "argv": sys.argv[1:]}}) + "\\n")
sys.stderr.write(os.environ.get("FAKE_" + key + "_OUTPUT", ""))   # LTFS prints its messages on stderr
sys.stderr.flush()
sleep = float(os.environ.get("FAKE_" + key + "_SLEEP", "0"))
if sleep:
    time.sleep(sleep)
daemon = float(os.environ.get("FAKE_" + key + "_DAEMON", "0"))
if daemon:
    # like FUSE: a child with the same command line stays behind (and keeps our stdout open)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        time.sleep(daemon)
        os._exit(0)
    with open(log, "a") as f:
        f.write(json.dumps({{"tool": name, "daemon_pid": pid}}) + "\\n")
sys.exit(int(os.environ.get("FAKE_" + key + "_EXIT", "0")))
"""

TOOLS = ("mkltfs", "ltfs", "ltfsck", "umount", "fusermount")


def install_fake_tools(bin_dir: Path, log: Path, tools: tuple[str, ...] = TOOLS) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in tools:
        p = bin_dir / name
        p.write_text(FAKE_TOOL.format(python=sys.executable))
        p.chmod(0o755)
    return bin_dir


def read_log(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def calls(log: Path) -> list[list[str]]:
    """[[tool, arg, ...], ...] in the order the fakes ran."""
    return [[c["tool"], *c["argv"]] for c in read_log(log) if "argv" in c]


class RecordingXattrs:
    """Wraps a store and remembers every set() as (path relative to root, name, value)."""

    def __init__(self, inner: XattrStore, root: Path) -> None:
        self.inner, self.root = inner, root
        self.sets: list[tuple[str, str, bytes]] = []

    def get(self, path: Path, name: str) -> str | None:
        return self.inner.get(path, name)

    def names(self, path: Path) -> list[str]:
        return self.inner.names(path)

    def set(self, path: Path, name: str, value: bytes | str) -> None:
        self.inner.set(path, name, value)
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))
        self.sets.append((rel, name, value.encode() if isinstance(value, str) else bytes(value)))


class FakeLtfsXattrs(DictXattrs):
    """LTFS's virtual attributes on a plain folder: a volume UUID on everything, and
    partition "b" / increasing start blocks for files, assigned when their first
    hash attribute is stored (which the write job does right after the data)."""

    def __init__(self, root: Path, uuid: str = "3b1c7d2e-0000-4000-8000-00000000abcd") -> None:
        super().__init__()
        self.root = os.path.abspath(root)
        self.uuid = uuid
        self.next_block = 10
        self.syncs = 0

    def get(self, path: Path, name: str) -> str | None:
        if name == VOLUME_UUID and os.path.abspath(path).startswith(self.root):
            return self.uuid
        return super().get(path, name)

    def set(self, path: Path, name: str, value: bytes | str) -> None:
        super().set(path, name, value)
        if name == SYNC and os.path.abspath(path) == self.root:
            self.syncs += 1
        if name in LTFS_HASH_XATTRS.values() and super().get(path, START_BLOCK) is None:
            size = os.path.getsize(path)
            if size:
                DictXattrs.set(self, path, START_BLOCK, str(self.next_block))
                DictXattrs.set(self, path, PARTITION, "b")
                self.next_block += max(1, -(-size // (512 * 1024)))


def data(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def make_card(root: Path, name: str = "A001", seed: int = 1) -> tuple[Path, dict[str, bytes]]:
    """A camera card: nested folders, an empty file, a symlink. Returns (card, {archive name: bytes})."""
    card = root / name
    files = {
        "CLIPS/A001C001.mov": data(seed, 300_000),
        "CLIPS/A001C002.mov": data(seed + 1, 70_001),
        "CLIPS/empty.txt": b"",
        "META/report.xml": b"<report/>\n",
    }
    for rel, blob in files.items():
        p = card / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(blob)
    os.symlink("CLIPS/A001C001.mov", card / "latest.mov")
    os.utime(card / "CLIPS/A001C001.mov", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    (card / "META/report.xml").chmod(0o640)
    return card, {f"{name}/{rel}": blob for rel, blob in files.items()}


def os_store_or_none(folder: Path) -> XattrStore | None:
    from lto_archive.ltfs_tools import user_xattrs_supported
    return OsXattrs() if user_xattrs_supported(folder) else None
