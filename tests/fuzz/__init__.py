"""Fuzz targets: every reader of what lto-archive finds on a tape, a card or a disk, fed mutated input.

Each target starts from a valid input written by our own writer and mutates it (bytes flipped,
inserted, deleted, truncated; JSON values of the wrong type, huge numbers, deep nesting, invalid
UTF-8). Only an LtoArchiveError (or a clean parse) may come out: never another exception, never a
hang, never a write outside the restore root, never a damaged file reported as ok.

In CI they run at a modest size (200 examples each, seeded and derandomized). The long run (docs/fuzzing.md):

    LTO_ARCHIVE_FUZZ_EXAMPLES=100000 python3 -m pytest -q tests/fuzz
"""
