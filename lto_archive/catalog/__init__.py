"""The catalog: what is on which tape (or folder), and where, in SQLite.

    from lto_archive.catalog import Catalog, record_write, record_read, import_tape, search, restore_plan

    with Catalog.open() as cat:                  # $LTO_ARCHIVE_CATALOG or ~/.local/share/lto-archive/catalog.sqlite
        record_write(cat, result, dev.medium())  # after jobs.write.write_archive
        for hit in search(cat, "A001C007*"):
            print(hit.path, [c.destination for c in hit.copies])

The tapes stay the source of truth: `import_tape` rebuilds a cartridge's
entries from its manifests or LTFS index. See docs/catalog.md.
"""

from .record import (Recorded, import_folder, import_tape, record_folder_read, record_job, record_read, record_write,
                     tape_used)
from .schema import MIGRATIONS, SCHEMA_VERSION, CatalogError
from .search import (CAMERA_REEL, CartridgePlan, CopyHit, FileHit, PlanEntry, RestorePlan, camera_reel,
                     catalog_document, export, parse_when, restore_plan, search, write_csv)
from .store import ENV_VAR, Catalog, default_path

__all__ = ["Catalog", "CatalogError", "default_path", "ENV_VAR", "MIGRATIONS", "SCHEMA_VERSION", "Recorded",
           "record_write", "record_read", "record_job", "import_tape", "import_folder", "record_folder_read",
           "tape_used", "search", "restore_plan", "export", "write_csv",
           "catalog_document", "camera_reel", "parse_when", "CAMERA_REEL", "FileHit", "CopyHit", "PlanEntry",
           "CartridgePlan", "RestorePlan"]
