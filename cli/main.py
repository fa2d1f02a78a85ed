"""The `lto-archive` command: a thin click front end over the library."""

from __future__ import annotations

import sys

import click

from lto_archive import LtoArchiveError, __version__

from .archive_cmds import ls, restore, verify, write
from .axf_cmds import axf
from .baf_cmds import baf
from .bench_cmd import bench
from .catalog_cmds import catalog
from .custody_cmds import custody
from .config import config_path, default_map, load_settings
from .common import exit_code_help, fail, flush_json, interrupted, terminate_as_interrupt
from .demo_cmd import demo
from .drive_cmds import drive
from .library_cmds import library, vlib
from .ltfs_cmds import format_cmd, ltfs
from .mhl_cmds import mhl
from .migrate_cmds import migrate, migrations
from .paperwork_cmds import paperwork
from .queue_cmds import jobs, submit, worker
from .report_cmd import report
from .span_cmds import span
from .status_cmd import status
from .tape_cmds import info, vtape


class _Group(click.Group):
    """Maps every library error to its message and exit code, in one place."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["lto_archive.json"] = "--json" in args      # the command's own arguments (also under CliRunner)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        as_json = ctx.meta.get("lto_archive.json", "--json" in sys.argv[1:])
        try:
            with terminate_as_interrupt():
                rv = super().invoke(ctx)
        except LtoArchiveError as exc:
            fail(exc, as_json)
        except KeyboardInterrupt as exc:     # Ctrl-C (or SIGTERM) outside a write job: no "Aborted!", no traceback
            fail(interrupted(exc), as_json)
        finally:
            flush_json()   # a result not followed by an error (nothing pending after fail)
        return rv


def _apply_profile(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Eager: the config file's defaults (and the profile's) become the options' defaults before the
    command line is read, so an explicit flag always wins."""
    try:
        settings = load_settings(config_path(), value)
        assert isinstance(ctx.command, click.Group)
        ctx.default_map = {**(ctx.default_map or {}), **default_map(ctx.command, settings)}
    except LtoArchiveError as exc:      # before any command runs: click's usage error (exit 2)
        raise click.UsageError(exc.message, ctx) from None
    return value


@click.group(cls=_Group, epilog=f"Exit codes: {exit_code_help()}.")
@click.version_option(__version__, prog_name="lto-archive")
@click.option("--profile", default=None, envvar="LTO_ARCHIVE_PROFILE", is_eager=True, expose_value=False,
              callback=_apply_profile,
              help="Named settings from ~/.config/lto-archive/config.toml ($LTO_ARCHIVE_CONFIG): operator, production, "
                   "hashes, log folder, catalog, library, --copy-to; flags given here win.")
def cli() -> None:
    """Write footage to LTO tape in open formats, and prove every copy."""


for command in (status, vtape, vlib, library, info, drive, format_cmd, write, verify, ls, restore, ltfs, axf, catalog, custody, paperwork, span, report, mhl, baf, demo,
                bench, submit, worker, jobs):
    cli.add_command(command)
cli.add_command(migrate)
cli.add_command(migrations)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
