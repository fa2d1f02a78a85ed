"""ASC MHL in the write job: every card's history goes with every copy, verified on ingest.

A source card that arrives with an ASC MHL history (`ascmhl/` at its root) is
checked in the same pass that copies it: the job hashes with a format the
history recorded too (`formats_to_hash`), and a file whose bytes differ from
its recorded hash is marked CHANGED (never verified, so no OK-to-format).
After the pass, each card gets a new generation (process "transfer", creator
from the session) appended to its history; the whole `ascmhl/` folder is
written with every copy: as members of the tape file, and into every folder
destination. The card's own `ascmhl/` files are therefore not copied as plain
files (the updated history replaces them). A card without a history gets one
that starts here: in folders at the card's root, on tape with the tape's own
metadata (so listings of the card stay what the card holds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..manifest import CHANGED, META_DIR, OK, Manifest
from ..mhl.model import HISTORY_FOLDER, History
from ..mhl.reader import read_history
from ..mhl.writer import formats_to_hash, generation_from_manifest, history_files, storable
from ..scan import SourceEntry


@dataclass
class CardHistory:
    top: str                         # the card's name in the archive (first path component)
    prior: History | None
    files: dict[str, bytes] = field(default_factory=dict)   # "ascmhl/..." -> bytes, after `finish`
    outcomes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def tape_members(self, meta_base: str = f"{META_DIR}/mhl") -> dict[str, bytes]:
        """Where the history goes in a tape file: at the card's root when the card came with one (it
        replaces the card's own `ascmhl/` files), else with the tape's metadata
        (`.lto-archive/mhl/<card>/ascmhl/`, itself a history root)."""
        base = self.top if self.prior is not None else f"{meta_base}/{self.top}"
        return {f"{base}/{rel}": data for rel, data in self.files.items()}

    def folder_files(self) -> dict[str, bytes]:
        """In a folder destination the history sits at the copied card's root, where ASC MHL tools look."""
        return {f"{self.top}/{rel}": data for rel, data in self.files.items()}


def prepare(sources: list[str | Path], entries: list[SourceEntry], algorithms: tuple[str, ...]
            ) -> tuple[list[CardHistory], list[SourceEntry], tuple[str, ...]]:
    """Read each card's history (C4-checked), drop its `ascmhl/` files from the copy, widen the hashes."""
    cards: list[CardHistory] = []
    tops = []
    for src in sources:
        p = Path(src)
        if not p.is_dir():
            continue
        prior = read_history(p, missing_ok=True)
        history = prior if prior.generations else None
        cards.append(CardHistory(p.resolve().name or p.name, history))
        tops.append(cards[-1].top)
        if history is not None:
            algorithms = formats_to_hash(algorithms, history) + tuple(
                a for a in algorithms if a not in formats_to_hash(algorithms, history))
    skip = tuple(f"{t}/{HISTORY_FOLDER}" for t in tops)
    under = tuple(s + "/" for s in skip)
    kept = [e for e in entries if not (e.name in skip or e.name.startswith(under))]
    return cards, kept, tuple(dict.fromkeys(algorithms))


def finish(cards: list[CardHistory], manifest: Manifest) -> None:
    """Build each card's new generation; mark files that contradict the card's history."""
    by_path: dict[str, int] | None = None     # made only when a file contradicts a history
    for card in cards:
        # names XML cannot hold (control characters) stay out of the history, said in the notes
        left_out = [r.path for r in manifest.files if r.path.startswith(card.top + "/") and not storable(r.path)]
        # (all storable, the usual case: the records as they are, never a list of 10^6 of them)
        kept = [r for r in manifest.files if storable(r.path)] if left_out else manifest.files
        if left_out:
            card.notes.append(f"{len(left_out)} file(s) of {card.top} have names an ASC MHL manifest cannot hold "
                              f"and are not in its history: {', '.join(repr(p) for p in left_out[:5])}")
        build = generation_from_manifest(Manifest(manifest.session, kept), card.top, prior=card.prior)
        for rel, outcome in build.outcomes.items():
            card.outcomes[outcome] = card.outcomes.get(outcome, 0) + 1
            if outcome != "failed":
                continue
            if by_path is None:
                by_path = {r.path: i for i, r in enumerate(manifest.files)}
            i = by_path.get(f"{card.top}/{rel}", -1)
            rec = manifest.files[i] if i >= 0 else None
            if rec is not None and rec.status == OK:
                fmt, (want, got) = next(iter(build.mismatches.get(rel, {"?": ("?", "?")}).items()))
                rec.status = CHANGED
                rec.message = (f"differs from the card's ASC MHL history ({fmt} {got}, recorded {want}): "
                               f"the card was altered after it was first hashed")
                manifest.files[i] = rec     # (records on disk: kept by writing it back)
        card.files.update(history_files(card.top, build.generation, card.prior))


__all__ = ["CardHistory", "prepare", "finish"]
