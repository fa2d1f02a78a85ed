"""Moved to `lto_archive.progress` (a core module); this path keeps old imports working."""

from ..progress import CountingReader, Progress, ProgressCallback, ProgressTracker

__all__ = ["CountingReader", "Progress", "ProgressCallback", "ProgressTracker"]
