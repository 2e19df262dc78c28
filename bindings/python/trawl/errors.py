"""errors.py — the exceptions of the trawl binding: one subclass of trawl.Error
per trawl_rc code of the C library, carrying the library's message."""

from ._capi import ffi, lib


class Error(Exception):
    """A failure reported by the trawl library. .code is the trawl_rc value
    (a negative int), .message the library's message."""

    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class OutOfMemoryError(Error, MemoryError):
    """TRAWL_ENOMEM: an allocation failed."""
    code = lib.TRAWL_ENOMEM


class InvalidArgumentError(Error, ValueError):
    """TRAWL_EINVAL: an argument was refused (e.g. an unknown language)."""
    code = lib.TRAWL_EINVAL


class InputOutputError(Error):
    """TRAWL_EIO: reading or writing a file failed."""
    code = lib.TRAWL_EIO


class CorruptError(Error):
    """TRAWL_ECORRUPT: an index file failed a checksum or structure check."""
    code = lib.TRAWL_ECORRUPT


class QuerySyntaxError(Error, ValueError):
    """TRAWL_ESYNTAX: the query is malformed. .offset is the position of the
    error in the query string (characters), .byte_offset the same in its UTF-8
    encoding (as the C library reports it); both None if unknown."""
    code = lib.TRAWL_ESYNTAX

    def __init__(self, message, code=None, byte_offset=None, offset=None):
        super().__init__(message, code)
        self.byte_offset = byte_offset
        self.offset = offset


class NotFoundError(Error, LookupError):
    """TRAWL_ENOTFOUND: no such document, or no index in the directory."""
    code = lib.TRAWL_ENOTFOUND


class VersionError(Error):
    """TRAWL_EVERSION: the index was written in a format version this library
    does not read."""
    code = lib.TRAWL_EVERSION


class LimitError(Error, ValueError):
    """TRAWL_ELIMIT: an input exceeds a limit of the library."""
    code = lib.TRAWL_ELIMIT


class DocumentError(Error, ValueError):
    """TRAWL_EDOC: a document was refused (no "id", a bad field, ...)."""
    code = lib.TRAWL_EDOC


class LockedError(Error):
    """TRAWL_ELOCKED: another writer holds the index directory."""
    code = lib.TRAWL_ELOCKED


_BY_CODE = {cls.code: cls for cls in (OutOfMemoryError, InvalidArgumentError, InputOutputError, CorruptError,
                                      QuerySyntaxError, NotFoundError, VersionError, LimitError, DocumentError,
                                      LockedError)}


def make_error(rc, message=None):
    """The exception for trawl_rc rc: the subclass for the code (Error itself
    for a code this binding does not know), with message or else the library's
    text for the code."""
    if message is None or message == "":
        message = ffi.string(lib.trawl_strerror(rc)).decode("utf-8", "replace")
    return _BY_CODE.get(rc, Error)(message, rc)

