"""The LTFS index: its data model, a streaming XML writer and a fast streaming parser.

An index describes every file and folder on the volume and where its bytes
lie (extents). Volumes of 10^6 files have indexes of ~700 MB of XML, so both
directions stream: the writer yields bounded chunks, the parser takes the
index record by record. The parser cuts the stream at `<file>` and
`<directory>` boundaries and reads each piece with one regular expression
(the layout every LTFS writer uses); a piece it does not recognise is read
by ElementTree instead, so unusual but valid XML still parses, only slower.

Times are kept as the LTFS text (`2026-11-22T15:09:39.003407475Z`): most
are never looked at, and parsing five per file would dominate.

Memory: a folder is an object with attributes; its files are packed
(index_folder.PackedFolder): each file is its name and its record (see
index_model.File) as UTF-8 bytes in one bytearray per folder, plus an offset,
a length and a hash-table slot in arrays (~21 bytes), and the extended
attribute keys that repeat on every file (ltfs.hash.*) are numbers into one
shared table. A File object exists only while someone holds it: taken from a
folder it is a view of the packed entry. 10^6 files with two hashes: ~190
bytes a file, ~235 MiB peak RSS either way (`lto-archive bench --only index`);
it was ~385 bytes and ~420 MiB with a File object, two strings and a dict slot
per file, and 1.1 GB with attributes, lists, Extents and dicts. CPU for 10^6
files on a loaded 2-core machine: write ~6.5 s (was ~5), parse ~9.3 s (was ~9.9).

index_model.py holds the model, index_folder.py a folder's packed entries,
index_writer.py the writer, index_parser.py the parser; this module is where
the rest of lto-archive imports them from.
"""

from __future__ import annotations

from .index_model import (ACCESS, BACKUP, CHANGE, CREATION, INDEX_VERSION, MODIFY, TIME_FIELDS, Directory, Extent, File,
                          Index, Node, times_now)
from .index_parser import check_version, parse_index, parse_index_bytes
from .index_writer import index_records, index_to_xml, index_xml_chunks

__all__ = ["Extent", "Node", "File", "Directory", "Index", "index_xml_chunks", "index_to_xml", "index_records",
           "parse_index",
           "parse_index_bytes", "times_now", "TIME_FIELDS", "MODIFY", "check_version", "INDEX_VERSION", "CREATION",
           "CHANGE", "ACCESS", "BACKUP"]
