"""Where a new tape file starts: end of data, after closing a tape file a crash left open.

A writer killed part-way (kill -9, a power cut, a second Ctrl-C) leaves its tape file with records
after the last filemark and no filemark before end of data. Appending there would put the new
session inside that unterminated tape file, where every reader (ours, GNU tar, cpio) stops at the
truncated member and never reaches it. So before a session starts on a tape, `append_point` looks at
the last object before end of data: a record there means the last tape file was never closed, and
it is closed with a filemark first (and said, in the job's notes). A real st drive writes that
filemark itself when the device is closed after writing; after a power loss it does not: both end
here the same, at end of data after a filemark.
"""

from __future__ import annotations

from ..errors import EndOfData
from ..tape.device import MAX_RECORD, Position, TapeDevice


def unterminated_note(tape_file: int | None, label: str) -> str:
    """What the job says when it closed a tape file a crash left open."""
    which = f"tape file {tape_file}" if tape_file is not None else "the last tape file"
    return (f"{which} on {label} was not closed (a job was interrupted or the power failed); "
            f"closed it with a filemark before appending")


def append_point(device: TapeDevice) -> tuple[Position, str | None]:
    """Position at end of data of the last (data) partition, where a new tape file starts, and
    return that position with a note when the last tape file had to be closed first (else None).

    Nothing is written unless the object just before end of data is a record (an unterminated tape
    file): then one non-immediate filemark closes it. A device error raises (nothing written).
    """
    part = device.partitions - 1
    device.locate(part, 0)
    device.seek_eod()
    eod = device.position()
    if eod.block == 0:
        return eod, None
    device.locate(part, eod.block - 1)
    try:
        last = device.read_record(MAX_RECORD)   # b"": a filemark, the last tape file is closed
    except EndOfData:                           # a device that keeps nothing (null:): nothing to close
        last = b""
    device.seek_eod()
    if not last:
        return device.position(), None
    device.write_filemarks(1)
    label = device.medium().barcode or getattr(device, "name", "") or "the tape"
    return device.position(), unterminated_note(eod.file_number, label)


__all__ = ["append_point", "unterminated_note"]
