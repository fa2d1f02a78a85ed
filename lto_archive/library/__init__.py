"""Tape libraries (medium changers): the Library interface, the virtual library
(vlib:DIR) and real changers through mtx. See docs/library.md."""

from .base import LIBRARY_KINDS, DriveInfo, Library, LibraryStatus, SlotInfo, open_library

__all__ = ["LIBRARY_KINDS", "DriveInfo", "Library", "LibraryStatus", "SlotInfo", "open_library"]
