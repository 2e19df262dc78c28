"""_conv.py — conversions between Python values and the C library's arguments
and results (strings, paths, counts)."""

import os

from ._capi import ffi, lib


def take_string(p):
    """Decodes a char* the library malloc'd (NULL gives None) and frees it."""
    if p == ffi.NULL:
        return None
    try:
        return ffi.string(p).decode("utf-8", "replace")
    finally:
        lib.trawl_free(p)


def text(p):
    """A const char* the library owns, as str (NULL gives None)."""
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def encode_path(path):
    """A str, bytes or os.PathLike path as the bytes the C library takes.
    Raises ValueError for an embedded NUL, which C would silently cut at."""
    b = os.fsencode(path)
    if b"\0" in b:
        raise ValueError("embedded null byte in path")
    return b


def count(name, value):
    """Checks that value is a non-negative int (not a bool) and returns it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    if value < 0:
        raise ValueError("%s must be >= 0, not %d" % (name, value))
    return value
