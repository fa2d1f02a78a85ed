"""`migrate`: cartridges moved tape to tape (any format to any), proven by reading the target back, the old one
then marked superseded in the catalog; and the lineage the catalog keeps (docs/migration.md)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from ..progress import ProgressCallback
from ..catalog.lineage import migrations as _migrations
from ..catalog.lineage import superseded_by as _superseded_by
from ..errors import UsageError
from ..migration import Migration
from ..migration import migrate as _migrate
from ..tape import TapeDevice
from .catalog import CatalogArg, catalog_store
from .logs import job_log_dir, production_folder
from .targets import open_tape, target_name

PathLike = str | os.PathLike[str]
Drives = Mapping[int, str] | Iterable[str] | None


@contextmanager
def _given(dev: TapeDevice) -> Iterator[TapeDevice]:
    yield dev                     # a device the caller opened: the caller closes it


def _opener(spec: TapeDevice | str | None, barcode: str | None, library: str | None,
            drives: Drives) -> Any:
    if isinstance(spec, TapeDevice):
        return lambda: _given(spec)
    where = spec or library
    if where is None:
        raise UsageError("name the cartridge: a device (--from/--to DEVICE) or --library with its barcode")

    def open_it() -> AbstractContextManager[TapeDevice]:
        return open_tape(where, barcode=barcode, library=library, drive_devices=drives)
    return open_it


def migrate(sources: TapeDevice | str | Sequence[TapeDevice | str] = (), target: TapeDevice | str | None = None, *,
            format: str | None = None, staging: PathLike | None = None, catalog: CatalogArg = None,
            library: str | None = None, source_barcodes: Sequence[str] = (), target_barcode: str | None = None,
            drive_devices: Drives = None, operator: str | None = None, production: str | None = None,
            log_dir: PathLike | None | bool = None, progress: ProgressCallback | None = None) -> Migration:
    """Move every source cartridge to `target`: each read into `staging` (its room checked first) with every
    file hashed and proven against its manifest and the catalog's hashes, written to the target in `format`
    (default: LTFS on an LTFS volume, else the source's format), the target read back and compared; only a
    proven source is marked superseded (nothing is deleted). Several sources: consolidation. With `library`,
    `source_barcodes` and `target_barcode` name the cartridges (one drive will do: the robot swaps them).
    The catalog (default: the default catalog) is required: it keeps the lineage."""
    production_folder(production)
    given = [sources] if isinstance(sources, (str, TapeDevice)) else list(sources)
    openers = [_opener(s, None, None, drive_devices) for s in given]
    openers += [_opener(None, b, library, drive_devices) for b in source_barcodes]
    if target is None and target_barcode is None:
        raise UsageError("migrate needs a target: --to DEVICE, or --library with --to-barcode")
    open_target = _opener(target, target_barcode, library if target_barcode else None, drive_devices)
    if catalog is False:
        raise UsageError("a migration is recorded in the catalog (its lineage): it cannot run with catalog=False")
    logs = job_log_dir(production, catalog) if log_dir is None or log_dir is True else \
        None if log_dir is False else Path(log_dir)
    name = target_barcode or (target_name(target) if target is not None else "")
    with catalog_store(catalog) as store:
        assert store is not None
        if staging is not None:
            return _migrate(store, openers, open_target, Path(staging), format=format, operator=operator,
                            log_dir=logs, production=(production or "").strip(), target_name=name,
                            progress=progress)
        with tempfile.TemporaryDirectory(prefix="lto-archive-migrate-") as tmp:
            done = _migrate(store, openers, open_target, Path(tmp), format=format, operator=operator,
                            log_dir=logs, production=(production or "").strip(), target_name=name,
                            progress=progress)
        for one in done.sources:
            one.staging_kept = None          # a temporary folder is not kept: give `staging` to keep one
        return done


def migrations(catalog: CatalogArg = None, cartridge: str | None = None) -> list[dict[str, Any]]:
    """The migrations the catalog recorded (all, or from or to one cartridge), with each source's state."""
    with catalog_store(None if catalog is False else catalog, create=False) as store:
        assert store is not None
        out = _migrations(store, cartridge)
        for m in out:
            m["source_superseded_by"] = (_superseded_by(store, m["source"]) or {}).get("by")
        return out


__all__ = ["migrate", "migrations", "Migration"]
