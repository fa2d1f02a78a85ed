"""Property: whatever the file sizes, cartridge sizes and LTFS block sizes, an LTFS span set is written
without overflowing a cartridge, restores byte for byte, and each cartridge verifies alone."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings, strategies as st

from lto_archive.formats.ltfs.volume import format_volume
from lto_archive.jobs.ltfs_read import read_ltfs
from lto_archive.jobs.write import WriteOptions
from lto_archive.span.read import read_span
from lto_archive.span.write import write_span
from lto_archive.tape import VirtualTape, create_vtape
from tests.span.helpers import make_card
from tests.span.test_span_props import ListLoader, ListSupply
from tests.tape_helpers import tree_snapshot

MiB = 1 << 20


@example(sizes=[9 * MiB, 9 * MiB, 1], capacity=5 * MiB, block_size=256 * 1024, split_files=False)
@example(sizes=[3 * MiB, 0, 9 * MiB - 1, 4 * MiB], capacity=7 * MiB, block_size=16 * 1024, split_files=True)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sizes=st.lists(st.integers(0, 9 * MiB), min_size=1, max_size=4),
       capacity=st.integers(5 * MiB, 12 * MiB),
       block_size=st.sampled_from([16 * 1024, 64 * 1024, 256 * 1024]),
       split_files=st.booleans())
def test_any_sizes_restore_byte_exact(sizes: list[int], capacity: int, block_size: int, split_files: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="ltfs-span-prop-"))
    try:
        card = make_card(tmp, {f"f{i}.mov": n for i, n in enumerate(sizes)})
        carts = []
        for i in range(sum(sizes) // (capacity // 2) + 3):
            cart = tmp / f"cart{i}"
            dev = create_vtape(cart, "LTO-9", capacity=capacity, barcode=f"PRP{i:03d}L9")
            format_volume(dev, creator="tests", serial=f"PRP{i:03d}", block_size=block_size)
            dev.close()
            carts.append(cart)
        result = write_span([card], ListSupply(carts), WriteOptions(format="ltfs", record_size=block_size),
                            split_files=split_files)
        result.raise_for_status()
        used = carts[:len(result.volumes)]
        for cart in used:                 # each cartridge alone: a complete, consistent LTFS volume
            dev = VirtualTape(cart)
            r = read_ltfs(dev, "verify")
            dev.close()
            assert r.status == "ok" and not r.tape_files[0].failed
        r = read_span(ListLoader(used), "restore", dest=tmp / "out")
        r.raise_for_status()
        assert r.complete
        assert tree_snapshot(tmp / "out/card") == tree_snapshot(card)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
