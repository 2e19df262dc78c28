"""util.py — what the `trawl serve` tests share: starting the server on a free
loopback port (it picks one with --listen 127.0.0.1:0 and prints it), plain
HTTP requests through http.client, the oracle (`trawl search --json` on an
index built by `trawl index`) and failure bookkeeping. Imported by the
tests/serve/*.py scripts that tests/cli_serve*.sh run."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

BIN = os.environ["TRAWL_BIN"]
SRC = os.environ["TRAWL_SOURCE_DIR"]
BUILD = os.environ.get("TRAWL_BUILD_DIR", tempfile.gettempdir())
fails = 0


def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg, file=sys.stderr, flush=True)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def finish():
    """Exits 1 when a check failed, 0 otherwise."""
    if fails:
        print("%d failure(s)" % fails, file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


def scratch():
    d = tempfile.mkdtemp(prefix="trawl-serve-test-")
    return d


def trawl(*args, stdin=None):
    """Runs the trawl program; returns (exit code, stdout, stderr)."""
    p = subprocess.run([BIN] + list(args), input=stdin, capture_output=True, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def build_index(dirpath, docs):
    """Indexes docs (a list of dicts) into dirpath with `trawl index`."""
    data = "".join(json.dumps(d) + "\n" for d in docs).encode()
    rc, out, err = trawl("index", "-q", "-o", dirpath, "-", stdin=data)
    if rc != 0:
        raise RuntimeError("trawl index failed: " + err)


def oracle_search(index_dir, q, limit=10, offset=0, use_or=False):
    """`trawl search --json` of q: the reference answer (dict) or None on error."""
    args = ["search", "--json", "-k", str(limit), "--offset", str(offset)]
    if use_or:
        args.append("--or")
    rc, out, err = trawl(*(args + [index_dir, "--", q]))
    if rc != 0:
        return None
    return json.loads(out)


class Server:
    """A `trawl serve` process on a free loopback port."""

    def __init__(self, args, env=None, wait=True):
        self.logpath = tempfile.mktemp(prefix="trawl-serve-log-")
        self.log = open(self.logpath, "w+b")
        e = dict(os.environ)
        e.pop("TRAWL_ADMIN_KEY", None)
        e.pop("TRAWL_SEARCH_KEY", None)
        if env:
            e.update(env)
        self.proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0"] + list(args), stdout=subprocess.DEVNULL,
                                     stderr=self.log, env=e)
        self.port = None
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)/", open(self.logpath, "rb").read())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                raise RuntimeError("trawl serve exited %d: %s" % (self.proc.returncode, self.stderr()))
            time.sleep(0.02)
        raise RuntimeError("trawl serve did not start: " + self.stderr())

    def stderr(self):
        return open(self.logpath, "rb").read().decode("utf-8", "replace")

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30, conn=None):
        """Returns (status, headers as a dict with lower-case names, body bytes)."""
        own = conn is None
        c = conn or self.conn(timeout)
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if own:
            c.close()
        return r.status, hdrs, data

    def json(self, method, path, body=None, headers=None, timeout=30, conn=None):
        """Returns (status, parsed JSON body or None, headers)."""
        st, h, data = self.request(method, path, body, headers, timeout, conn)
        try:
            j = json.loads(data)
        except ValueError:
            j = None
        return st, j, h

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signals the server and waits; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        try:
            os.unlink(self.logpath)
        except OSError:
            pass


def q(s):
    """URL-quotes a path component or argument."""
    return urllib.parse.quote(s, safe="")


def check_error(st, j, h, want_status, want_code, what):
    """Checks an error answer: status, JSON {"error": {"code", "message"}}."""
    ok = check(st == want_status, "%s: status %s, expected %d (%s)" % (what, st, want_status, j))
    if ok and want_code:
        e = (j or {}).get("error") if isinstance(j, dict) else None
        ok = check(isinstance(e, dict) and e.get("code") == want_code and isinstance(e.get("message"), str),
                   "%s: error body %r, expected code %s" % (what, j, want_code))
    return ok


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)
