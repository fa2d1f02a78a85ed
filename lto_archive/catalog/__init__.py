"""The catalog: what is on which tape (or folder), and where, in SQLite or a shared PostgreSQL.

    from lto_archive.catalog import Catalog, record_write, record_read, search, restore_plan

    with Catalog.open() as cat:                  # $LTO_ARCHIVE_CATALOG or ~/.local/share/lto-archive/catalog.sqlite
        record_write(cat, result, dev.medium())  # after jobs.write.write_archive
        for hit in search(cat, "A001C007*"):
            print(hit.path, [c.destination for c in hit.copies])

The catalog is a store: it never reads a tape. The tapes stay the source of
truth: the engine's catalog import (lto_archive.jobs.catalog_import:
`import_tape`, `import_folder`, `record_job`) reads a cartridge and rebuilds
its entries from its manifests or LTFS index. See docs/catalog.md.
"""

from .imported import IndexedFile, TapeFileFound, record_folder_import, record_ltfs_index, record_tape_files
from .record import Recorded, record_folder_read, record_read, record_write
from .schema import MIGRATIONS, SCHEMA_VERSION, CatalogError
from .search import (CAMERA_REEL, CartridgePlan, CopyHit, FileHit, PlanEntry, RestorePlan, camera_reel,
                     catalog_document, export, export_file, parse_when, restore_plan, search, write_csv)
from .copy import CopyResult, copy_catalog, uncovered_tables
from .store import ENV_VAR, Catalog, catalog_exists, catalog_target, data_home, default_path, local_path

__all__ = ["Catalog", "CatalogError", "default_path", "catalog_target", "catalog_exists", "local_path", "data_home", "copy_catalog", "CopyResult",
           "uncovered_tables", "ENV_VAR", "MIGRATIONS", "SCHEMA_VERSION", "Recorded",
           "record_write", "record_read", "record_folder_read", "record_tape_files", "record_ltfs_index",
           "record_folder_import", "TapeFileFound", "IndexedFile", "search", "restore_plan", "export", "export_file", "write_csv",
           "catalog_document", "camera_reel", "parse_when", "CAMERA_REEL", "FileHit", "CopyHit", "PlanEntry",
           "CartridgePlan", "RestorePlan"]
