"""The AXF-style container: an open, self-describing tape format in the spirit of
SMPTE ST 2034-1 (AXF), specified in docs/formats/axf-style.md. It does not claim
conformance to that standard (whose text is not public).

- structures.py: the binary framing (construct) and the binary file header / footer payloads
- payloads.py: the XML payloads of volume and object structures, the signature text, parse_payload
- writer.py: AxfWriter, one object per session into a RecordStream
- reader.py: AxfReader, the strict streaming reader the read jobs use; probe_volume
- scan.py: scan_volume, record-by-record recovery without any index (record_cache.py: its
  record access; scan_report.py: what it found; scan_restore.py: restoring what it proves)
"""

from .reader import AxfMember, AxfReader, probe_volume
from .scan import ScanReport, scan_volume
from .structures import MAGIC, FrameType
from .writer import AxfWriter, VolumeState

__all__ = ["AxfMember", "AxfReader", "AxfWriter", "FrameType", "MAGIC", "ScanReport", "VolumeState",
           "probe_volume", "scan_volume"]
