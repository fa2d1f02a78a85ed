"""`lto-archive demo`: the whole job on a virtual LTO-9 tape, in seconds."""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import lto_archive
from lto_archive import UsageError, VerificationFailed, create_vtape, make_sample_card

from .common import ProgressBar, emit, human_bytes


def _same_tree(a: Path, b: Path) -> list[str]:
    """Paths that differ between two folders (content compared byte by byte)."""
    diffs: list[str] = []
    cmp = filecmp.dircmp(a, b)
    diffs += [str(a / n) for n in cmp.left_only + cmp.right_only + cmp.funny_files]
    for name in cmp.common_files:
        if not filecmp.cmp(a / name, b / name, shallow=False):
            diffs.append(str(a / name))
    for name in cmp.common_dirs:
        diffs += _same_tree(a / name, b / name)
    return diffs


DEMO_MARKER = ".lto-archive-demo"
_DEMO_PARTS = ("card", "tape-DEMO01L9", "logs", "restored")


def _prepare_workdir(root: Path) -> None:
    """An empty (or new) folder, or one a previous demo made: its own parts are removed and made
    again. A folder that holds anything else is refused, so the demo never deletes a user's files."""
    root.mkdir(parents=True, exist_ok=True)
    entries = [p.name for p in root.iterdir()]
    if not entries:
        (root / DEMO_MARKER).write_text("made by lto-archive demo: safe to delete\n")
        return
    foreign = sorted(set(entries) - set(_DEMO_PARTS) - {DEMO_MARKER})
    if DEMO_MARKER not in entries or foreign:
        what = ", ".join(foreign[:5]) or ", ".join(sorted(entries)[:5])
        raise UsageError(f"--workdir {root} is not empty and was not made by the demo (it holds {what}); "
                         "give a new or empty folder (the demo never deletes files it did not make)")
    for part in _DEMO_PARTS:
        if (root / part).exists():
            shutil.rmtree(root / part)


def _steps(root: Path, progress: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """Card, tape, write, verify, restore, compare: what each step made, for --json."""
    card = make_sample_card(root / "card")
    files = [p for p in card.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    say(f"1. sample camera card        {root / 'card'}\n   {len(files)} files, {human_bytes(size)}")
    tape_dir = root / "tape-DEMO01L9"
    tape = create_vtape(tape_dir, generation="LTO-9", capacity="2G", barcode="DEMO01L9")
    say(f"2. virtual LTO-9 cartridge   {tape_dir} (barcode DEMO01L9, 2 GB)")
    try:
        with ProgressBar(progress) as bar:
            result = lto_archive.write(card, tape, log_dir=root / "logs", catalog=False, progress=bar)
        s = result.manifest.session
        say(f"3. written                   tape file {s.tape_file}, {s.files} files, "
            f"{human_bytes(s.bytes_copied)} at {s.mb_per_s:.0f} MB/s, hashes {', '.join(s.algorithms)}")
        result.raise_for_status()
        say(f"   copy log                  {result.log_paths[1]}")
        with ProgressBar(progress) as bar:
            verified = lto_archive.verify(tape, catalog=False, progress=bar)
        verified.raise_for_status()
        say(f"4. verified from tape        {len(verified.verified)} files, every hash matches the manifest")
        dest = root / "restored"
        with ProgressBar(progress) as bar:
            restored = lto_archive.restore(tape, dest, catalog=False, progress=bar)
        restored.raise_for_status()
        diffs = _same_tree(card, dest / card.name)
        say(f"5. restored into             {dest}")
        if diffs:
            raise VerificationFailed(f"restored files differ from the card: {', '.join(diffs[:5])}")
        say("6. compared                  the restored card is identical to the original, byte for byte")
    finally:
        tape.close()
    return {"status": "ok", "workdir": str(root), "card": str(card), "files": len(files), "bytes": size,
            "tape": str(tape_dir), "barcode": "DEMO01L9", "write": result.to_dict(),
            "verified": len(verified.verified), "restored": str(dest), "copy_log": str(result.log_paths[1]),
            "identical": True}


@click.command("demo")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to put the card, tape and restore (default: a new temporary folder). "
                   "Run again on the same folder, the demo starts over.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: on a terminal; plain lines when output is a file).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def demo(workdir: Path | None, progress: bool | None, as_json: bool) -> None:
    """Make a sample camera card, write it to a virtual LTO-9 tape, verify, restore and compare."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="lto-archive-demo-"))
    _prepare_workdir(root)
    say: Callable[[str], None] = (lambda line: None) if as_json else click.echo
    report = _steps(root, False if as_json else progress, say)
    emit(report, as_json, lambda: click.echo(
        f"\nTry:  lto-archive ls --device vtape:{report['tape']} -l\n"
        f"      cd {report['restored']} && md5sum -c .lto-archive/tape-file-0/checksums.md5"))
