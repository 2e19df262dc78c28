"""test_errors.py — every error path of the binding: each trawl_rc the library
can be made to return comes back as its trawl.Error subclass with the code and
the library's message; misuse of the Python API raises the usual built-in
exceptions."""

import ctypes
import ctypes.util
import json
import os
import shutil
import tempfile
import unittest

import trawl


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


class ErrorTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trawl-py-")
        self.idx = os.path.join(self.dir, "idx")
        with trawl.Writer(self.idx) as w:
            w.add_many({"id": "d%d" % i, "title": "doc %d" % i, "body": "search engine number %d" % i}
                       for i in range(50))

    def tearDown(self):
        shutil.rmtree(self.dir)

    def assertTrawlError(self, cls, code, fn, *args, contains=None, **kw):
        """fn(*args, **kw) raises exactly cls, a trawl.Error with this code and
        a message (containing `contains` if given); returns the exception."""
        with self.assertRaises(cls) as cm:
            fn(*args, **kw)
        e = cm.exception
        self.assertIs(type(e), cls)
        self.assertIsInstance(e, trawl.Error)
        self.assertEqual(e.code, code)
        self.assertTrue(e.message)
        self.assertEqual(str(e), e.message)
        if contains:
            self.assertIn(contains, e.message)
        return e

    def test_not_found(self):
        missing = os.path.join(self.dir, "nothing")
        self.assertTrawlError(trawl.NotFoundError, -6, trawl.Index, missing, contains=missing)
        with trawl.Index(self.idx) as ix:
            e = self.assertTrawlError(trawl.NotFoundError, -6, ix.get, "no-such-id", contains="no-such-id")
            self.assertIsInstance(e, LookupError)
            self.assertTrawlError(trawl.NotFoundError, -6, ix.get, "d1\0")

    def test_syntax_error_offsets(self):
        with trawl.Index(self.idx) as ix:
            e = self.assertTrawlError(trawl.QuerySyntaxError, -5, ix.search, 'search "engine')
            self.assertEqual((e.offset, e.byte_offset), (7, 7))
            self.assertIsInstance(e, ValueError)
            # Offsets count characters in Python, bytes in C: "é" is 2 bytes.
            e = self.assertTrawlError(trawl.QuerySyntaxError, -5, ix.search, 'été (search')
            self.assertEqual('été (search'[e.offset], "(")
            self.assertEqual(e.byte_offset, e.offset + 2)
            for q in ("a AND", "title:", "(a OR b", "a)"):
                e = self.assertTrawlError(trawl.QuerySyntaxError, -5, ix.search, q)
                self.assertTrue(0 <= e.offset <= len(q), (q, e.offset))

    def test_limits(self):
        with trawl.Index(self.idx) as ix:
            self.assertTrawlError(trawl.LimitError, -8, ix.search, "a", limit=1000000, offset=1)
            self.assertTrawlError(trawl.LimitError, -8, ix.search, "(" * 100 + "a" + ")" * 100)
            self.assertTrawlError(trawl.LimitError, -8, ix.search, "a " * 2000)
        with trawl.Writer(self.idx) as w:
            self.assertTrawlError(trawl.LimitError, -8, w.add, {"id": "x" * 5000})

    def test_document_errors_leave_the_writer_usable(self):
        with trawl.Writer(self.idx) as w:
            for bad in ({"title": "no id"}, {"id": ""}, {"id": 7}, {"id": None}):
                e = self.assertTrawlError(trawl.DocumentError, -9, w.add, bad, contains="id")
                self.assertIsInstance(e, ValueError)
            with self.assertRaises(TypeError):
                w.add(["id", "x"])
            with self.assertRaises(TypeError):
                w.add({"id": "x", "when": object()})
            with self.assertRaises(ValueError):
                w.add({"id": "x", "f": float("nan")})
            e = self.assertTrawlError(trawl.DocumentError, -9, w.add_many,
                                      [{"id": "ok1"}, {"id": "ok2"}, {"title": "bad"}, {"id": "never"}])
            self.assertEqual(e.added, 2)
            w.add({"id": "after", "body": "still works"})
            self.assertEqual(w.pending, 3)
        with trawl.Index(self.idx) as ix:
            self.assertEqual(len(ix), 53)
            self.assertEqual(ix.get("after")["body"], "still works")
            self.assertRaises(trawl.NotFoundError, ix.get, "never")

    def test_locked(self):
        with trawl.Writer(self.idx):
            self.assertTrawlError(trawl.LockedError, -10, trawl.Writer, self.idx)
        trawl.Writer(self.idx).close()  # released by close

    def test_invalid_arguments(self):
        e = self.assertTrawlError(trawl.InvalidArgumentError, -2, trawl.Writer, os.path.join(self.dir, "new"),
                                  lang="klingon", contains="klingon")
        self.assertIsInstance(e, ValueError)
        self.assertTrawlError(trawl.InvalidArgumentError, -2, trawl.Writer, self.idx, lang="french",
                              contains="english")
        with self.assertRaises(TypeError):
            trawl.Writer(self.idx, lang=1)
        with self.assertRaises(ValueError):
            trawl.Writer(self.idx + "\0x")
        with self.assertRaises(ValueError):
            trawl.Index(self.idx + "\0x")

    def test_input_output(self):
        f = os.path.join(self.dir, "file")
        write(f, b"")
        self.assertTrawlError(trawl.InputOutputError, -3, trawl.Index, f)
        self.assertTrawlError(trawl.InputOutputError, -3, trawl.Writer, os.path.join(f, "sub"))

    def segment(self):
        segs = [n for n in os.listdir(self.idx) if n.endswith(".tws")]
        self.assertEqual(len(segs), 1)
        return os.path.join(self.idx, segs[0])

    def test_corrupt(self):
        self.assertEqual(trawl.check(self.idx), [])
        self.assertRaises(trawl.NotFoundError, trawl.check, os.path.join(self.dir, "nothing"))
        seg = self.segment()
        data = bytearray(read(seg))
        data[len(data) // 2] ^= 0x40
        write(seg, data)
        self.assertTrawlError(trawl.CorruptError, -4, trawl.Index, self.idx, contains=os.path.basename(seg))
        problems = trawl.check(self.idx)
        self.assertTrue(problems)
        self.assertTrue(all(os.path.basename(seg) in p for p in problems), problems)
        # The manifest is read first: a changed generation fails its checksum.
        man = os.path.join(self.idx, "MANIFEST")
        text = read(man)
        self.assertIn(b'"generation":1,', text)
        write(man, text.replace(b'"generation":1,', b'"generation":2,'))
        self.assertTrawlError(trawl.CorruptError, -4, trawl.Index, self.idx, contains="MANIFEST")

    def test_version(self):
        # A manifest of a future format, with a valid checksum computed by
        # libxxhash itself (XXH3_64bits), as manifest.c would write it.
        name = ctypes.util.find_library("xxhash")
        if not name:
            self.skipTest("libxxhash is not installed")
        xxh = ctypes.CDLL(name)
        xxh.XXH3_64bits.restype = ctypes.c_uint64
        xxh.XXH3_64bits.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
        man = os.path.join(self.idx, "MANIFEST")
        line = read(man).split(b"\n")[0]
        m = json.loads(line)
        self.assertEqual(m["format"], 2)
        m["format"] = 99
        line = json.dumps(m, separators=(",", ":")).encode()
        write(man, line + b"\nxxh3 %016x\n" % xxh.XXH3_64bits(line, len(line)))
        self.assertTrawlError(trawl.VersionError, -7, trawl.Index, self.idx, contains="99")

    def test_unknown_code_is_a_plain_error(self):
        from trawl.errors import make_error
        e = make_error(-1000, "from the future")
        self.assertIs(type(e), trawl.Error)
        self.assertEqual((e.code, e.message), (-1000, "from the future"))
        self.assertEqual(make_error(-6).message, "not found")  # trawl_strerror's text

    def test_closed_handles(self):
        ix = trawl.Index(self.idx)
        ix.close()
        ix.close()
        self.assertTrue(ix.closed)
        for call in (lambda: ix.search("x"), lambda: ix.get("d1"), lambda: len(ix), ix.stats):
            self.assertRaises(ValueError, call)
        w = trawl.Writer(self.idx)
        w.close()
        w.close()
        for call in (lambda: w.add({"id": "x"}), w.commit, lambda: w.pending):
            self.assertRaises(ValueError, call)


if __name__ == "__main__":
    unittest.main()
