"""One line for many problems: files grouped by what happened to them, a few names per group.

The per-file lines are printed (and kept in the copy log and --json) already; the error that ends the
command says how many, why, and which, without repeating one long reason for every file.
"""

from __future__ import annotations

from collections.abc import Iterable


def summarise(problems: Iterable[tuple[str, str]], *, names: int = 3) -> str:
    """(path, reason) pairs as "3 × no room left on this cartridge (c2.mov, c3.mov and 1 more); 1 × ...",
    the reasons in the order first seen."""
    groups: dict[str, list[str]] = {}
    for path, reason in problems:
        groups.setdefault(reason, []).append(path)
    parts = []
    for reason, paths in groups.items():
        shown = ", ".join(paths[:names])
        more = f" and {len(paths) - names} more" if len(paths) > names else ""
        parts.append(f"{len(paths)} × {reason} ({shown}{more})")
    return "; ".join(parts)
