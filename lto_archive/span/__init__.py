"""Jobs that span cartridges: where the next cartridge comes from (supply), writing a
set of volumes (write), reading a set back (read). See docs/spanning.md."""
