"""The catalog for scripts: what is on which tape or folder, and where; search, import, export."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Union

from ..catalog import ENV_VAR, CatalogError, FileHit, Recorded, RestorePlan, default_path, restore_plan
from ..catalog import Catalog as CatalogStore
from ..catalog import export as _export
from ..jobs.catalog_import import import_folder as _import_folder
from ..jobs.catalog_import import import_tape as _import_tape
from ..catalog import health as _health
from ..catalog import search as _search
from ..catalog.overview import overview as _overview
from . import custody as _custody
from ..catalog.search import search_document
from ..errors import UsageError
from ..jobs.catalog_restore import load_instruction_lines, plan_document
from ..jobs.read import load_copy_log
from ..span.catalog import find_set, span_sets
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
        return Path(self.store.path)

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
               limit: int | None = None) -> list[FileHit]:
        """Files matching every criterion given (none: every file), each with its copies (`.copies`: the
        tape or folder, position, last verification). See docs/catalog.md for the pattern rules."""
        return _search(self.store, pattern, hash=hash, camera=camera, reel=reel, since=since, until=until,
                       date_field=date_field, destination=destination, reel_regex=reel_regex, limit=limit)

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
        """Where the cartridge is kept ("Shelf 3"; "" clears it)."""
        return self.store.set_location(barcode, location)

    def plan_restore(self, paths: Sequence[str], *, loaded: Sequence[str] = ()) -> RestorePlan:
        """Which cartridges to load to restore `paths` (globs, files or folders), files in tape order:
        the fewest cartridges, those already `loaded` first."""
        if not paths:
            raise UsageError("--from-catalog needs the PATHs (or patterns) to restore")
        return restore_plan(self.store, list(paths), loaded=loaded)

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
                return _import_tape(self.store, dev, copy_log)
        return _import_tape(self.store, device, copy_log)

    def import_folder(self, folder: str | os.PathLike[str]) -> Recorded:
        """Rebuild the entries of a folder copy (write to a Folder) from the job manifests it holds."""
        return _import_folder(self.store, Path(folder))

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


def verify_custody_log(path: str | os.PathLike[str], *, public_key: str | os.PathLike[str] | None = None,
                       excerpt: bool = False, require_signed: bool = False) -> dict[str, Any]:
    """Check an exported custody log (`custody export`) or a tape session's excerpt (`excerpt=True`):
    VerificationFailed (exit 3) names the first edited, deleted, reordered or missing entry."""
    return _custody.verify(path, public_key=public_key, excerpt=excerpt, require_signed=require_signed).to_dict()


__all__ = ["Catalog", "CatalogArg", "CatalogError", "catalog_store", "default_path", "DEFAULT_CATALOG_HELP", "FileHit",
           "Recorded", "RestorePlan", "verify_custody_log"]
