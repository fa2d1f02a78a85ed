"""ASC MHL errors, inside lto-archive's hierarchy (and so its exit codes)."""

from __future__ import annotations

from ..errors import CorruptArchive, JobIncomplete, SourceError, UnstorableName, VerificationFailed


class MhlHistoryError(CorruptArchive):
    """An ASC MHL history cannot be trusted: a manifest changed or missing (its C4 ID does not
    match the chain), no chain file, XML that is not ASC MHL. Exit code 6."""


class NoMhlHistory(SourceError):
    """The folder carries no ASC MHL history (no `ascmhl/` folder with generations). Exit code 2."""


class MhlVerificationFailed(VerificationFailed):
    """At least one file does not match the hash its ASC MHL history recorded. Exit code 3."""


class MhlIncomplete(JobIncomplete):
    """Every file present matched, but files the history records are missing, or files it
    does not know are present. Exit code 5."""


class MhlUnstorableName(UnstorableName):
    """A file name cannot be written into an ASC MHL manifest (not UTF-8, or a character XML 1.0
    cannot hold)."""
