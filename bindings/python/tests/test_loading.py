"""test_loading.py — where the binding finds libtrawl.so: TRAWL_LIBRARY when
set (and only there), else libtrawl.so.0 next to the package, else the system
loader; failing that, an ImportError that names every place tried."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import trawl

PACKAGE = os.path.dirname(os.path.abspath(trawl.__file__))
LIBRARY = os.environ.get("TRAWL_LIBRARY")


@unittest.skipUnless(LIBRARY, "needs TRAWL_LIBRARY naming the built library")
class LoadingTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trawl-py-")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_python(self, code, pythonpath, library=None):
        env = {k: v for k, v in os.environ.items() if k not in ("TRAWL_LIBRARY", "LD_LIBRARY_PATH")}
        env["PYTHONPATH"] = pythonpath
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        if library is not None:
            env["TRAWL_LIBRARY"] = library
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              cwd=self.dir)

    def test_environment_variable(self):
        p = self.run_python("import trawl; print(trawl.library_version)", os.path.dirname(PACKAGE), LIBRARY)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, trawl.library_version), p.stderr)
        missing = os.path.join(self.dir, "nope", "libtrawl.so.0")
        p = self.run_python("import trawl", os.path.dirname(PACKAGE), missing)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ImportError", p.stderr)
        self.assertIn(missing, p.stderr)
        # Only there: no other place was tried.
        self.assertNotIn("; ", p.stderr.strip().splitlines()[-1])

    def test_next_to_the_package_then_the_system(self):
        shutil.copytree(PACKAGE, os.path.join(self.dir, "trawl"))
        p = self.run_python("import trawl, sys; print(trawl.library_version)", self.dir)
        if p.returncode == 0:
            self.skipTest("a libtrawl.so.0 is installed on the system")
        # Without a copy next to the package: both places named.
        self.assertIn(os.path.join(self.dir, "trawl", "libtrawl.so.0") + ": no such file", p.stderr)
        self.assertIn("libtrawl.so.0: ", p.stderr)
        shutil.copy(os.path.realpath(LIBRARY), os.path.join(self.dir, "trawl", "libtrawl.so.0"))
        p = self.run_python("import trawl; print(trawl.library_version)", self.dir)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, trawl.library_version), p.stderr)


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(LIBRARY and os.environ.get("TRAWL_SOURCE_DIR"), "needs TRAWL_LIBRARY and TRAWL_SOURCE_DIR")
class ReadmeExampleTest(unittest.TestCase):

    def test_readme_python_example_runs(self):
        with open(os.path.join(os.environ["TRAWL_SOURCE_DIR"], "README.md"), encoding="utf-8") as f:
            text = f.read()
        section = text[text.index("### From Python"):]
        code, started = [], False
        for line in section.splitlines()[1:]:
            if line.startswith("    "):
                code.append(line[4:])
                started = True
            elif started and line.strip():
                break
        self.assertEqual(len(code), 5)
        d = tempfile.mkdtemp(prefix="trawl-py-")
        try:
            p = subprocess.run([sys.executable, "-c", "\n".join(code)], cwd=d, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            hit_id, score, snippet = p.stdout.strip().split(" ", 2)
            self.assertEqual(hit_id, "1")
            self.assertGreater(float(score), 0)
            self.assertEqual(snippet, "Nearest-neighbour search over embeddings.")
        finally:
            shutil.rmtree(d)
