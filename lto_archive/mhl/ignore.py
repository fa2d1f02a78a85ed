"""ASC MHL ignore patterns: one .gitignore line each (spec Appendix C).

Every generation records the patterns it ignored; the reference tool starts
with `.DS_Store`, `ascmhl` and `ascmhl/` (the history folder itself) and keeps
whatever the newest generation lists. Paths are matched relative to the
history's root folder, with "/" between components.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DEFAULT_IGNORE: tuple[str, ...] = (".DS_Store", "ascmhl", "ascmhl/")


def _translate(body: str) -> str:
    """A gitignore glob (no leading "/", no trailing "/") as a regex over whole relative paths."""
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
            continue
        if c == "*":
            if body.startswith("**", i):
                at_start = i == 0 or body[i - 1] == "/"
                j = i + 2
                if at_start and j == n:                      # trailing "/**" or a bare "**"
                    out.append(".*")
                    i = j
                    continue
                if at_start and body[j] == "/":               # "**/" : zero or more folders
                    out.append("(?:.*/)?")
                    i = j + 1
                    continue
            while i < n and body[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and body[j] in "!^":
                j += 1
            if j < n and body[j] == "]":
                j += 1
            while j < n and body[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                inner = body[i + 1:j]
                if inner[:1] in ("!", "^"):
                    inner = "^" + inner[1:]
                inner = inner.replace("\\", "\\\\")
                out.append(f"(?!/)[{inner}]")
                i = j + 1
                continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


class IgnoreSpec:
    """Matches relative paths against a list of patterns, as git does (last match wins, "!" re-includes)."""

    def __init__(self, patterns: Iterable[str] = DEFAULT_IGNORE) -> None:
        self.patterns: list[str] = list(dict.fromkeys(patterns))
        self._rules: list[tuple[re.Pattern[str], bool, bool]] = []   # regex, negated, folders only
        for raw in self.patterns:
            line = raw.rstrip("\n")
            # trailing spaces do not count unless escaped
            stripped = line.rstrip(" ")
            if stripped.endswith("\\") and len(stripped) < len(line):
                stripped += " "
            line = stripped
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            if negated:
                line = line[1:]
            elif line.startswith("\\!") or line.startswith("\\#"):
                line = line[1:]
            dir_only = line.endswith("/")
            line = line.rstrip("/")
            if not line:
                continue
            anchored = "/" in line
            line = line.lstrip("/")
            rx = _translate(line)
            rx = ("^" if anchored else "^(?:.*/)?") + rx + "$"
            self._rules.append((re.compile(rx, re.DOTALL), negated, dir_only))
        self._folders: dict[str, bool] = {}    # a folder's own match, asked for each file in it
        self._trees: dict[str, bool] = {}      # a folder's or one above it's

    def _folder_ignored(self, path: str) -> bool:
        hit = self._folders.get(path)
        if hit is None:
            hit = self._folders[path] = self._match_one(path, True)
        return hit

    def _match_one(self, path: str, is_dir: bool) -> bool:
        ignored = False
        for rx, negated, dir_only in self._rules:
            if dir_only and not is_dir:
                continue
            if rx.match(path):
                ignored = not negated
        return ignored

    def match(self, path: str, is_dir: bool = False) -> bool:
        """Whether `path` (relative, "/"-separated) is ignored: it, or a folder above it, matches."""
        path = path.strip("/")
        parent = path.rpartition("/")[0]
        if parent:      # its folders, asked once per folder (a frame sequence: 10^5 files, one folder)
            hit = self._trees.get(parent)
            if hit is None:
                parts = parent.split("/")
                hit = self._trees[parent] = any(self._folder_ignored("/".join(parts[:i]))
                                                for i in range(1, len(parts) + 1))
            if hit:
                return True
        return self._match_one(path, is_dir)

    def match_entry(self, path: str, is_dir: bool) -> bool:
        """Only `path` itself (its folders already passed), for walks that prune ignored folders."""
        return self._match_one(path, is_dir)
