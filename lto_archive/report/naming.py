"""Naming conventions: what a clip's name says about its camera, reel, card, scene, shot and take.

A convention is one or more regular expressions with named groups, tried in
order on the clip's name (file name without extension, or the clip folder's
name); the first that matches gives the fields. The groups read are
`camera`, `reel`, `card`, `clip`, `scene`, `shot`, `take` and `date`; any other
named group is kept as an extra. A second expression, `card_folder`, says which
folder names are camera cards (the card id when the name does not give one).

The default covers the common camera names:

    A001C002_230101_R1AB   ARRI, Sony (camera A, reel A001, clip 002, date 230101)
    A001_C002_0101AB       RED (camera A, reel A001, clip 002, date 0101)
    012A_T03, 12B-T2       sound and custom names (scene 012, shot A, take 03)

A convention given as text is one expression; a file holds one expression per
line (blank lines and lines starting with # are skipped) and may set the card
folder pattern with a line `card-folder: REGEX`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError

FIELDS = ("camera", "reel", "card", "clip", "scene", "shot", "take", "date")

DEFAULT_PATTERNS: tuple[str, ...] = (
    # A001C002_230101_R1AB (ARRI, Sony), A001_C002_0101AB (RED), A001C002 (Blackmagic and others)
    r"^(?P<reel>(?P<camera>[A-Z])\d{3})_?C(?P<clip>\d{3,4})(?![0-9])(?:_(?P<date>\d{6}|\d{4})(?![0-9]))?",
    # 012A_T03, 12B-T2, SC12_SH3_TK4: scene, optional shot letters, take
    r"^(?:SC?)?(?P<scene>\d{1,4})(?:[-_]?SH)?(?P<shot>[A-Z]{0,2}|\d{1,3})[-_ ]?(?:T|TK|TAKE)(?P<take>\d{1,3})(?![0-9])",
)
DEFAULT_CARD_FOLDER = r"^(?:[A-Z]\d{3}(?![0-9]).*|.+\.RDM|(?:SOUND|SND)[-_ ]?\d+.*)$"


@dataclass(frozen=True)
class NamingConvention:
    patterns: tuple[re.Pattern[str], ...]
    card_folder: re.Pattern[str]
    origin: str = "default"                      # "default", "option", or the file's path
    texts: tuple[str, ...] = field(default=())

    def parse(self, name: str) -> dict[str, str]:
        """The named groups of the first pattern matching `name` ({} if none does); empty groups
        (an optional part that is absent) are left out."""
        for pattern in self.patterns:
            m = pattern.search(name)
            if m:
                return {k: v for k, v in m.groupdict().items() if v}
        return {}

    def is_card_folder(self, name: str) -> bool:
        return self.card_folder.search(name) is not None


def _compile(text: str, what: str) -> re.Pattern[str]:
    try:
        pattern = re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise UsageError(f"naming convention {what}: not a regular expression: {exc}", pattern=text) from None
    return pattern


def naming_convention(spec: str | Path | None = None, card_folder: str | None = None) -> NamingConvention:
    """The default convention (None), one regular expression (a string), or a file (a Path, or a
    string starting with @). Patterns match case-insensitively."""
    origin = "default"
    if spec is None:
        texts = list(DEFAULT_PATTERNS)
    elif isinstance(spec, Path) or spec.startswith("@"):
        path = Path(spec) if isinstance(spec, Path) else Path(spec[1:])
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the naming convention file {path}: {exc}", path=str(path)) from None
        texts = []
        for line in lines:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            key, sep, rest = s.partition(":")
            if sep and key.strip().lower() in ("card-folder", "card_folder"):
                card_folder = card_folder or rest.strip()
                continue
            texts.append(s)
        if not texts:
            raise UsageError(f"the naming convention file {path} has no regular expression", path=str(path))
        origin = str(path)
    else:
        texts = [spec]
        origin = "option"
    patterns = tuple(_compile(t, repr(t)) for t in texts)
    for t, p in zip(texts, patterns):
        if not set(p.groupindex) & set(FIELDS):
            raise UsageError(f"naming convention {t!r} has none of the named groups "
                             f"{', '.join('(?P<' + f + '>...)' for f in FIELDS)}", pattern=t)
    card = _compile(card_folder or DEFAULT_CARD_FOLDER, "card folder")
    return NamingConvention(patterns, card, origin, tuple(texts))
