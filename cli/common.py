"""What every command shares: device opening, sizes, --json output, progress bars, exit codes."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from lto_archive import ExitCode, Interrupted, LtoArchiveError, Progress, open_device, open_tape


def human_bytes(n: float) -> str:
    """Decimal, as tape vendors and `parse_capacity` count: 20,000,000,000 bytes -> "20.0 GB"."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def capacity_text(n: float) -> str:
    """A capacity as tape vendors quote it (decimal), with the binary figure in brackets: "20.0 GB (18.6 GiB)"."""
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(n) >= scale:
            return f"{human_bytes(n)} ({n / scale:.1f} {unit})"
    return human_bytes(n)


CAPACITY_HELP = "decimal, as tape vendors quote them: 20G = 20 GB, 18T; binary only when said: 20GiB"


_pending_json: list[dict[str, Any]] = []


def _echo_json(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, indent=1, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace").decode())


def emit(data: dict[str, Any], as_json: bool, text: Callable[[], None]) -> None:
    """Show a command's result. JSON is held back until the command ends (`flush_json`), so that an
    error raised after the result (e.g. raise_for_status) yields ONE JSON document, not two."""
    if as_json:
        _pending_json.append(data)
    else:
        text()


def flush_json() -> None:
    while _pending_json:
        _echo_json(_pending_json.pop(0))


_LIBRARY_KEY = "lto_archive.library"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """--library / --barcode / --drive-device: kept in the context for device_from."""
    if value not in (None, ()):
        ctx.meta.setdefault(_LIBRARY_KEY, {})[param.name] = value
    return value


def library_options(*, barcode: bool = True):  # type: ignore[no-untyped-def]
    """--library, --barcode and --drive-device for a command that opens a --device: with --barcode,
    device_from loads that cartridge into a free drive of the library and opens it. `barcode=False`
    when the command has its own --barcode option (give it `callback=remember_barcode`)."""
    def deco(f):  # type: ignore[no-untyped-def]
        f = click.option("--drive-device", "drive_device", multiple=True, expose_value=False, is_eager=True,
                         callback=_remember, help="Library drive N is this device: N=/dev/nstX (repeatable).")(f)
        if barcode:
            f = click.option("--barcode", "barcode", default=None, expose_value=False, callback=_remember,
                             help="Load the cartridge with this label from the library first (e.g. LTA002L9).")(f)
        return click.option("--library", "library", default=None, expose_value=False, is_eager=True,
                            callback=_remember, help="The tape library: vlib:DIR, /dev/sgN or mtx:/dev/sgN.")(f)
    return deco


def remember_barcode(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A command's own --barcode (format: the volume's label): selects the cartridge only
    when a library is in play (--library, or --device vlib:DIR)."""
    if value is not None:
        ctx.meta.setdefault(_LIBRARY_KEY, {})["label"] = value
    return value


def device_or_library(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of --device: without it, the --library (with --barcode) names the device."""
    if value in (None, ()):
        lib = ctx.meta.get(_LIBRARY_KEY, {}).get("library")
        if lib is None:
            raise click.MissingParameter(ctx=ctx, param=param)
        return (lib,) if param.multiple else lib
    return value


def optional_device_or_library(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback of an optional --device: the --library names the device when it is given."""
    lib = ctx.meta.get(_LIBRARY_KEY, {}).get("library")
    if value in (None, ()) and lib is not None:
        return (lib,) if param.multiple else lib
    return value


def library_selection() -> dict[str, Any]:
    """What the command line said about the library: {"library", "barcode", "label", "drive_device"}
    (only the keys given). For commands that need the library itself (e.g. spanning)."""
    ctx = click.get_current_context(silent=True)
    return dict(ctx.meta.get(_LIBRARY_KEY, {})) if ctx is not None else {}


def device_selection() -> dict[str, Any]:
    """--barcode, --library and --drive-device as the library's functions take them (barcode=, library=,
    drive_devices=), for a command that hands its --device specs to the library."""
    sel = library_selection()
    return {"barcode": sel.get("barcode"), "library": sel.get("library"), "drive_devices": sel.get("drive_device", ())}


@contextmanager
def device_from(spec: str, *, mounts: bool = False) -> Iterator[Any]:
    """The tape device --device names (with --library / --barcode: the cartridge loaded first); with
    `mounts`, an ltfs-mount:DIR gives the LtfsMount (else it is no device)."""
    sel = device_selection()
    if sel["barcode"] is None and (sel["library"] or spec.startswith("vlib:")):
        sel["barcode"] = library_selection().get("label")     # format's own --barcode: with a library only
    with (open_device if mounts else open_tape)(spec, **sel) as dev:
        yield dev


def fail(exc: LtoArchiveError, as_json: bool) -> None:
    """The one place where library errors become messages and exit codes."""
    if as_json:
        doc: dict[str, Any] = {**exc.to_dict(), "status": "error"}     # (an error's own "status" datum never hides it)
        if _pending_json:            # the command's result, then the error it ended with: one document
            doc["result"] = _pending_json.pop()
            _pending_json.clear()
        _echo_json(doc)
    else:
        click.secho(f"error: {exc.message}", fg="red", err=True)
    sys.exit(int(exc.exit_code))


class _Terminated(KeyboardInterrupt):
    """SIGTERM outside a write job: stop as Ctrl-C does, and say it was SIGTERM (exit 143)."""

    signum = int(signal.SIGTERM)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While a command runs (main thread): SIGTERM raises a KeyboardInterrupt, so it ends like Ctrl-C
    (devices closed, exit 143) instead of killing the process. A write job installs its own handler
    for its duration (stop at the next file boundary)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old if old is not None else signal.SIG_DFL)


def interrupted(exc: KeyboardInterrupt) -> Interrupted:
    """A KeyboardInterrupt that reached the command line, as the error it is (exit 130, or 143 for SIGTERM)."""
    signum = getattr(exc, "signum", None)
    signum = signum if isinstance(signum, int) else int(signal.SIGINT)
    name = "SIGTERM" if signum == signal.SIGTERM else "SIGINT (Ctrl-C)"
    return Interrupted(f"interrupted by {name}: the command stopped before it finished", signum)


class ProgressBar:
    """Progress on stderr: %, bytes, MB/s, ETA, files done of the total and the current file.

    On a terminal: one status line redrawn in place. Otherwise (a log file, a pipe, CI), when
    enabled: a plain line every `plain_every` seconds of the job and one at the end, never escape
    codes. `enabled` None: on a terminal only, so logs and --json stay clean. Use it as a context
    manager (`with ProgressBar(p) as bar:`) or call `close()`.
    """

    def __init__(self, enabled: bool | None = None, width: int = 28, *, terminal: bool | None = None,
                 plain_every: float = 5.0, draw_every: float = 0.1) -> None:
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.enabled = self.terminal if enabled is None else enabled
        self.width = width
        self.plain_every = plain_every
        self.draw_every = draw_every
        self._shown = False
        self._drawn = 0          # terminal lines of the last drawing (the main line and one per destination)
        self._next_plain = 0.0
        self._last: Progress | None = None      # the last report, not drawn yet
        self._before: Progress | None = None    # the report before this one

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def line(self, p: Progress) -> str:
        mb_s = p.rate / 1e6
        files = f"{p.files_done}/{p.files_total} files" if p.files_total else f"{p.files_done} files"
        if p.bytes_total:
            frac = min(1.0, p.bytes_done / p.bytes_total)
            bar = "#" * int(frac * self.width)
            eta = "--:--" if p.eta is None else time.strftime("%M:%S", time.gmtime(p.eta))
            head = (f"{p.phase:<7} [{bar:<{self.width}}] {frac * 100:5.1f}% "
                    f"{human_bytes(p.bytes_done)}/{human_bytes(p.bytes_total)} {mb_s:7.1f} MB/s ETA {eta} {files}")
        else:
            head = f"{p.phase:<7} {human_bytes(p.bytes_done)} {files} {mb_s:7.1f} MB/s"
        return head + "  " + p.path[-40:]

    @staticmethod
    def destination_lines(p: Progress) -> list[str]:
        """One line per destination of a job writing several: its own rate and buffer, so a slow one shows."""
        lines = []
        for d in p.destinations:
            buffer = "" if d.buffer_fill is None else f"  buffer {d.buffer_fill * 100:3.0f}%"
            state = "" if d.state == "writing" else f"  {d.state}"
            lines.append(f"  {d.kind:<6} {d.name[-32:]:<32} {human_bytes(d.bytes_done):>9} {d.rate / 1e6:7.1f} MB/s"
                         f"{buffer}{state}")
        return lines

    def __call__(self, p: Progress) -> None:
        """A report: drawn on a terminal at most every `draw_every` seconds of the job (a job of 10^5 small
        files reports each file's start), as a plain line every `plain_every`; the last one always, at close."""
        if not self.enabled:
            return
        before, self._before, self._last = self._before, p, p
        if before is not None and (p.phase != before.phase or p.elapsed < before.elapsed):
            self._next_plain = 0.0      # a new phase (its own clock): shown at once
        if p.elapsed < self._next_plain:
            return
        self._next_plain = p.elapsed + (self.draw_every if self.terminal else self.plain_every)
        self._draw(p)

    def _draw(self, p: Progress) -> None:
        lines = [self.line(p), *self.destination_lines(p)]
        if self.terminal:
            up = f"\033[{self._drawn - 1}A" if self._drawn > 1 else ""
            sys.stderr.write(up + "\r" + "\n".join("\033[K" + ln for ln in lines))
            self._drawn = len(lines)
            self._shown = True
        else:
            sys.stderr.write("\n".join(lines) + "\n")
        self._last = None
        sys.stderr.flush()

    def close(self) -> None:
        if self._last is not None:        # the final state, once
            self._draw(self._last)
        if self._shown:
            sys.stderr.write("\n")
            self._shown = False
        sys.stderr.flush()


def exit_code_help() -> str:
    return ", ".join(f"{c.value} {c.name.lower().replace('_', ' ')}" for c in ExitCode)
