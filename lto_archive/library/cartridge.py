"""Open a cartridge by its label: `--barcode` on any command that takes a --device."""

from __future__ import annotations

from ..errors import UsageError
from ..tape.device import TapeDevice
from .base import Library, open_library


def _is_library(spec: str) -> bool:
    return spec.startswith(("vlib:", "mtx:", "/dev/sg", "/dev/sch", "/dev/changer"))


def open_cartridge(device: str | None, barcode: str | None, *, library: str | None = None,
                   drive_devices: dict[int, str] | None = None) -> TapeDevice:
    """The device to use for `--device DEVICE [--library LIB] [--barcode B]`.

    - `--device vlib:DIR --barcode B` or `--library LIB --barcode B`: load B into a
      free drive (or find the drive already holding it) and open that drive;
    - `--device /dev/nst0 --library /dev/sg3 --barcode B`: load B into that drive;
    - `--library LIB` alone (or a library as --device): the first loaded drive.
    """
    if library is None:
        if device is None or not _is_library(device):
            raise UsageError("--barcode selects a cartridge in a library: add --library vlib:DIR|/dev/sgN "
                             "(or use --device vlib:DIR)", barcode=barcode)
        library, device = device, None
    elif device == library:
        device = None
    lib = open_library(library, drive_devices=drive_devices)
    try:
        return _open_in(lib, device, barcode)
    finally:
        lib.close()


def _open_in(lib: Library, device: str | None, barcode: str | None) -> TapeDevice:
    st = lib.status()
    drive = None
    if device is not None:
        matches = [d.number for d in st.drives if d.device == device]
        if not matches:
            known = ", ".join(f"{d.number}={d.device}" for d in st.drives if d.device) or "none known"
            raise UsageError(f"{device} is not a drive of the library {lib.name} (its drives: {known}); "
                             f"name them with --drive-device N=DEVICE", device=device)
        drive = matches[0]
    if barcode:
        drive = lib.load_barcode(barcode.strip(), drive, put_back_idle=True)
    elif drive is None:
        drive = lib.loaded_drive()
    return lib.open_drive(drive)
