"""The catalog side of span sets: which cartridges hold a set, in order, and the parts of split files.

`record_part` and `record_span_volume` are called by lto_archive.catalog.record
for every manifest it records (after a job, a verify, an import): a part's
file row is the whole file (the whole file's hashes, once a manifest that
knows them is seen), its copy row says which part of it the cartridge holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..catalog.spans import record_part, record_span_volume  # (moved to the catalog: store rows)

if TYPE_CHECKING:
    from ..catalog.store import Catalog
    from .result import SpanResult


def record_span_write(catalog: "Catalog", result: "SpanResult") -> list[str]:
    """Every cartridge of a spanning job into the catalog; returns their labels in set order."""
    from ..catalog.record import record_write
    from ..jobs.write import WriteResult
    labels = []
    for vol, medium in zip(result.volumes, result.media + [None] * len(result.volumes)):
        uuid = vol.manifest.session.span.get("volume_uuid")   # an LTFS set's cartridge: known without a barcode
        labels.append(record_write(catalog, vol, medium, volume_uuid=uuid).destination or "")
    if result.folders:          # each --copy-to folder: the job's whole files, and the read-back done
        whole = WriteResult(result.whole_manifest(), folders=result.folders)
        for done in result.folders:
            if done.status != "failed":
                record_write(catalog, whole, None, folder=done.root)
    return labels


def span_sets(catalog: "Catalog") -> list[dict[str, Any]]:
    """Every set the catalog knows: id, job, cartridges in order, whether its last volume is known."""
    rows = catalog.conn.execute(
        "SELECT v.set_id, v.span_job, v.sequence, v.last, d.label, d.location, j.started FROM span_volumes v "
        "JOIN destinations d ON d.id = v.destination_id JOIN jobs j ON j.id = v.job_id "
        "ORDER BY j.started, v.set_id, v.sequence").fetchall()
    sets: dict[str, dict[str, Any]] = {}
    for set_id, job, seq, last, label, location, started in rows:
        s = sets.setdefault(set_id, {"set_id": set_id, "job": job, "started": started, "volumes": [],
                                     "complete": False})
        s["volumes"].append({"sequence": seq, "cartridge": label, "location": location, "last": bool(last)})
        s["complete"] = s["complete"] or bool(last)
    for s in sets.values():     # complete: volumes 1..last, none missing
        seqs = [v["sequence"] for v in s["volumes"]]
        s["complete"] = s["complete"] and seqs == list(range(1, len(seqs) + 1))
    return list(sets.values())


def set_cartridges(catalog: "Catalog", set_id: str) -> list[str]:
    """The cartridges of a set (a set id or its first characters, or the job id), in order."""
    return [v["cartridge"] for v in find_set(catalog, set_id)["volumes"]]


def find_set(catalog: "Catalog", set_id: str) -> dict[str, Any]:
    """The one set a set id (or its first characters) or a job id names; a job written to several
    drives in one pass has a set per drive: then each is named, with its cartridges, to pick one."""
    from ..errors import UsageError
    sets = span_sets(catalog)
    found = [s for s in sets if s["set_id"].startswith(set_id) or s["job"] == set_id]
    if len(found) == 1:
        return found[0]

    def named(s: dict[str, Any]) -> str:
        return f"{s['set_id']} (job {s['job']}: {', '.join(v['cartridge'] for v in s['volumes'])})"
    if not found:
        known = "; ".join(named(s) for s in sets) or "none"
        raise UsageError(f"no span set matches {set_id!r} in the catalog (sets: {known})", set_id=set_id)
    raise UsageError(f"{len(found)} span sets match {set_id!r}: {'; '.join(named(s) for s in found)} - "
                     f"give --set with one set id (its first characters are enough)", set_id=set_id,
                     sets=[s["set_id"] for s in found])


__all__ = ["record_part", "record_span_volume", "record_span_write", "span_sets", "set_cartridges", "find_set"]
