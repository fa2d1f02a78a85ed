"""Every relative link in the README and docs/ names a file of this repository (issue 16: a doc linked
to a file outside the repo, which a user of a plain clone does not have)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_relative_links_stay_in_the_repo_and_exist():
    bad = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):       # http:, mailto:
                continue
            path = (doc.parent / target).resolve()
            if ROOT not in path.parents or not path.exists():
                bad.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not bad, bad
