"""SCSI commands the st driver does not expose, sent with SG_IO.

    from lto_archive.tape.scsi import ScsiDevice, ScsiUnsupported
    with ScsiDevice.open("/dev/nst0") as dev:
        print(dev.inquiry())              # IBM ULT3580-TD9 Q3F0, LTO-9

Modules: sg_io (the ioctl transport), cdb (command blocks), responses and mode
(answers, with `construct`), sense (sense data, messages, errors), drives
(generation from the product id), device (ScsiDevice; also READ ELEMENT STATUS for a
medium changer). See docs/scsi.md.
"""

from .device import DEFAULT_TIMEOUT_S, CartridgeMemoryInfo, ScsiDevice
from .drives import generation_of
from .mode import ModeParameters
from .responses import BlockLimits, DensityDescriptor, DeviceIdentifier, ElementStatus, Inquiry, LongPosition
from .sense import ScsiError, ScsiUnsupported, Sense, decode_sense, sense_to_error
from .sg_io import Response, SgIoTransport, Transport

__all__ = [
    "ScsiDevice", "ScsiError", "ScsiUnsupported", "Sense", "decode_sense", "sense_to_error",
    "Inquiry", "LongPosition", "DensityDescriptor", "BlockLimits", "ModeParameters", "CartridgeMemoryInfo",
    "ElementStatus", "DeviceIdentifier",
    "Response", "Transport", "SgIoTransport", "generation_of", "DEFAULT_TIMEOUT_S",
]
