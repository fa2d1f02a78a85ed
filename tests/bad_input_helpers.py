"""Helpers for the end-to-end bad-input tests: real cartridges, real bytes, the real CLI."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from lto_archive.tape import VirtualTape, create_vtape

KiB = 1024
MiB = 1024 * KiB
CLI = [sys.executable, "-m", "lto_archive_cli.main"]


def data(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def make_card(root: Path, name: str = "card", sizes: dict[str, int] | None = None, seed: int = 1) -> Path:
    """A camera card folder with files of distinct random bytes: {relative name: size}."""
    sizes = sizes or {"a.bin": 20 * KiB, "b.bin": 30 * KiB, "c.bin": 25 * KiB}
    card = root / name
    for i, (rel, size) in enumerate(sorted(sizes.items())):
        p = card / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data(seed * 1000 + i, size))
    return card


def card_files(card: Path) -> dict[str, bytes]:
    """{'card/a.bin': bytes, ...}: archive names as the write job gives them."""
    return {str(p.relative_to(card.parent)): p.read_bytes() for p in sorted(card.rglob("*")) if p.is_file()}


def new_tape(path: Path, generation: str = "LTO-9", capacity: int = 64 * MiB, **kw) -> Path:  # type: ignore[no-untyped-def]
    create_vtape(path, generation, capacity=capacity, barcode="TST001L9", **kw).close()
    return path


def set_sidecar(tape: Path, **changes) -> None:  # type: ignore[no-untyped-def]
    """Change our sidecar (write_protected, faults, ...) as a user would, in the file."""
    side = tape / "lto-archive-vtape.json"
    doc = json.loads(side.read_text()) if side.exists() else {}
    doc.update(changes)
    side.write_text(json.dumps(doc, indent=2))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (names relative) with its bytes; symlinks as 'link->target'."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = str(p.relative_to(folder))
            if p.is_symlink():
                out[rel] = b"link->" + os.readlink(p).encode()
            elif p.is_file():
                out[rel] = p.read_bytes()
            else:
                out[rel + "/"] = b""
    return out


def run(*args: str | Path, cwd: Path | None = None, prefix: list[str] | None = None,
        check: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run `lto-archive ARGS` in a subprocess (real exit codes, real stdout/stderr)."""
    cmd = (prefix or []) + CLI + [str(a) for a in args]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    cp = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    if check is not None:
        assert cp.returncode == check, (cp.returncode, cp.stdout, cp.stderr)
    return cp


def write_cli(tape: Path, *sources: Path, log_dir: Path, extra: tuple[str, ...] = (), **kw):  # type: ignore[no-untyped-def]
    return run("write", *sources, "--device", f"vtape:{tape}", "--block-size", "16K",
               "--log-dir", log_dir, "--no-progress", *extra, **kw)


def copy_log(log_dir: Path) -> tuple[Path, dict]:
    logs = sorted(log_dir.glob("*.json"))
    assert len(logs) == 1, logs
    return logs[0], json.loads(logs[0].read_text())


def statuses(log: dict) -> dict[str, str]:
    return {f["path"]: f["status"] for f in log["files"] if f["kind"] == "file"}


def restored_files(dest: Path) -> dict[str, bytes]:
    """Restored footage (not the .lto-archive metadata)."""
    return {k: v for k, v in snapshot(dest).items() if not k.startswith(".lto-archive") and not k.endswith("/")}


def tape_objects(tape: Path) -> dict[str, bytes]:
    """The cartridge's records, filemarks and E markers with contents."""
    return {n: (tape / n).read_bytes() for n in sorted(os.listdir(tape)) if n[:2] in ("0_", "1_")}


def write_raw_tape_file(tape: Path, payload: bytes, record: int = 16 * KiB) -> None:
    """Append `payload` as one tape file (records + filemark) at EOD."""
    vt = VirtualTape(tape)
    try:
        vt.seek_eod()
        for i in range(0, len(payload), record):
            vt.write_record(payload[i:i + record])
        vt.write_filemarks(1)
    finally:
        vt.close()
