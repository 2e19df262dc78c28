"""trawl — Python binding of the trawl full-text search engine.

    import trawl
    with trawl.Writer("idx") as w:  # commits when the block ends
        w.add({"id": "1", "title": "Vector databases", "body": "Nearest-neighbour search over embeddings."})
    with trawl.Index("idx") as index:
        for hit in index.search("vector search"):
            print(hit.id, hit.score, hit.snippet)

The binding calls libtrawl.so through cffi's ABI mode (no compiler needed); see
_capi.py for where the library is looked for (TRAWL_LIBRARY first). Errors
are raised as subclasses of trawl.Error, one per error code of the library.
"""

from ._capi import ffi as _ffi
from ._capi import lib as _lib
from .errors import (CorruptError, DocumentError, Error, InputOutputError, InvalidArgumentError, LimitError,
                     LockedError, NotFoundError, OutOfMemoryError, QuerySyntaxError, VersionError)
from .index import Hit, Index, SearchResult, check, sum_stats
from .writer import Writer

#: The version of the loaded libtrawl ("MAJOR.MINOR.PATCH").
library_version = _ffi.string(_lib.trawl_version()).decode()

__all__ = ["Index", "Writer", "check", "sum_stats", "SearchResult", "Hit", "Error", "OutOfMemoryError", "InvalidArgumentError",
           "InputOutputError", "CorruptError", "QuerySyntaxError", "NotFoundError", "VersionError", "LimitError",
           "DocumentError", "LockedError", "library_version"]
