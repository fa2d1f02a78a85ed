"""Migration: cartridges moved to a new one (tape to tape, any format to any), proven, and the old one marked
superseded in the catalog; several sources to one target, one drive through a staging folder (docs/migration.md)."""

from .run import Migration, SourceMigration, migrate

__all__ = ["Migration", "SourceMigration", "migrate"]
