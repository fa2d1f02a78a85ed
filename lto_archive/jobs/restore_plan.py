"""Restore from the catalog, before the tape moves: which cartridges to load, in which order.

    plan = plan_restore(catalog, ["A001_C007/CLIPS", "SOUND_DAY3/T001.WAV"])
    for step in load_instructions(plan):          # what to fetch from the shelf, in the order to load it
        print(step["order"], step["barcode"], step["location"], step["files"], step["bytes"])

jobs/catalog_restore.py restores a plan (`restore_from_plan`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..catalog.search import CartridgePlan, RestorePlan, restore_plan
from ..errors import LtoArchiveError, UsageError
from ..formats.ltfs.volume import open_volume
from ..formats.registry import is_volume_layout
from ..tape.device import TapeDevice
from .restore_choice import newest_entries, passed_over_notes

if TYPE_CHECKING:
    from ..catalog.store import Catalog


def on_index(entry: Any) -> bool:
    """A plan entry (catalog.search.PlanEntry) reached through its volume's index (LTFS), not in a tape file."""
    return is_volume_layout(entry.format)


# --- the plan and what to load -------------------------------------------------------------------

class ChosenPlan(RestorePlan):
    """A RestorePlan with one copy of each path: `passed_over` (older copies, with the one kept instead and
    where each is) and `notes` that say so."""

    def __init__(self) -> None:
        super().__init__()
        self.passed_over: list[dict[str, Any]] = []
        self.notes: list[str] = []


def plan_restore(catalog: "Catalog", paths: Sequence[str], loaded: Sequence[str] = (), *,
                 session: str | None = None, tape_files: Collection[int] | None = None) -> ChosenPlan:
    """The cartridges to load and the files on each, in tape order (catalog.search.restore_plan), with one
    copy of each path: the newest session's, or those of `session` (an ID or its prefix) / `tape_files`.

    `loaded`: barcodes (or LTFS volume UUIDs) of the cartridges already in the drives: what they hold is
    read from them first, and only the fewest other cartridges are asked for.
    """
    return choose_copies(catalog, restore_plan(catalog, paths, loaded=loaded), session=session, tape_files=tape_files)


def choose_copies(catalog: "Catalog | None", plan: RestorePlan, *, session: str | None = None,
                  tape_files: Collection[int] | None = None) -> ChosenPlan:
    """`plan` cut to one copy per path (restore_choice.newest_entries: the job that started last, without a
    catalog the greater session ID); a cartridge left with nothing to read is dropped. Nothing left of a
    `session` / `tape_files` asked for: UsageError."""
    started = dict(catalog.conn.execute("SELECT session_id, started FROM jobs").fetchall()) if catalog else {}
    label = {id(e): c.barcode for c in plan for e in c.entries}
    entries = [e for c in plan for e in c.entries]
    kept, passed = newest_entries(entries, lambda sid: started.get(sid) or "", session=session, tape_files=tape_files)
    if entries and not kept:
        what = " and ".join(x for x in (f"session {session!r}" if session else "",
                                        f"tape file {', '.join(map(str, sorted(tape_files)))}" if tape_files else "")
                            if x)
        raise UsageError(f"no catalogued copy of these paths is in {what} (`lto-archive catalog search PATH` "
                         f"shows each copy's session and tape file)", session=session)
    keep = {id(e) for e in kept}
    out = ChosenPlan()
    out.extend(CartridgePlan(c.barcode, [e for e in c.entries if id(e) in keep]) for c in plan
               if any(id(e) in keep for e in c.entries))
    used = {c.barcode for c in out}
    out.tapes = {k: v for k, v in plan.tapes.items() if k in used}
    out.unmatched, out.not_on_tape, out.split = plan.unmatched, plan.not_on_tape, plan.split
    out.loaded = [lb for lb in plan.loaded if lb in used]

    def where(e: Any) -> str:
        return f"{label[id(e)]} tape file {e.tape_file}" if e.tape_file is not None else label[id(e)]
    out.passed_over = [{"path": old.path, "session_id": old.session_id, "where": where(old),
                        "kept_session_id": new.session_id, "kept": where(new)} for old, new in passed]
    out.notes = passed_over_notes(passed, where)
    return out


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
    lines += [f"note: {n}" for n in getattr(plan, "notes", [])]
    lines += [f"not in the catalog: {p}" for p in plan.unmatched]
    lines += [f"split across the cartridges of a span set (restore it with lto-archive span restore): {p}"
              if p in plan.split else f"no tape copy in the catalog: {p}" for p in plan.not_on_tape]
    return lines


def plan_document(plan: "RestorePlan") -> dict[str, Any]:
    """JSON-ready: the load instructions, the totals, and what the catalog cannot place."""
    steps = load_instructions(plan)
    return {"format": "lto-archive-restore-plan", "version": 1, "cartridges": steps,
            "files": sum(s["files"] for s in steps), "bytes": sum(s["bytes"] for s in steps),
            "unmatched": list(plan.unmatched), "not_on_tape": list(plan.not_on_tape),
            "passed_over": list(getattr(plan, "passed_over", []))}


__all__ = ["plan_restore", "choose_copies", "ChosenPlan", "loaded_labels", "load_instructions", "load_instruction_lines", "plan_document",
           "on_index"]
