"""`lto-archive demo`: the whole job on a virtual LTO-9 tape, in seconds."""

from __future__ import annotations

import filecmp
import tempfile
from pathlib import Path

import click

import lto_archive
from lto_archive import create_vtape, make_sample_card

from .common import ProgressBar, human_bytes


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


@click.command("demo")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to put the card, tape and restore (default: a new temporary folder).")
@click.option("--progress/--no-progress", default=True, help="Show progress bars.")
def demo(workdir: Path | None, progress: bool) -> None:
    """Make a sample camera card, write it to a virtual LTO-9 tape, verify, restore and compare."""
    root = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="lto-archive-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    click.echo(f"1. sample camera card        {root / 'card'}")
    card = make_sample_card(root / "card")
    size = sum(p.stat().st_size for p in card.rglob("*") if p.is_file())
    click.echo(f"   {sum(1 for p in card.rglob('*') if p.is_file())} files, {human_bytes(size)}")
    tape_dir = root / "tape-DEMO01L9"
    tape = create_vtape(tape_dir, generation="LTO-9", capacity="2G", barcode="DEMO01L9")
    click.echo(f"2. virtual LTO-9 cartridge   {tape_dir} (barcode DEMO01L9, 2 GiB)")
    try:
        bar = ProgressBar(progress)
        result = lto_archive.write(card, tape, log_dir=root / "logs", catalog=False, progress=bar)
        bar.close()
        s = result.manifest.session
        click.echo(f"3. written                   tape file {s.tape_file}, {s.files} files, "
                   f"{human_bytes(s.bytes_copied)} at {s.mb_per_s:.0f} MB/s, hashes {', '.join(s.algorithms)}")
        result.raise_for_status()
        click.echo(f"   copy log                  {result.log_paths[1]}")
        bar = ProgressBar(progress)
        verified = lto_archive.verify(tape, catalog=False, progress=bar)
        bar.close()
        verified.raise_for_status()
        click.echo(f"4. verified from tape        {len(verified.verified)} files, "
                   f"every hash matches the manifest")
        dest = root / "restored"
        bar = ProgressBar(progress)
        restored = lto_archive.restore(tape, dest, catalog=False, progress=bar)
        bar.close()
        restored.raise_for_status()
        diffs = _same_tree(card, dest / card.name)
        click.echo(f"5. restored into             {dest}")
        if diffs:
            raise click.ClickException(f"restored files differ from the card: {diffs[:5]}")
        click.echo("6. compared                  the restored card is identical to the original, byte for byte")
        click.echo(f"\nTry:  lto-archive ls --device vtape:{tape_dir} -l")
        click.echo(f"      cd {dest} && md5sum -c .lto-archive/tape-file-0/checksums.md5")
    finally:
        tape.close()
