"""test_capi.py — the binding's transcription of trawl.h (trawl/_capi.py) is
what the C compiler sees in trawl.h: every declared function is compiled
against the real header (a mismatch is a conflicting-types error), every
constant has the header's value, and every error code has its own
trawl.Error subclass."""

import os
import shutil
import subprocess
import tempfile
import unittest

import trawl
from trawl import _capi
from trawl.errors import _BY_CODE

SOURCE = os.environ.get("TRAWL_SOURCE_DIR")
CC = shutil.which("cc")


@unittest.skipUnless(SOURCE and CC, "needs TRAWL_SOURCE_DIR and a C compiler")
class CapiTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trawl-py-")
        self.include = os.path.join(SOURCE, "include")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def compile(self, code, run=False):
        """Compiles code after #include "trawl.h" (only to an object file
        unless run; with run, also links and runs it: it may use the header's
        macros but no library function) and returns what it prints."""
        src = os.path.join(self.dir, "t.c")
        with open(src, "w") as f:
            f.write('#include "trawl.h"\n#include <stdio.h>\n' + code)
        exe = os.path.join(self.dir, "t")
        p = subprocess.run([CC, "-std=c11", "-Wall", "-Werror", "-I", self.include, src, "-o", exe]
                           + ([] if run else ["-c"]), capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        if not run:
            return ""
        return subprocess.run([exe], capture_output=True, text=True, check=True).stdout

    def test_functions_match_the_header(self):
        # Redeclaring each function after trawl.h fails to compile when any
        # type differs.
        self.compile(_capi.FUNCTIONS)

    def test_constants_match_the_header(self):
        out = self.compile(r"""
int main(void) {
#define P(name, value, msg) printf("TRAWL_%s %d\n", #name, TRAWL_##name);
    TRAWL_ERRORS(P)
    printf("TRAWL_SNIPPET_PLAIN %d\nTRAWL_SNIPPET_ANSI %d\nTRAWL_SNIPPET_HTML %d\n",
           TRAWL_SNIPPET_PLAIN, TRAWL_SNIPPET_ANSI, TRAWL_SNIPPET_HTML);
    printf("SOVERSION %d\n", TRAWL_VERSION_MAJOR);
    return 0;
}
""", run=True)
        consts = dict((name, int(v)) for name, v in (line.split() for line in out.splitlines()))
        self.assertEqual(consts.pop("SOVERSION"), _capi.SOVERSION)
        self.assertGreaterEqual(len(consts), 14)
        for name, value in consts.items():
            self.assertEqual(getattr(_capi.lib, name), value, name)
        # One exception class per error code, named in trawl's namespace.
        codes = {v for k, v in consts.items() if not k.startswith("TRAWL_SNIPPET") and v != 0}
        self.assertEqual(set(_BY_CODE), codes)
        for code, cls in _BY_CODE.items():
            self.assertIs(getattr(trawl, cls.__name__), cls)
            self.assertTrue(issubclass(cls, trawl.Error))
            self.assertEqual(cls.code, code)

    def test_library_version(self):
        with open(os.path.join(self.include, "trawl.h")) as f:
            self.assertIn('#define TRAWL_VERSION_STRING "%s"' % trawl.library_version, f.read())


if __name__ == "__main__":
    unittest.main()
