"""Where the copy logs go by default: `logs/<production>/<YYYY-MM-DD>/` beside the catalog, and finding them again.

A write job's copy log (`<session>.json`, `.log`) and its journal (`<session>.journal.jsonl`) land in
the data folder beside the catalog (`$LTO_ARCHIVE_CATALOG`, `--catalog`, else
~/.local/share/lto-archive/catalog.sqlite): `logs/<production or 'no-production'>/<day>/`, the day
the job started, in local time (a DIT's shooting day). `--log-dir` (`log_dir=`) still wins.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from ..catalog import Catalog as CatalogStore
from ..catalog import default_path, local_path
from ..errors import UsageError
from ..jobs.journal import JOURNAL_SUFFIX, find_journals
from .catalog import Catalog, CatalogArg

LOGS_FOLDER = "logs"
NO_PRODUCTION = "no-production"
LEGACY_LOG_DIR = "lto-archive-logs"      # the default before: a folder in the current directory
DEFAULT_LOG_DIR_HELP = (f"{LOGS_FOLDER}/<production or '{NO_PRODUCTION}'>/<YYYY-MM-DD>/ "
                        "in the folder of the catalog")


def catalog_file(catalog: CatalogArg = None) -> Path:
    """The catalog file a `catalog=` argument names (None, True or False: the default one)."""
    if isinstance(catalog, Catalog):
        return catalog.path
    if isinstance(catalog, CatalogStore):
        return Path(catalog.path)
    if isinstance(catalog, (str, os.PathLike)):
        return local_path(catalog)
    return default_path()


def log_root(catalog: CatalogArg = None) -> Path:
    """The `logs/` folder beside the catalog: every job's copy log is under it, by production and day."""
    return catalog_file(catalog).parent / LOGS_FOLDER


def production_folder(production: str | None) -> str:
    """The folder name of a production ('no-production' for none); a name that cannot be one folder is a usage error."""
    name = (production or "").strip()
    if not name:
        return NO_PRODUCTION
    if "/" in name or "\\" in name or "\0" in name or name in (".", "..") or not name.isprintable():
        raise UsageError(f"--production {production!r}: a production's name becomes a folder of the logs; "
                         "it may not hold '/', '\\' or control characters, nor be '.' or '..'")
    return name


def job_log_dir(production: str | None = None, catalog: CatalogArg = None, day: date | None = None) -> Path:
    """Where a job started today (or on `day`) keeps its copy log: `<log_root>/<production>/<YYYY-MM-DD>`."""
    return log_root(catalog) / production_folder(production) / (day or date.today()).isoformat()


def journal_folders(catalog: CatalogArg = None) -> list[Path]:
    """Every folder that holds job journals by default: under the `logs/` beside the catalog (any production,
    any day), and the older default `lto-archive-logs` of the current directory when it exists."""
    root = log_root(catalog)
    found = sorted({p.parent for p in root.rglob(f"*{JOURNAL_SUFFIX}")}) if root.is_dir() else []
    legacy = Path(LEGACY_LOG_DIR)
    return found + ([legacy] if legacy.is_dir() else [])


def default_journals(volume_uuid: str, catalog: CatalogArg = None) -> list[Path]:
    """The journals in the default log folders that name this LTFS volume, oldest first (the session id
    starts with its time)."""
    return sorted((p for folder in journal_folders(catalog) for p in find_journals(folder, volume_uuid)),
                  key=lambda p: p.name)


__all__ = ["LOGS_FOLDER", "NO_PRODUCTION", "LEGACY_LOG_DIR", "DEFAULT_LOG_DIR_HELP", "catalog_file", "log_root",
           "production_folder", "job_log_dir", "journal_folders", "default_journals"]
