"""A span set on the tapevm library: real st driver, real mtx changer, three ~100 MB cartridges.

Skipped unless TAPEVM=1 and TAPEVM_CHANGER is set, i.e. inside

    TAPEVM_PORT=... ../shared/tools/tapevm run --workdir /tmp/tvm-x --drives 1 --tapes 3 --tape-size 100 --changer \\
        -- sh -c 'cd /work/main && python3 -m pytest -q tests/span/test_span_vm.py'

The emulated drive reports no room left (no MAM): each volume ends where the drive gives early
warning, so the big file is cut there and goes on on the next cartridge. GNU tar then restores the
set straight from the drive, changing cartridges itself with mtx in its --new-volume-script.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest

from lto_archive.jobs.write import WriteOptions
from lto_archive.library import open_library
from lto_archive.span.read import LibraryLoader, read_span
from lto_archive.span.supply import LibrarySupply
from lto_archive.span.write import write_span

CHANGER = os.environ.get("TAPEVM_CHANGER", "")
DRIVES = os.environ.get("TAPEVM_DRIVES", "").split()
MB = 1_000_000

pytestmark = pytest.mark.skipif(os.environ.get("TAPEVM") != "1" or not CHANGER,
                                reason="needs the tapevm library (TAPEVM=1, TAPEVM_CHANGER)")


def _sha(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def test_span_set_on_the_tapevm_library(tmp_path: Path) -> None:
    lib = open_library(CHANGER)
    for d in lib.status().drives:
        if d.full:
            lib.unload(d.number)
    home = {s.barcode: s.number for s in lib.status().slots if s.full}
    card = tmp_path / "card"
    card.mkdir()
    sizes = {"big.mov": 200 * MB, "a.mov": 20 * MB, "b.mov": 20 * MB, "c.mov": 20 * MB, "d.mov": 20 * MB}
    for name, size in sizes.items():
        with open(card / name, "wb") as f:
            for _ in range(size // MB):
                f.write(os.urandom(MB))
    want = {n: _sha(card / n) for n in sizes}

    result = write_span([card], LibrarySupply(lib, "LTA*"), WriteOptions(record_size=256 * 1024))
    result.raise_for_status()
    assert len(result.volumes) == 3, result.barcodes
    assert all(b and b.startswith("LTA") for b in result.barcodes)
    parts = [f for v in result.volumes for f in v.files if f.part]
    assert {f.path for f in parts} and all(f.part["length"] % 512 == 0 for f in parts if not f.part["last"])
    assert len({v.manifest.session.barcode for v in result.volumes for f in v.files if f.part}) >= 2

    out = tmp_path / "ours"
    r = read_span(LibraryLoader(lib, [b for b in result.barcodes if b]), "restore", dest=out)
    r.raise_for_status()
    assert r.complete
    assert {n: _sha(out / "card" / n) for n in sizes} == want

    # GNU tar, straight from the drive: its new-volume script has the robot change the cartridge
    for d in lib.status().drives:
        if d.full:
            lib.unload(d.number)
    lib.load(home[result.barcodes[0]], 0)
    script = tmp_path / "next-volume.sh"
    cases = "\n".join(f"  {i + 1}) slot={home[b]} ;;" for i, b in enumerate(result.barcodes))
    script.write_text(f"""#!/bin/sh
case "$TAR_VOLUME" in
{cases}
  *) exit 1 ;;
esac
mtx -f {CHANGER} unload >/dev/null 2>&1
mtx -f {CHANGER} load $slot 0 >/dev/null
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    gnu = Path("/var/tmp/span-gnu")
    gnu.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["tar", "-x", "-M", "-F", str(script), "-b", "512", "-f", DRIVES[0], "-C", str(gnu)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr
    assert {n: _sha(gnu / "card" / n) for n in sizes} == want
