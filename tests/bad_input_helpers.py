"""Helpers for the end-to-end bad-input tests: real cartridges, real bytes, the real CLI."""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import traceback
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
        check: int | None = None, process: bool = False) -> subprocess.CompletedProcess[str]:
    """`lto-archive ARGS`: its exit code, stdout and stderr.

    The command runs in this process through click's CliRunner, as the entry point runs it (the
    same group, argv, exit codes; an uncaught exception is exit 1 with its traceback on stderr, as
    Python prints it). With `process=True` or a `prefix` (a wrapper such as setpriv) it runs as a
    real `python -m lto_archive_cli.main` subprocess: for tests whose subject is the process itself.
    """
    argv = [str(a) for a in args]
    if process or prefix is not None:
        cmd = (prefix or []) + CLI + argv
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        cp = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    else:
        cp = invoke_cli(argv, cwd=cwd)
    if check is not None:
        assert cp.returncode == check, (cp.returncode, cp.stdout, cp.stderr)
    return cp


class _LastResort(logging.Handler):
    """What a process without logging handlers does with a warning: its message on stderr (the
    command's, here; pytest's own handlers on the root logger would otherwise swallow it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


def invoke_cli(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`lto-archive ARGV` in this process (click's CliRunner), as a CompletedProcess."""
    from click.testing import CliRunner

    from lto_archive_cli.main import cli

    old_argv, old_cwd = sys.argv, os.getcwd()
    sys.argv = ["lto-archive", *argv]          # the group reads --json from sys.argv, as in a real run
    warnings = _LastResort()
    logging.getLogger().addHandler(warnings)
    try:
        if cwd is not None:
            os.chdir(cwd)
        res = CliRunner().invoke(cli, argv, prog_name="lto-archive")
    finally:
        logging.getLogger().removeHandler(warnings)
        sys.argv = old_argv
        os.chdir(old_cwd)
    code, stderr = res.exit_code, res.stderr
    if res.exception is not None and not isinstance(res.exception, SystemExit) and res.exc_info:
        stderr += "".join(traceback.format_exception(*res.exc_info))
        traceback.clear_frames(res.exc_info[2])   # no device stays open through the failed frames
        code = 1
    return subprocess.CompletedProcess(["lto-archive", *argv], code, res.stdout, stderr)


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
