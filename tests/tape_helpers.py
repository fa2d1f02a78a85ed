"""Helpers for tests that look at a virtual cartridge from outside, as `dd` would.

`tape_file_bytes(cart, n)` concatenates the records of tape file n, read
straight from the cartridge folder (`P_B_R` records, `P_B_F` filemarks) in
block order: exactly what `dd if=/dev/nst0 bs=1M` gives after spacing over n
filemarks. `tree_snapshot` describes a folder so two folders can be compared.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
from pathlib import Path

_OBJECT = re.compile(r"([01])_(0|[1-9][0-9]*)_([RF])")

#: a UTF-8 locale for the outside tools, so names are never re-encoded or escaped
TOOL_ENV = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")


def cartridge_objects(cart: Path, partition: int = 0) -> list[tuple[int, str]]:
    """(block, "R" or "F") of every record and filemark, in block order."""
    out = []
    for name in os.listdir(cart):
        m = _OBJECT.fullmatch(name)
        if m and int(m.group(1)) == partition:
            out.append((int(m.group(2)), m.group(3)))
    return sorted(out)


def tape_file_blocks(cart: Path, n: int, partition: int = 0) -> list[int]:
    """Block numbers of the records of tape file n (between filemarks n-1 and n)."""
    files: list[list[int]] = [[]]
    for block, kind in cartridge_objects(cart, partition):
        if kind == "F":
            files.append([])
        else:
            files[-1].append(block)
    if n >= len(files) or (n == len(files) - 1 and not files[n]):
        raise IndexError(f"no tape file {n} on {cart}")
    return files[n]


def record_path(cart: Path, block: int, partition: int = 0) -> Path:
    return Path(cart) / f"{partition}_{block}_R"


def tape_file_bytes(cart: Path, n: int, partition: int = 0) -> bytes:
    return b"".join(record_path(cart, b, partition).read_bytes() for b in tape_file_blocks(cart, n, partition))


def dump_tape_file(cart: Path, n: int, out: Path, partition: int = 0) -> Path:
    out.write_bytes(tape_file_bytes(cart, n, partition))
    return out


def run(args: list[str], cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=TOOL_ENV, capture_output=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout: {proc.stdout.decode(errors='replace')[-3000:]}\n"
                             f"stderr: {proc.stderr.decode(errors='replace')[-3000:]}")
    return proc


def tree_snapshot(root: Path, *, mtimes: bool = True, modes: bool = True,
                  skip_top: tuple[str, ...] = ()) -> dict[str, tuple]:
    """rel path -> (kind, sha256 / link target, mode, mtime seconds) for everything under root."""
    out: dict[str, tuple] = {}
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root:
            dirnames[:] = [d for d in dirnames if d not in skip_top]
            filenames = [f for f in filenames if f not in skip_top]
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("symlink", os.readlink(p))
                continue
            mode = stat.S_IMODE(st.st_mode) if modes else None
            mtime = int(st.st_mtime) if mtimes else None
            if stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", None, mode, mtime)
            else:
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest(), mode, mtime)
    return out
