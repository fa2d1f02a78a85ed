"""Write targets that are not tape devices: what `write_archive` takes besides a TapeDevice.

A mounted LTFS volume (`ltfs-mount:DIR`) is a target like a device: `write_archive(sources,
LtfsMount(dir))` copies through the file system (jobs/ltfs_mounted.py, imported when used: the
LTFS tools stay out of a TAR job's imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..progress import ProgressCallback
    from .session import WriteOptions, WriteResult


MOUNT_PREFIX = "ltfs-mount:"


@dataclass(frozen=True)
class LtfsMount:
    """A mounted LTFS volume as a write target. `overwrite`, `require_ltfs` and `xattrs` (an
    ltfs_tools.XattrStore; default: the OS's) as for jobs.ltfs_mounted.write_to_mount."""

    path: Path
    overwrite: bool = False
    require_ltfs: bool = True
    xattrs: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))    # a str or any os.PathLike

    @property
    def name(self) -> str:
        return f"{MOUNT_PREFIX}{self.path}"

    def close(self) -> None:
        """Nothing to release: the LTFS software owns the mount."""

    def __enter__(self) -> LtfsMount:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, sources: list[str | Path], options: WriteOptions | None = None,
              progress: ProgressCallback | None = None) -> WriteResult:
        from .ltfs_mounted import write_to_mount
        return write_to_mount(sources, self.path, options, progress, overwrite=self.overwrite,
                              require_ltfs=self.require_ltfs, xattrs=self.xattrs)


__all__ = ["MOUNT_PREFIX", "LtfsMount"]
