"""ASC MHL ignore patterns (gitignore lines), as the reference tool applies them."""

from __future__ import annotations

import pytest

from lto_archive.mhl.ignore import DEFAULT_IGNORE, IgnoreSpec


@pytest.mark.parametrize("path,is_dir,ignored", [
    ("ascmhl", True, True),
    ("ascmhl/0001_A_2024-01-01_000000Z.mhl", False, True),
    ("Clips/ascmhl/ascmhl_chain.xml", False, True),
    (".DS_Store", False, True),
    ("Clips/.DS_Store", False, True),
    ("Clips/A001.mov", False, False),
    ("ascmhl.txt", False, False),
    ("my ascmhl", True, False),
])
def test_default_patterns(path: str, is_dir: bool, ignored: bool) -> None:
    assert IgnoreSpec(DEFAULT_IGNORE).match(path, is_dir) is ignored


def test_gitignore_rules() -> None:
    spec = IgnoreSpec(["*.tmp", "/Proxy/", "Cache/", "doc/**/draft?.txt", "!keep.tmp", "logs/**", "\\!bang",
                       "trailing\\ ", "[ab]x.bin", "# a comment"])
    assert spec.match("a.tmp") and spec.match("x/y/a.tmp")
    assert not spec.match("keep.tmp")
    assert spec.match("Proxy/clip.mov") and spec.match("Proxy", True)
    assert not spec.match("Clips/Proxy/clip.mov")            # anchored at the root
    assert not spec.match("Proxy", False)                     # only a folder
    assert spec.match("x/Cache/f") and spec.match("Cache", True)
    assert spec.match("doc/draft1.txt") and spec.match("doc/a/b/draft2.txt") and not spec.match("doc/draft10.txt")
    assert spec.match("logs/a/b") and not spec.match("logs", True)
    assert spec.match("!bang") and spec.match("trailing ") and not spec.match("trailing")
    assert spec.match("ax.bin") and spec.match("q/bx.bin") and not spec.match("cx.bin")
    assert not spec.match("# a comment")
