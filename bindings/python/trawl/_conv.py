"""_conv.py — conversions between Python values and the C library's arguments
and results (strings, paths, counts, opening options)."""

import os

from ._capi import ffi, lib
from .errors import make_error


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


def open_options(threads=None, ram_mb=None, simd=None):
    """A trawl_open_options with the settings given (None keeps the library's
    default), freed when garbage-collected. Raises TypeError for a value of the
    wrong type, InvalidArgumentError for one the library refuses."""
    o = lib.trawl_open_options_new()
    if o == ffi.NULL:
        raise make_error(lib.TRAWL_ENOMEM)
    o = ffi.gc(o, lib.trawl_open_options_free)
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise TypeError("threads must be an int, not %s" % type(threads).__name__)
        # More than 8 count as 8 in the library: clamping to C's int keeps that.
        rc = lib.trawl_open_options_set_threads(o, min(threads, 2**31 - 1)) if threads >= -1 else lib.TRAWL_EINVAL
        if rc != lib.TRAWL_OK:
            raise make_error(rc, "threads must be -1 (the default), 0 (none) or more, not %d" % threads)
    if ram_mb is not None:
        if isinstance(ram_mb, bool) or not isinstance(ram_mb, int):
            raise TypeError("ram_mb must be an int, not %s" % type(ram_mb).__name__)
        rc = lib.trawl_open_options_set_ram_mb(o, ram_mb) if 0 <= ram_mb < 2**64 else lib.TRAWL_EINVAL
        if rc != lib.TRAWL_OK:
            raise make_error(rc, "ram_mb must be 1 to 1048576, not %d" % ram_mb)
    if simd is not None:
        if not isinstance(simd, str):
            raise TypeError("simd must be a str, not %s" % type(simd).__name__)
        level = simd.encode("utf-8")
        rc = lib.trawl_open_options_set_simd(o, level) if b"\0" not in level else lib.TRAWL_EINVAL
        if rc != lib.TRAWL_OK:
            raise make_error(rc, 'simd must be "scalar", "sse4.1", "avx2", "avx512" or "auto", not %r' % simd)
    return o
