"""lto-archive: write footage to LTO tape in open formats and prove every copy."""

__version__ = "0.1.0"
