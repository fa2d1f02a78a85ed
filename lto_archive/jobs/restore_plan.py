"""Restore from the catalog, before the tape moves: which cartridges to load, in which order.

    plan = plan_restore(catalog, ["A001_C007/CLIPS", "SOUND_DAY3/T001.WAV"])
    for step in load_instructions(plan):          # what to fetch from the shelf, in the order to load it
        print(step["order"], step["barcode"], step["location"], step["files"], step["bytes"])

jobs/catalog_restore.py restores a plan (`restore_from_plan`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..catalog.search import restore_plan
from ..errors import LtoArchiveError
from ..formats.ltfs.volume import open_volume
from ..formats.registry import is_volume_layout
from ..tape.device import TapeDevice

if TYPE_CHECKING:
    from ..catalog.search import RestorePlan
    from ..catalog.store import Catalog

def on_index(entry: Any) -> bool:
    """A plan entry (catalog.search.PlanEntry) reached through its volume's index (LTFS), not in a tape file."""
    return is_volume_layout(entry.format)


# --- the plan and what to load -------------------------------------------------------------------

def plan_restore(catalog: "Catalog", paths: Sequence[str], loaded: Sequence[str] = ()) -> "RestorePlan":
    """The cartridges to load and the files on each, in tape order (catalog.search.restore_plan).

    `loaded`: barcodes (or LTFS volume UUIDs) of the cartridges already in the drives: what they hold is
    read from them first, and only the fewest other cartridges are asked for.
    """
    return restore_plan(catalog, paths, loaded=loaded)


def loaded_labels(devices: Iterable[TapeDevice]) -> list[str]:
    """What each drive holds, as restore_plan takes it: its barcode, else its LTFS volume UUID."""
    out = []
    for dev in devices:
        try:
            barcode = dev.medium().barcode
        except LtoArchiveError:
            continue                # an empty drive
        if barcode:
            out.append(barcode)
            continue
        try:
            out.append(open_volume(dev).label.volume_uuid)
        except (LtoArchiveError, ValueError):
            pass
    return out


def load_instructions(plan: "RestorePlan") -> list[dict[str, Any]]:
    """One dict per cartridge, in the order to load them (the order restore_from_plan reads them):

    order (1, 2, ...), barcode (the catalog's label: barcode, or 'ltfs:<uuid>' / 'device:<name>'
    when it knows none), loaded (already in a drive: nothing to fetch), location (shelf, free text, '' when unknown), volume_uuid, generation,
    formats, files, bytes, tape_files (tape file numbers to visit; LTFS files have none), paths.
    """
    out = []
    for i, cart in enumerate(plan, 1):
        info = plan.tapes.get(cart.barcode, {})
        tape_files = sorted({e.tape_file for e in cart.entries if e.tape_file is not None and not on_index(e)})
        out.append({"order": i, "barcode": cart.barcode, "loaded": cart.barcode in plan.loaded,
                    "location": info.get("location") or "",
                    "volume_uuid": info.get("volume_uuid"), "generation": info.get("generation"),
                    "formats": sorted({e.format for e in cart.entries}), "files": len(cart.entries),
                    "bytes": sum(e.size for e in cart.entries), "tape_files": tape_files,
                    "paths": [e.path for e in cart.entries]})
    return out


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000   # type: ignore[assignment]
    return str(n)


def load_instruction_lines(plan: "RestorePlan") -> list[str]:
    """The same as text, one line per cartridge, then one per path that cannot be restored."""
    lines = []
    for step in load_instructions(plan):
        where = f" ({step['location']})" if step["location"] else " (shelf location unknown)"
        verb = "already loaded:" if step["loaded"] else "load"
        if step["loaded"]:
            where = ""
        lines.append(f"{step['order']}. {verb} {step['barcode']}{where}: {step['files']} file(s), "
                     f"{_size(step['bytes'])}, {'/'.join(step['formats'])}")
    lines += [f"not in the catalog: {p}" for p in plan.unmatched]
    lines += [f"split across the cartridges of a span set (restore it with lto-archive span restore): {p}"
              if p in plan.split else f"no tape copy in the catalog: {p}" for p in plan.not_on_tape]
    return lines


def plan_document(plan: "RestorePlan") -> dict[str, Any]:
    """JSON-ready: the load instructions, the totals, and what the catalog cannot place."""
    steps = load_instructions(plan)
    return {"format": "lto-archive-restore-plan", "version": 1, "cartridges": steps,
            "files": sum(s["files"] for s in steps), "bytes": sum(s["bytes"] for s in steps),
            "unmatched": list(plan.unmatched), "not_on_tape": list(plan.not_on_tape)}


__all__ = ["plan_restore", "loaded_labels", "load_instructions", "load_instruction_lines", "plan_document",
           "on_index"]
