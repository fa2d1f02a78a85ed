"""Named profiles from a config file: `lto-archive --profile dayshoot write ...`.

The file is TOML (`$LTO_ARCHIVE_CONFIG`, else `$XDG_CONFIG_HOME/lto-archive/config.toml`, else
`~/.config/lto-archive/config.toml`)::

    [defaults]                      # every command, every profile
    operator = "Jane Doe, DIT"

    [profile.dayshoot]
    production = "THE_FILM"
    hashes = "xxh128,md5"
    log-dir = "/data/lto-archive/logs"
    catalog = "/data/lto-archive/catalog.sqlite"
    library = "vlib:/tapes/lib"
    copy-to = ["/Volumes/SHUTTLE_A"]

A key is a long option's name (`log-dir` or `log_dir`; `hashes` is `--hash`) and becomes that option's
default in every command that has it, so a flag given on the command line always wins. A key no
command knows, or a profile the file does not have, is a usage error.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import click

from lto_archive import UsageError

ALIASES = {"hashes": "hash", "log-folder": "log-dir", "copy-to-folders": "copy-to"}


def config_path() -> Path:
    if os.environ.get("LTO_ARCHIVE_CONFIG"):
        return Path(os.environ["LTO_ARCHIVE_CONFIG"])
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "lto-archive" / "config.toml"


def load_settings(path: Path, profile: str | None) -> dict[str, Any]:
    """The file's [defaults], then the profile's keys over them; {} when there is no file and no profile."""
    if not path.exists():
        if profile:
            raise UsageError(f"--profile {profile}: there is no config file {path} (see docs/cli.md, 'Profiles')")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"config file {path} cannot be read: {exc}") from None
    settings = dict(_table(data, "defaults", path))
    profiles = _table(data, "profile", path)
    if profile:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise UsageError(f"no profile {profile!r} in {path} (its profiles: {known})")
        settings.update(_table(profiles, profile, path))
    return {ALIASES.get(k.replace("_", "-"), k.replace("_", "-")): v for k, v in settings.items()}


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise UsageError(f"config file {path}: [{key}] must be a table")
    return value


def default_map(group: click.Group, settings: dict[str, Any]) -> dict[str, Any]:
    """click's default_map for `group`: each setting as the default of the options named so."""
    used: set[str] = set()
    result = _defaults_for(group, settings, used)
    unknown = sorted(set(settings) - used)
    if unknown:
        raise UsageError(f"config: no command has an option --{', --'.join(unknown)}")
    return result


def _defaults_for(command: click.Command, settings: dict[str, Any], used: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        for opt in param.opts:
            name = opt.lstrip("-")
            if opt.startswith("--") and name in settings:
                out[param.name or name] = settings[name]
                used.add(name)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            sub_map = _defaults_for(sub, settings, used)
            if sub_map:
                out[name] = sub_map
    return out
