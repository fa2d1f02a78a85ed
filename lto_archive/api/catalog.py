"""The catalog for scripts: what is on which tape or folder, and where; search, import, export."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Union

from ..catalog import ENV_VAR, CatalogError, FileHit, Recorded, RestorePlan, catalog_exists, catalog_target, default_path
from ..catalog import copy_catalog as _copy_catalog
from ..catalog import Catalog as CatalogStore
from ..catalog import export as _export
from ..jobs.catalog_import import import_folder as _import_folder
from ..jobs.catalog_import import import_tape as _import_tape
from ..catalog import health as _health
from ..catalog import search as _search
from ..catalog.overview import overview as _overview
from . import custody as _custody
from ..catalog.custody import import_event
from ..catalog.search import search_document
from ..errors import UsageError
from ..jobs.catalog_restore import load_instruction_lines, plan_document, plan_restore
from ..jobs.read import load_copy_log
from ..span.catalog import find_set, span_sets
from ..library import DriveInfo, Library
from ..tape import TapeDevice
from .targets import MOUNT_PREFIX, LtfsMount, open_tape

DEFAULT_CATALOG_HELP = f"${ENV_VAR}, else ~/.local/share/lto-archive/catalog.sqlite"


class Catalog:
    """A catalog file (SQLite): `Catalog()` opens the default one ($LTO_ARCHIVE_CATALOG, else
    ~/.local/share/lto-archive/catalog.sqlite), `Catalog(path)` that one. `create=False` refuses a
    catalog that does not exist yet. Use it as a context manager, or `close()` it."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.store = CatalogStore.open(path, create=create)

    @property
    def path(self) -> Path:
        """The SQLite file (for PostgreSQL: the local data folder the logs go beside)."""
        return Path(self.store.path)

    @property
    def location(self) -> str:
        """What the catalog is, for people: its file, or its URL without the password."""
        return self.store.location

    @property
    def engine(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.store.dialect

    @property
    def schema_version(self) -> int:
        return self.store.schema_version

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- finding files -------------------------------------------------------------------------
    def search(self, pattern: str | None = None, *, hash: str | None = None, camera: str | None = None,
               reel: str | None = None, since: str | None = None, until: str | None = None,
               date_field: str = "mtime", destination: str | None = None, reel_regex: str | None = None,
               production: str | None = None, limit: int | None = None) -> list[FileHit]:
        """Files matching every criterion given (none: every file), each with its copies (`.copies`: the
        tape or folder, position, last verification). See docs/catalog.md for the pattern rules."""
        return _search(self.store, pattern, hash=hash, camera=camera, reel=reel, since=since, until=until,
                       date_field=date_field, destination=destination, reel_regex=reel_regex, production=production,
                       limit=limit)

    @staticmethod
    def search_document(hits: Sequence[FileHit], criteria: dict[str, Any] | None = None) -> dict[str, Any]:
        """Search hits as the JSON document `catalog search --json` prints."""
        return search_document(hits, criteria)

    def tapes(self, *, include_folders: bool = True) -> list[dict[str, Any]]:
        """Every tape (and folder) with its shelf location and what is on it."""
        return self.store.tapes(include_folders=include_folders)

    # --- the chain of custody (docs/custody.md) ------------------------------------------------
    def custody_record(self, event: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
        """Append one event (write, verify, restore, location, ...) to the hash-chained custody log."""
        return _custody.record_event(self.store, event, subject, data)

    def custody_log(self, *, subject: str | None = None) -> list[dict[str, Any]]:
        """The custody log in order (every entry, or those about one barcode, folder or session)."""
        return _custody.show(self.store, subject=subject)

    def custody_checkpoint(self, *, sign_key: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """A checkpoint naming the log's head, signed with the lab's key (`baf keygen`) when given."""
        return _custody.checkpoint(self.store, sign_key=sign_key)

    def custody_export(self, output: str | os.PathLike[str], *,
                       sign_key: str | os.PathLike[str] | None = None) -> Path:
        """The whole log as JSON lines, ending with a fresh (signed) checkpoint."""
        return _custody.export(self.store, output, sign_key=sign_key)

    def custody_verify(self, *, public_key: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """Check every link of the catalog's log; VerificationFailed (exit 3) names the first bad entry."""
        return _custody.verify(self.store, public_key=public_key).to_dict()

    def overview(self, *, jobs: int = 5) -> dict[str, Any]:
        """For `status`: counts, the newest jobs, and what needs attention (copies never read back, failed
        proofs, nearly full cartridges)."""
        return _overview(self.store, jobs=jobs)

    def set_location(self, barcode: str, location: str) -> dict[str, Any]:
        """Where the cartridge is kept ("Shelf 3"; "" clears it); a location event in the chain of custody."""
        done = self.store.set_location(barcode, location)
        self.custody_record("location", str(done.get("label") or barcode), {"location": location})
        return done

    def plan_restore(self, paths: Sequence[str], *, loaded: Sequence[str] = (), session: str | None = None,
                     tape_files: Sequence[int] | None = None) -> RestorePlan:
        """Which cartridges to load to restore `paths` (globs, files or folders), files in tape order:
        the fewest cartridges, those already `loaded` first; one copy of each path, the newest session's
        (or `session`'s / `tape_files`'), the others in `plan.passed_over`."""
        if not paths:
            raise UsageError("--from-catalog needs the PATHs (or patterns) to restore")
        return plan_restore(self.store, list(paths), loaded=loaded, session=session, tape_files=set(tape_files or ()))

    @staticmethod
    def plan_document(plan: RestorePlan) -> dict[str, Any]:
        return plan_document(plan)

    @staticmethod
    def load_instructions(plan: RestorePlan) -> list[str]:
        """What to load, in order, as lines for an operator."""
        return load_instruction_lines(plan)

    def span_sets(self) -> list[dict[str, Any]]:
        """The sets of cartridges written by spanning jobs, with their cartridges in order."""
        return span_sets(self.store)

    def find_set(self, set_id: str) -> dict[str, Any]:
        """The one set a set id (or its first characters) or a job id names."""
        return find_set(self.store, set_id)

    # --- import and export ---------------------------------------------------------------------
    def import_tape(self, device: TapeDevice | str, manifest: str | os.PathLike[str] | None = None) -> Recorded:
        """Rebuild the entries of a cartridge from what is on it (its manifests or LTFS index); safe to repeat.
        `manifest`: a copy log or job journal for a tape file that has no manifest (a killed job)."""
        copy_log = load_copy_log(Path(manifest)) if manifest is not None else None
        if isinstance(device, LtfsMount) or (isinstance(device, str) and device.startswith(MOUNT_PREFIX)):
            raise UsageError("catalog import reads the cartridge itself: give its device (vtape:DIR), not a mount")
        if isinstance(device, str):
            with open_tape(device) as dev:
                recorded = _import_tape(self.store, dev, copy_log)
        else:
            recorded = _import_tape(self.store, device, copy_log)
        import_event(self.store, recorded, str(device))          # the chain of custody
        return recorded

    def import_folder(self, folder: str | os.PathLike[str]) -> Recorded:
        """Rebuild the entries of a folder copy (write to a Folder) from the job manifests it holds."""
        recorded = _import_folder(self.store, Path(folder))
        import_event(self.store, recorded, str(folder))
        return recorded

    def export(self, fmt: str, output: str | os.PathLike[str] | IO[str],
               hits: Sequence[FileHit] | None = None) -> int:
        """The whole catalog (or these search hits) as 'csv' or 'json' into `output` (a path, an open
        text file, or "-" for standard output); returns the rows (csv) or files (json) written."""
        if fmt not in ("csv", "json"):
            raise UsageError(f"catalog export writes csv or json, not {fmt!r}", format=fmt)
        if output == "-":
            n = _export(self.store, fmt, sys.stdout, hits)
            sys.stdout.flush()
            return n
        if isinstance(output, (str, os.PathLike)):
            with open(output, "w", encoding="utf-8", newline="") as fp:
                return _export(self.store, fmt, fp, hits)
        return _export(self.store, fmt, output, hits)


CatalogArg = Union[Catalog, CatalogStore, str, "os.PathLike[str]", None, bool]


def record_pending_health(store: CatalogStore) -> CatalogStore:
    """The health readings taken at the loads of this process's jobs go into the catalog the job records in
    (catalog/health.py, docs/health.md)."""
    _health.record_pending(store)
    return store


@contextmanager
def catalog_store(catalog: CatalogArg, *, create: bool = True) -> Iterator[CatalogStore | None]:
    """The store a `catalog=` argument names: a Catalog (kept open), a path, None or True (the default
    catalog), False (none: nothing is recorded)."""
    if catalog is False:
        yield None
    elif isinstance(catalog, Catalog):
        yield record_pending_health(catalog.store)
    elif isinstance(catalog, CatalogStore):
        yield record_pending_health(catalog)
    else:
        where = None if catalog is None or isinstance(catalog, bool) else catalog
        with CatalogStore.open(where, create=create) as store:
            yield record_pending_health(store)


def copy_catalog(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> dict[str, Any]:
    """Everything the catalog `source` knows, added to `target` (an SQLite file or postgresql:// URL; made when
    new) without duplicates: running it twice changes nothing (docs/catalog.md, "Several machines")."""
    with CatalogStore.open(source, create=False) as src, CatalogStore.open(target) as dst:
        return _copy_catalog(src, dst).to_dict()


def migrate_catalog(catalog: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Bring the catalog (either engine) to this version's schema; what it was and what it is now."""
    kind, where = catalog_target(catalog)
    before = None
    with CatalogStore.open(catalog, migrate_to=0) as cat:
        before = cat.schema_version
    with CatalogStore.open(catalog) as cat:
        return {"catalog": cat.location, "engine": kind, "from_version": before, "version": cat.schema_version,
                "upgraded": cat.schema_version != before}


def export_cartridge(library: Library, barcode: str, ie_slot: int | None = None, *,
                     catalog: CatalogArg = None) -> int:
    """The robot moves the cartridge to an import/export (mail) slot; a library-export event in the chain of
    custody of `catalog` (default: the default catalog, when there is one). The slot."""
    where = library.status().locate(barcode)
    slot = library.export_cartridge(barcode, ie_slot)
    came = None if where is None else f"{'drive' if isinstance(where, DriveInfo) else 'slot'} {where.number}"
    _library_event(catalog, "library-export", barcode, {"library": library.name, "ie_slot": slot, "from": came})
    return slot


def import_cartridge(library: Library, ie_slot: int | None = None, slot: int | None = None, *,
                     catalog: CatalogArg = None) -> tuple[str | None, int, int]:
    """The robot stores the cartridge put in an import/export slot; a library-import event (as above).
    (barcode, import/export slot, storage slot)."""
    label, src, dest = library.import_cartridge(ie_slot, slot)
    _library_event(catalog, "library-import", label or f"{library.name} slot {dest}",
                   {"library": library.name, "ie_slot": src, "slot": dest})
    return label, src, dest


def _library_event(catalog: CatalogArg, event: str, subject: str, data: dict[str, Any]) -> None:
    if catalog is None and not catalog_exists():
        return                      # no catalog yet: a library move alone does not make one
    with catalog_store(catalog) as store:
        if store is not None:
            _custody.record_event(store, event, subject, data)


def verify_custody_log(path: str | os.PathLike[str], *, public_key: str | os.PathLike[str] | None = None,
                       excerpt: bool = False, require_signed: bool = False, catalog: CatalogArg = False
                       ) -> dict[str, Any]:
    """Check an exported custody log (`custody export`) or a tape session's excerpt (`excerpt=True`):
    VerificationFailed (exit 3) names the first edited, deleted, reordered or missing entry. With a `catalog`
    (a path, a Catalog; None: the default one; False, the default: none), a tape's custody record is also
    checked to be anchored in that catalog's chain (`"anchor"`: each session's status and message; one NOT
    anchored: VerificationFailed; docs/custody.md)."""
    out = _custody.verify(path, public_key=public_key, excerpt=excerpt, require_signed=require_signed).to_dict()
    if catalog is not False:
        with catalog_store(catalog, create=False) as store:
            if store is not None:
                out["anchor"] = _custody.verify_anchored(path, store)
    return out


__all__ = ["Catalog", "CatalogArg", "CatalogError", "catalog_store", "default_path", "DEFAULT_CATALOG_HELP", "FileHit",
           "Recorded", "RestorePlan", "verify_custody_log", "copy_catalog", "migrate_catalog", "export_cartridge", "import_cartridge"]
