"""ASC MHL v2.0 histories: write generations, read and check histories, verify cards on ingest.

See model (the data), writer (XML, folders, bytes for tapes), reader (chain and
C4 checks), verify (the ingest check) and hashes (formats, C4, directory hashes).
"""

from .errors import MhlHistoryError, MhlIncomplete, MhlUnstorableName, MhlVerificationFailed, NoMhlHistory
from .hashes import MHL_FORMATS, MhlHasher, c4_id, directory_hashes
from .ignore import DEFAULT_IGNORE, IgnoreSpec
from .model import (ACTIONS, CHAIN_FILE, HISTORY_FOLDER, IN_PLACE, PROCESSES, TRANSFER, Author, ChainEntry,
                    CreatorInfo, DirectoryHash, DirectoryHashEntry, FileHash, Generation, HashEntry, History, Reference)
from .reader import find_histories, has_history, parse_chain, parse_generation, read_history
from .verify import FileCheck, VerifyReport, create_generation, verify_tree
from .writer import (GenerationBuild, ObservedFile, WrittenGeneration, build_generation, chain_xml,
                     formats_to_hash, generation_file_name, generation_from_manifest, generation_xml,
                     history_files, storable, write_generation)

__all__ = [
    "ACTIONS", "CHAIN_FILE", "DEFAULT_IGNORE", "HISTORY_FOLDER", "IN_PLACE", "MHL_FORMATS", "PROCESSES", "TRANSFER",
    "Author", "ChainEntry", "CreatorInfo", "DirectoryHash", "DirectoryHashEntry", "FileCheck", "FileHash",
    "Generation", "GenerationBuild", "HashEntry", "History", "IgnoreSpec", "MhlHasher", "MhlHistoryError",
    "MhlIncomplete", "MhlUnstorableName", "MhlVerificationFailed", "NoMhlHistory", "ObservedFile", "Reference",
    "VerifyReport",
    "WrittenGeneration", "build_generation", "c4_id", "chain_xml", "create_generation", "directory_hashes",
    "find_histories", "formats_to_hash", "generation_file_name", "generation_from_manifest", "generation_xml",
    "has_history", "history_files", "parse_chain", "parse_generation", "read_history", "storable", "verify_tree",
    "write_generation",
]
