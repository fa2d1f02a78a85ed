"""`ltfs check` and `ltfs recover`: the ltfsck equivalents.

A write session that never finished leaves records after the data
partition's last index (nothing describes them) and an index partition
older than the data partition. Recovery keeps the last good data-partition
index as the truth, writes a new index after the leftovers (they are never
overwritten: with `salvage` they stay reachable, as unproven runs of blocks
in `_ltfs_lostandfound/`, the folder the reference's ltfsck uses), rewrites
the index partition, and leaves the volume appendable. The report says
exactly which blocks were lost or salvaged.

With a job journal (`journaled`: what the writer recorded, file by file, as the devices took it:
jobs/journal.py), every journaled file after the last index whose bytes read back and match the
journal's hashes goes into the new index, with its hashes as `ltfs.hash.*`; a file that does not
prove stays out (or, with `salvage`, its blocks go to lost+found like any other leftover).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ...errors import CorruptArchive, EndOfData, LtoArchiveError
from ...hashing import ALGORITHMS, MultiHasher
from ...tape.device import TapeDevice
from .index import Directory, Extent, File, Index, times_now
from .session import HASH_XATTR_PREFIX, HASH_XATTRS
from .times import format_time, now_ns
from .volume import (DATA_PARTITION, close_data_partition, FIRST_INDEX_BLOCK, INDEX_PARTITION, VolumeState, write_index_records,
                     open_volume, write_coherency, write_index_partition)

LOST_AND_FOUND = "_ltfs_lostandfound"
SALVAGED = "salvaged"      # the status a read gives a file of lost+found: rescued bytes, never proven
SALVAGED_REASON = "not proven: its bytes were rescued without an index entry (ltfs recover --salvage)"


def is_salvaged(path: str) -> bool:
    """A file `recover_volume(salvage=True)` put in lost+found (docs/recovery.md)."""
    return path.split("/", 1)[0] == LOST_AND_FOUND


@dataclass
class BlockRun:
    """Consecutive records after the last index, up to a short record (the end of a file as LTFS
    writers lay them out), a filemark or end of data: most often exactly one lost file."""

    first_block: int
    last_block: int
    bytes: int
    records: list[tuple[int, int]] = field(default_factory=list)   # (block, size)

    def name(self) -> str:
        return f"partition1_block{self.first_block}-{self.last_block}_{self.bytes}bytes"


@dataclass
class CheckReport:
    serial: str | None
    volume_uuid: str
    consistent: bool
    source: str
    generation: int
    index_partition: dict[str, Any]
    data_partition: dict[str, Any]
    notes: list[str]
    unindexed: list[BlockRun] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    salvaged: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)            # journaled files proven and indexed
    unproven: list[dict[str, str]] = field(default_factory=list)  # journaled files left out: path, reason
    journals: list[str] = field(default_factory=list)              # the job journals used

    @property
    def unindexed_bytes(self) -> int:
        return sum(r.bytes for r in self.unindexed)

    def to_dict(self) -> dict[str, Any]:
        return {"serial": self.serial, "volume_uuid": self.volume_uuid, "consistent": self.consistent,
                "current_index": {"source": self.source, "generation": self.generation},
                "index_partition": self.index_partition, "data_partition": self.data_partition,
                "notes": self.notes,
                "unindexed": [{"first_block": r.first_block, "last_block": r.last_block, "bytes": r.bytes}
                              for r in self.unindexed],
                "unindexed_bytes": self.unindexed_bytes, "actions": self.actions, "salvaged": self.salvaged,
                "journals": self.journals, "recovered": self.recovered, "unproven": self.unproven}


def _runs_after_index(device: TapeDevice, state: VolumeState) -> list[BlockRun]:
    start = state.indexed_end if state.indexed_end is not None else state.dp.end
    start = start if start is not None else state.dp_eod
    if start >= state.dp_eod:
        return []
    device.locate(DATA_PARTITION, start)
    runs: list[BlockRun] = []
    cur: BlockRun | None = None
    block = start
    while block < state.dp_eod:
        try:
            rec = device.read_record(1 << 22)
        except EndOfData:
            break
        if not rec:
            cur = None
        else:
            if cur is None:
                cur = BlockRun(block, block, 0)
                runs.append(cur)
            cur.last_block = block
            cur.bytes += len(rec)
            cur.records.append((block, len(rec)))
            if len(rec) != state.block_size:
                cur = None     # a short record ends a file (writers start each file on a new record)
        block += 1
    return runs


def check_volume(device: TapeDevice) -> CheckReport:
    """Read-only: what a mount would use, and what a crash left behind."""
    state = open_volume(device)
    return _report(state, _runs_after_index(device, state))


def _report(state: VolumeState, runs: list[BlockRun]) -> CheckReport:
    ip, dp = state.ip, state.dp
    return CheckReport(
        serial=state.serial, volume_uuid=state.label.volume_uuid, consistent=state.consistent,
        source=state.source, generation=state.index.generation,
        index_partition={"generation": ip.index.generation if ip.index else None, "block": ip.block,
                         "problems": ip.problems},
        data_partition={"generation": dp.index.generation if dp.index else None, "block": dp.block,
                        "end_of_data": state.dp_eod, "problems": dp.problems},
        notes=list(state.notes), unindexed=runs)


def _extents(run: BlockRun, block_size: int) -> list[Extent]:
    """Extents over a run of records: full records merge; a short one ends an extent."""
    out: list[Extent] = []
    offset = 0
    first: int | None = None
    count = 0
    for block, size in run.records:
        if first is None:
            first, count = block, 0
        count += size
        if size != block_size:
            out.append(Extent(offset, "b", first, 0, count))
            offset += count
            first = None
    if first is not None:
        out.append(Extent(offset, "b", first, 0, count))
    return out


@dataclass
class JournaledFile:
    """What a job journal says of one entry of this volume: a file's extent and hashes, a folder, a link."""

    path: str
    kind: str = "file"
    length: int = 0
    start_block: int | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    mtime_ns: int | None = None
    linkname: str = ""


def _usable_path(path: str) -> list[str] | None:
    parts = path.split("/")
    bad = any(p in ("", ".", "..") or len(p.encode("utf-8", "surrogateescape")) > 255 for p in parts)
    return None if bad or parts[0] == LOST_AND_FOUND else parts


def _prove(device: TapeDevice, state: VolumeState, j: JournaledFile) -> str | None:
    """None when the journaled file's bytes read back whole and match its hashes; else why not."""
    algos = [a for a in j.hashes if a in ALGORITHMS]
    if not algos:
        return "the journal gives no hash to prove it with"
    bs = state.block_size
    blocks = -(-j.length // bs)
    start = j.start_block if j.length else state.dp_eod
    first = state.indexed_end if state.indexed_end is not None else 0
    if start is None or start < first or start + blocks > state.dp_eod:
        return "its blocks are not on the data partition after the last index"
    h = MultiHasher(algos)
    if blocks:
        device.locate(DATA_PARTITION, start)
    for n in range(blocks):
        want = min(bs, j.length - n * bs)
        try:
            rec = device.read_record(bs)
        except (LtoArchiveError, OSError) as exc:
            return f"block b/{start + n} could not be read ({exc})"
        if len(rec) != want:
            return f"block b/{start + n} holds {len(rec)} bytes, the journal expects {want}"
        h.update(rec)
    if h.hexdigests() != {a: j.hashes[a].lower() for a in algos}:
        return "its bytes do not match the journal's hashes"
    return None


def _adopt_journaled(device: TapeDevice, state: VolumeState, ix: Index, journaled: Sequence[JournaledFile],
                     report: CheckReport) -> set[int]:
    """Put every journaled entry that proves into `ix`; the blocks of the files proven."""
    covered: set[int] = set()
    now = times_now(now_ns())
    for j in journaled:
        parts = _usable_path(j.path)
        if parts is None or ix.lookup(j.path) is not None:
            continue          # (already in the index: an earlier session, or a checkpoint index)
        times = times_now(j.mtime_ns) if j.mtime_ns is not None else now
        if j.kind == "dir":
            _folder(ix, parts, times)
            continue
        why = None if j.kind == "symlink" else _prove(device, state, j) if j.kind == "file" else "not a file"
        parent = _folder(ix, parts[:-1], times) if why is None else None
        if why is not None or parent is None:
            report.unproven.append({"path": j.path, "reason": why or "a file of the index is where its folder "
                                    "would be"})
            continue
        if j.kind == "symlink":
            parent.children[parts[-1]] = File(parts[-1], ix.next_uid(), list(times), 0, None, j.linkname)
            continue
        xattrs: dict[str, str | bytes] = {HASH_XATTRS.get(a, HASH_XATTR_PREFIX + a): v.lower()
                                          for a, v in j.hashes.items() if a in ALGORITHMS}
        extents = [Extent(0, "b", j.start_block, 0, j.length)] if j.length and j.start_block is not None else None
        parent.children[parts[-1]] = File(parts[-1], ix.next_uid(), list(times), j.length, extents, xattrs=xattrs)
        report.recovered.append(j.path)
        if extents:
            covered.update(range(extents[0].start_block, extents[0].start_block - (-j.length // state.block_size)))
    return covered


def _folder(ix: Index, parts: list[str], times: list[str]) -> Directory | None:
    """The folder at `parts`, made if missing; None when a file of the index stands in its way."""
    try:
        return ix.make_dirs(parts, times)
    except CorruptArchive:
        return None


def _without(runs: list[BlockRun], covered: set[int]) -> list[BlockRun]:
    """The runs less the blocks of proven files: what is still unproven."""
    if not covered:
        return runs
    out: list[BlockRun] = []
    for run in runs:
        cur: BlockRun | None = None
        for block, size in run.records:
            if block in covered:
                cur = None
                continue
            if cur is None or block != cur.last_block + 1:
                cur = BlockRun(block, block, 0)
                out.append(cur)
            cur.last_block = block
            cur.bytes += size
            cur.records.append((block, size))
    return out


def iso_to_ns(text: str) -> int | None:
    """A copy log's time ("2026-01-01T00:00:00.000000Z") as nanoseconds since the epoch; None if none."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(t.timestamp()) * 1_000_000_000 + t.microsecond * 1000


def recover_volume(device: TapeDevice, *, creator: str, salvage: bool = False,
                   journaled: Sequence[JournaledFile] = ()) -> CheckReport:
    """Make the volume consistent and appendable again, from the last good data-partition index
    (and the journaled files that prove, see the module's docstring)."""
    state = open_volume(device)
    runs = _runs_after_index(device, state)
    report = _report(state, runs)
    if state.consistent:
        report.actions.append("nothing to do: the volume is consistent")
        return report
    ix: Index = state.index
    bs = state.block_size
    if runs or state.unindexed_blocks or state.damaged_data_index:
        runs = _without(runs, _adopt_journaled(device, state, ix, journaled, report) if journaled else set())
        if salvage and runs:
            times = times_now(now_ns())
            folder = ix.make_dirs([LOST_AND_FOUND], times)
            for run in runs:
                name = run.name()
                if name in folder.children:
                    continue
                folder.children[name] = File(name, ix.next_uid(), list(times), run.bytes, _extents(run, bs))
                report.salvaged.append(f"{LOST_AND_FOUND}/{name}")
        # a new data-partition index after the leftovers, which stay untouched on tape
        close_data_partition(device)
        loc = device.position().block
        ix.previous = (("b", state.dp.newest_block) if state.damaged_data_index and state.dp.newest_block
                       else state.dp.index.location if state.dp.index else None)
        ix.generation += 1
        ix.location = ("b", loc)
        ix.update_time = format_time(now_ns())
        ix.creator = creator
        write_index_records(device, ix, bs)
        device.write_filemarks(1)
        lost = sum(r.bytes for r in runs)
        if journaled:
            report.actions.append(f"proved {len(report.recovered)} journaled file(s) against the journal's hashes "
                                  f"and put them in the index; {len(report.unproven)} could not be proven")
        if state.damaged_data_index:
            report.actions.append(f"the data partition's newest index (b/{state.dp.newest_block}) was unreadable: "
                                  f"wrote the index partition's good copy to the data partition")
        report.actions.append(
            f"wrote index generation {ix.generation} at b/{loc}, after {state.unindexed_blocks} blocks that no "
            f"index described ({lost} bytes in {len(runs)} run(s)"
            + (" the journal does not prove" if journaled else "") + "); "
            + ("every one is a proven journaled file" if journaled and not runs else
               "they are kept, unproven, in " + LOST_AND_FOUND if salvage and runs else
               "their data is not in the volume (use --salvage to keep it as unproven blocks)"))
        dp_block = loc
        dp_location = ix.location
    else:
        assert state.dp.index is not None and state.dp.block is not None
        dp_block = state.dp.block
        dp_location = state.dp.index.location
        if close_data_partition(device):      # killed between the index and its filemark: the next session
            report.actions.append(          # would otherwise start inside the index
                f"closed the data partition's index at b/{dp_block} with its filemark (a write session was "
                f"stopped before it)")
    ix.previous = dp_location
    write_index_partition(device, ix, bs)
    write_coherency(device, ix.volume_uuid, ix.generation, {INDEX_PARTITION: FIRST_INDEX_BLOCK,
                                                            DATA_PARTITION: dp_block})
    report.actions.append(f"rewrote the index partition with generation {ix.generation}")
    after = open_volume(device)
    report.consistent = after.consistent
    return report


__all__ = ["check_volume", "recover_volume", "CheckReport", "BlockRun", "JournaledFile", "LOST_AND_FOUND", "iso_to_ns",
           "SALVAGED", "SALVAGED_REASON", "is_salvaged"]
