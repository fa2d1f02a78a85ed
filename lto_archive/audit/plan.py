"""What is due: every cartridge's state under the catalog's audit policy, at a given time.

A cartridge is fully verified at least every `full_months` (its last full proof: a full audit that passed,
or the time since which every copy on it passed an ordinary verify or read-back); in between, a sample is
read every `sample_months`. A cartridge never proven is due at once; one whose health readings warn after
its last audit is due for a full audit. `grace_days` after its due date it is overdue. A cartridge whose
last check failed is failing: it needs a person (restore the file from another copy, migrate the
cartridge), and `audit run --cartridge` checks it again on request.

The order (`AuditPlan.due`): grouped by library, in the order the libraries were given (cartridges in no
library given last), so the robot moves as little as possible; in each group the cartridges already in a
drive first, then the oldest due date first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..catalog.audits import Policy, audits, cartridges, get_policy, health_warnings
from ..catalog.store import Catalog
from .clock import add_months, iso, parse_time

GOOD, DUE, OVERDUE, FAILING = "good", "due", "overdue", "failing"
STATES = (GOOD, DUE, OVERDUE, FAILING)
SHELF = ""          # the group of cartridges in no library given


@dataclass(frozen=True)
class Place:
    """Where a cartridge is now: the library (or drive spec) holding it, and whether it is in a drive."""

    group: str = SHELF
    loaded: bool = False


@dataclass
class CartridgeState:
    """One cartridge under the policy: its state, what is due (kind, reason, when) and its last proofs."""

    label: str
    destination_id: int
    location: str
    files: int
    bytes: int
    state: str
    kind: str | None             # full, sample, or None (nothing due)
    reason: str                  # never-proven, due, health, failed, ''
    due_at: datetime
    last_full: str | None
    last_sample: str | None
    last_audit: dict[str, Any] | None
    health: list[str] = field(default_factory=list)
    place: Place = Place()

    def to_dict(self) -> dict[str, Any]:
        last = self.last_audit
        return {"cartridge": self.label, "state": self.state, "due": self.kind, "reason": self.reason,
                "due_at": iso(self.due_at), "last_full": self.last_full, "last_sample": self.last_sample,
                "last_audit": None if last is None else {k: last[k] for k in ("at", "kind", "result", "files",
                                                                               "failed")},
                "files": self.files, "bytes": self.bytes, "location": self.location, "health": self.health,
                "library": self.place.group or None, "loaded": self.place.loaded}


@dataclass
class AuditPlan:
    now: datetime
    policy: Policy
    cartridges: list[CartridgeState]
    groups: list[str] = field(default_factory=list)      # the libraries (and drives), in the order given
    problems: list[dict[str, str]] = field(default_factory=list)     # a drive or library that could not be asked

    @property
    def due(self) -> list[CartridgeState]:
        """What `audit run` does, in the order it does it."""
        groups = {g: i for i, g in enumerate(self.groups)}
        todo = [c for c in self.cartridges if c.kind is not None and c.state != FAILING]
        return sorted(todo, key=lambda c: (groups.get(c.place.group, len(groups)), not c.place.loaded, c.due_at,
                                           c.label))

    def counts(self) -> dict[str, int]:
        return {s: sum(c.state == s for c in self.cartridges) for s in STATES}

    def to_dict(self) -> dict[str, Any]:
        return {"now": iso(self.now), "policy": self.policy.to_dict(), "counts": self.counts(),
                "due": [c.to_dict() for c in self.due], "cartridges": [c.to_dict() for c in self.cartridges],
                "problems": self.problems}


def _latest(items: list[dict[str, Any]], **match: str) -> dict[str, Any] | None:
    found = [a for a in items if all(a[k] == v for k, v in match.items())]
    return found[-1] if found else None


def _t(text: str) -> datetime:
    when = parse_time(text)
    assert when is not None
    return when


def _newest(*times: str | None) -> str | None:
    known = [t for t in times if t]
    return max(known, key=_t) if known else None


def _due(last_full: str | None, last_sample: str | None, first_seen: str, policy: Policy,
         now: datetime) -> tuple[datetime, str, str]:
    """When the next audit is due, its kind and why."""
    if last_full is None:
        return _t(first_seen), "full", "never-proven"
    full_due = add_months(_t(last_full), policy.full_months)
    sample_due = add_months(_t(_newest(last_full, last_sample) or last_full), policy.sample_months)
    full = full_due <= sample_due or now >= full_due       # a sample missed for so long that a full one is due
    return min(full_due, sample_due), "full" if full else "sample", "due"


def _state(row: dict[str, Any], history: list[dict[str, Any]], policy: Policy, now: datetime,
           health: dict[str, Any] | None, place: Place) -> CartridgeState:
    full = _latest(history, kind="full", result="ok")
    sample = _latest(history, kind="sample", result="ok")
    last = history[-1] if history else None
    last_full = _newest(full["at"] if full else None, row["proven_all"])
    last_sample = sample["at"] if sample else None
    due_at, kind, reason = _due(last_full, last_sample, row["first_seen"], policy, now)
    warned = health is not None and (last is None or _t(health["at"]) > _t(last["at"]))
    if health is not None and warned and due_at > now:
        due_at, kind, reason = min(_t(health["at"]), now), "full", "health"
    failing = bool(row["failing"]) or (last is not None and last["result"] == "failed")
    state = FAILING if failing else GOOD if now < due_at else \
        OVERDUE if (now - due_at).days >= policy.grace_days else DUE
    if state == FAILING:
        reason = "failed"
    return CartridgeState(row["label"], row["id"], row["location"] or "", row["files"], row["bytes"], state,
                          None if state == GOOD else kind, "" if state == GOOD else reason, due_at, last_full,
                          last_sample, last, list(health["warnings"]) if health is not None and warned else [], place)


def plan_audits(cat: Catalog, now: datetime, places: dict[str, Place] | None = None,
                policy: Policy | None = None) -> AuditPlan:
    """Every cartridge's state at `now`; `places`: where the cartridges are (by label), from the libraries and
    drives the caller can reach."""
    policy = policy or get_policy(cat)
    places = places or {}
    history: dict[int, list[dict[str, Any]]] = {}
    for a in audits(cat):
        if _t(a["at"]) <= now:         # the clock can be set back: what it has not seen yet did not happen
            history.setdefault(a["destination_id"], []).append(a)
    health = health_warnings(cat)
    states = [_state(row, history.get(row["id"], []), policy, now, health.get(row["barcode"] or row["label"]),
                     places.get(row["label"], Place())) for row in cartridges(cat)]
    return AuditPlan(now, policy, states, list(dict.fromkeys(p.group for p in places.values() if p.group != SHELF)))


__all__ = ["GOOD", "DUE", "OVERDUE", "FAILING", "STATES", "SHELF", "Place", "CartridgeState", "AuditPlan",
           "plan_audits"]
