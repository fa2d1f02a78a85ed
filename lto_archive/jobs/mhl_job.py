"""ASC MHL in the write job: every card's history goes with every copy, verified on ingest.

A source card that arrives with an ASC MHL history (`ascmhl/` at its root) is
checked in the same pass that copies it: the job hashes with a format the
history recorded too (`formats_to_hash`), and a file whose bytes differ from
its recorded hash is marked CHANGED (never verified, so no OK-to-format).
After the pass, each card gets a new generation (process "transfer", creator
from the session) appended to its history; the whole `ascmhl/` folder is
written with every copy: as members of the tape file, and into every folder
destination. The card's own `ascmhl/` files are therefore not copied as plain
files (the updated history replaces them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..manifest import CHANGED, OK, Manifest
from ..mhl.model import HISTORY_FOLDER, History
from ..mhl.reader import read_history
from ..mhl.writer import formats_to_hash, generation_from_manifest, history_files
from ..scan import SourceEntry


@dataclass
class CardHistory:
    top: str                         # the card's name in the archive (first path component)
    prior: History | None
    files: dict[str, bytes] = field(default_factory=dict)   # "<top>/ascmhl/..." -> bytes, after `finish`
    outcomes: dict[str, int] = field(default_factory=dict)


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
    kept = [e for e in entries if not any(e.name == s or e.name.startswith(s + "/") for s in skip)]
    return cards, kept, tuple(dict.fromkeys(algorithms))


def finish(cards: list[CardHistory], manifest: Manifest) -> None:
    """Build each card's new generation; mark files that contradict the card's history."""
    by_path = {r.path: r for r in manifest.files}
    for card in cards:
        build = generation_from_manifest(manifest, card.top, prior=card.prior)
        for rel, outcome in build.outcomes.items():
            card.outcomes[outcome] = card.outcomes.get(outcome, 0) + 1
            rec = by_path.get(f"{card.top}/{rel}")
            if outcome == "failed" and rec is not None and rec.status == OK:
                fmt, (want, got) = next(iter(build.mismatches.get(rel, {"?": ("?", "?")}).items()))
                rec.status = CHANGED
                rec.message = (f"differs from the card's ASC MHL history ({fmt} {got}, recorded {want}): "
                               f"the card was altered after it was first hashed")
        for rel, data in history_files(card.top, build.generation, card.prior).items():
            card.files[f"{card.top}/{rel}"] = data


__all__ = ["CardHistory", "prepare", "finish"]
