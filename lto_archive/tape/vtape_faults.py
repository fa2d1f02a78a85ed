"""Failures on demand for a virtual cartridge: `VirtualTape.faults` (docs/vtape.md)."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import DeviceError, EndOfMedium, MediumError, UsageError

_FAULT_KEYS = ("write_error_at_block", "write_error_partition", "read_error_at_block",
               "read_error_partition", "write_error_after_calls", "read_error_after_calls",
               "end_of_medium_at", "end_of_medium_partition", "short_write_at_call", "drive_gone_after_calls",
               "corrected_errors_every", "clean_drive", "tapealert_flag")
_COUNTERS = {"write_error_after_calls": "write_calls", "read_error_after_calls": "read_calls",
             "short_write_at_call": "short_calls", "drive_gone_after_calls": "gone_calls"}


@dataclass
class Faults:
    """Failures on demand. Every fault stays armed until set back to None.

    - write_error_at_block: a record or filemark written at this address raises
      MediumError (on `write_error_partition`, or any partition when None).
    - read_error_at_block: reading this address raises MediumError (position
      unchanged), on `read_error_partition` or any.
    - write_error_after_calls = N: N more `write_record` calls succeed, every
      later one raises MediumError (counting starts when the field is set).
    - read_error_after_calls = N: likewise for `read_record`.
    - end_of_medium_at = B: the partition (`end_of_medium_partition`, or any)
      ends after B bytes: a record that would go past raises EndOfMedium,
      without the early warnings a real end would have given.
    - short_write_at_call = N: `write_record` calls are counted from 0 when the
      field is set; call N is taken short, as st reports a variable-block write
      that meets the end of the medium: only the first half of the record is
      written and EndOfMedium says how many bytes (`written`). Every later record
      raises EndOfMedium (nothing written); filemarks still fit.
    - drive_gone_after_calls = N: N more `write_record` calls succeed, then the
      drive is gone (`gone`): that call and every later one, of any kind, raises
      the DeviceError a vanished /dev/nst gives (errno ENODEV), until the
      cartridge is opened again with the fault cleared.
    - corrected_errors_every = N: every N-th record written or read needed a retry: one corrected
      error in the drive's error counters (log pages 0x02 / 0x03; tape/vtape_health.py).
    - clean_drive = 1: the drive asks to be cleaned (TapeAlert 20, clean now).
    - tapealert_flag = N (1..64): the drive raises TapeAlert flag N.
    An injected read or write error also counts as an uncorrected error and raises TapeAlert 4 (media).
    A faulted write writes nothing, unless it is the short write.
    """

    armed: bool = field(default=False, init=False, compare=False, repr=False)   # any fault set (kept by __setattr__)
    write_error_at_block: int | None = None
    write_error_partition: int | None = None
    read_error_at_block: int | None = None
    read_error_partition: int | None = None
    write_error_after_calls: int | None = None
    read_error_after_calls: int | None = None
    end_of_medium_at: int | None = None
    end_of_medium_partition: int | None = None
    short_write_at_call: int | None = None
    drive_gone_after_calls: int | None = None
    corrected_errors_every: int | None = None
    clean_drive: int | None = None
    tapealert_flag: int | None = None
    write_calls: int = field(default=0, compare=False, repr=False)
    read_calls: int = field(default=0, compare=False, repr=False)
    short_calls: int = field(default=0, compare=False, repr=False)
    gone_calls: int = field(default=0, compare=False, repr=False)
    past_end: bool = field(default=False, compare=False, repr=False)   # a short write met the end of medium
    gone: bool = field(default=False, compare=False, repr=False)       # the drive vanished

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FAULT_KEYS and value is not None and (not isinstance(value, int) or value < 0):
            raise UsageError(f"fault {name} must be a whole number >= 0 or None, not {value!r}")
        if name == "tapealert_flag" and value is not None and not 1 <= value <= 64:
            raise UsageError(f"fault tapealert_flag must be a TapeAlert flag, 1 to 64, not {value}")
        object.__setattr__(self, name, value)
        if name in _COUNTERS:
            object.__setattr__(self, _COUNTERS[name], 0)
        if name == "short_write_at_call":
            object.__setattr__(self, "past_end", False)
        elif name == "drive_gone_after_calls":
            object.__setattr__(self, "gone", False)
        if name in _FAULT_KEYS:
            armed = any(getattr(self, k, None) is not None for k in _FAULT_KEYS)
            object.__setattr__(self, "armed", armed)

    def clear(self) -> None:
        for k in _FAULT_KEYS:
            setattr(self, k, None)

    def to_dict(self) -> dict[str, int | None]:
        return {k: getattr(self, k) for k in _FAULT_KEYS}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "faults") -> "Faults":
        unknown = sorted(set(data) - set(_FAULT_KEYS))
        if unknown:
            raise UsageError(f"unknown fault(s) {', '.join(unknown)} in {where}; known: {', '.join(_FAULT_KEYS)}",
                             keys=unknown)
        return cls(**data)

    def alerts(self) -> set[int]:
        """The TapeAlert flags the knobs raise (clean_drive, tapealert_flag)."""
        out = {20} if self.clean_drive else set()
        return out | ({self.tapealert_flag} if self.tapealert_flag else set())

    def check_write(self, label: str, p: int, b: int, after: int | None) -> None:
        """Raise the injected failure, if any, of writing at partition p block b of cartridge `label`:
        a record (`after`: bytes used once it is written) or a filemark (`after` None)."""
        if after is not None and self.drive_gone_after_calls is not None and not self.gone:
            self.gone_calls += 1
            self.gone = self.gone_calls > self.drive_gone_after_calls
        self.check_gone(label, "write" if after is not None else "writing a filemark")
        if after is not None and self.past_end:
            raise EndOfMedium(f"cartridge {label} is full: the drive is past the end of the medium "
                              f"(injected short write): the record was not written", partition=p, block=b,
                              injected=True)
        if after is not None and self.write_error_after_calls is not None:
            self.write_calls += 1
            if self.write_calls > self.write_error_after_calls:
                raise MediumError(f"write error on cartridge {label} at partition {p} block {b} "
                                  f"(injected after {self.write_error_after_calls} writes): nothing was written",
                                  partition=p, block=b, injected=True)
        if self.write_error_at_block == b and self.write_error_partition in (None, p):
            raise MediumError(f"write error on cartridge {label} at partition {p} block {b} "
                              f"(injected): nothing was written", partition=p, block=b, injected=True)
        if (after is not None and self.end_of_medium_at is not None and self.end_of_medium_partition in (None, p)
                and after > self.end_of_medium_at):
            raise EndOfMedium(f"cartridge {label} ended early on partition {p} after "
                              f"{self.end_of_medium_at} bytes (injected): the record was not written",
                              partition=p, block=b, injected=True)

    def short_write(self, size: int) -> int | None:
        """How many bytes of a `size`-byte record the drive takes (None: all of them, no short write);
        counts the call."""
        if self.short_write_at_call is None or self.past_end:
            return None
        self.short_calls += 1
        if self.short_calls <= self.short_write_at_call:
            return None
        self.past_end = True
        return size // 2

    def check_gone(self, label: str, what: str) -> None:
        """The drive vanished: every call fails as st's does when its node reports ENODEV."""
        if self.gone:
            raise DeviceError(f"{what} failed on the drive of cartridge {label}: {os.strerror(errno.ENODEV)} "
                              f"(the drive is gone: check its cable and power, injected)", errno=errno.ENODEV,
                              operation=what, injected=True)

    def check_read(self, label: str, p: int, b: int, eod: int) -> None:
        """Raise the injected failure, if any, of reading partition p block b of cartridge `label`."""
        self.check_gone(label, "read")
        if self.read_error_after_calls is not None:
            self.read_calls += 1
            if self.read_calls > self.read_error_after_calls:
                raise MediumError(f"read error on cartridge {label} at partition {p} block {b} "
                                  f"(injected after {self.read_error_after_calls} reads)",
                                  partition=p, block=b, injected=True)
        if self.read_error_at_block == b and self.read_error_partition in (None, p) and b < eod:
            raise MediumError(f"read error on cartridge {label} at partition {p} block {b} (injected)",
                              partition=p, block=b, injected=True)
