"""A scripted SCSI transport: answers by operation code, records every command sent.

Answers are Response objects or callables (cdb, data_out) -> Response. An
opcode without an answer gets ILLEGAL REQUEST / invalid command operation
code, as a drive (and the tgt emulator) answers an unknown command. Data-in is
cut to the allocation length the command asked for, as SG_IO does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from lto_archive.tape.scsi.sense import (DescriptorSenseHeader, FixedSense, InformationDescriptor,
                                         StreamCommandsDescriptor)
from lto_archive.tape.scsi.sg_io import CHECK_CONDITION, GOOD, Response

Answer = Response | Callable[[bytes, bytes | None], Response]


def fixed_sense(key: int, asc: int = 0, ascq: int = 0, *, filemark: bool = False, eom: bool = False,
                ili: bool = False, information: int | None = None, deferred: bool = False) -> bytes:
    return FixedSense.build({
        "head": {"valid": information is not None, "response_code": 0x71 if deferred else 0x70},
        "obsolete": 0,
        "flags": {"filemark": filemark, "eom": eom, "ili": ili, "sdat_ovfl": False, "sense_key": key},
        "information": information or 0, "additional_length": 10, "command_specific": 0,
        "asc": asc, "ascq": ascq, "fru": 0, "sense_key_specific": b"\x00\x00\x00", "additional": b"",
    })


def descriptor_sense(key: int, asc: int = 0, ascq: int = 0, *, filemark: bool = False, eom: bool = False,
                     ili: bool = False, information: int | None = None, deferred: bool = False) -> bytes:
    """Descriptor-format sense (SPC-4 4.5.2) with an information and a stream commands descriptor."""
    body = b""
    if information is not None:
        body += bytes([0x00, 0x0A]) + InformationDescriptor.build({"flags": {"valid": True},
                                                                   "information": information})
    if filemark or eom or ili:
        body += bytes([0x04, 0x02]) + StreamCommandsDescriptor.build(
            {"flags": {"filemark": filemark, "eom": eom, "ili": ili}})
    return DescriptorSenseHeader.build({"head": {"response_code": 0x73 if deferred else 0x72},
                                        "key": {"sense_key": key}, "asc": asc, "ascq": ascq,
                                        "flags": {"sdat_ovfl": False}, "additional_length": len(body)}) + body


def good(data: bytes = b"") -> Response:
    return Response(status=GOOD, data=data)


def check(key: int, asc: int = 0, ascq: int = 0, **flags: object) -> Response:
    return Response(status=CHECK_CONDITION, sense=fixed_sense(key, asc, ascq, **flags))  # type: ignore[arg-type]


INVALID_OPCODE = check(0x5, 0x20, 0x00)
INVALID_FIELD = check(0x5, 0x24, 0x00)


@dataclass
class Sent:
    cdb: bytes
    data_in: int
    data_out: bytes | None
    timeout_s: float


@dataclass
class FakeDrive:
    answers: dict[int, Answer] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)

    def execute(self, cdb: bytes, *, data_in: int = 0, data_out: bytes | None = None,
                timeout_s: float = 60.0) -> Response:
        self.sent.append(Sent(bytes(cdb), data_in, data_out, timeout_s))
        answer = self.answers.get(cdb[0], INVALID_OPCODE)
        r = answer(bytes(cdb), data_out) if callable(answer) else answer
        return Response(status=r.status, data=r.data[:data_in], sense=r.sense, host_status=r.host_status,
                        driver_status=r.driver_status)

    @property
    def opcodes(self) -> list[int]:
        return [s.cdb[0] for s in self.sent]
