#!/bin/sh
# serve_load.sh — load benchmark of `trawl serve` beside nginx, loopback only,
# bounded in time (about 3 minutes with the defaults).
#
#   sh bench/serve_load.sh [BUILD_DIR]        (default: build)
#
# 1. Indexes the debian corpus of ../shared/corpora (built into
#    ~/.cache/trawl-corpora by make_corpora.sh; queries by make_queries.py)
#    with `trawl index`, timed.
# 2. Starts `trawl serve -q` on it and runs wrk for $DURATION seconds (60) with
#    top-10 searches (GET /indexes/debian/search?q=...&limit=10) drawn in turn
#    from queries/and.txt, sampling the server's resident memory every 5 s.
#    Then the same queries with limit=0 (count only) for $COUNT_DURATION s (15).
# 3. Starts nginx serving one static file of the median response size of
#    those searches and runs wrk on it for $NGINX_DURATION seconds (20): the
#    HTTP ceiling of this machine.
# 4. Ingests the corpus over HTTP into an empty index, NDJSON batches of
#    1,000 lines from $POSTERS (4) concurrent clients, timed, and checks the
#    document count.
# Prints one line per figure and a Markdown table. wrk: $WRK_THREADS (2)
# threads, $CONNECTIONS (64) connections. Everything listens on 127.0.0.1.
set -eu
BUILD=${1:-build}
TRAWL=$BUILD/trawl
DATA=${CORPORA_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/trawl-corpora}
CORPUS=$DATA/debian.jsonl
QUERIES=$DATA/queries/and.txt
DURATION=${DURATION:-60}
NGINX_DURATION=${NGINX_DURATION:-20}
COUNT_DURATION=${COUNT_DURATION:-15}
WRK_THREADS=${WRK_THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
POSTERS=${POSTERS:-4}
for f in "$TRAWL" "$CORPUS" "$QUERIES"; do
  [ -e "$f" ] || { echo "serve_load: $f is missing (build trawl; run ../shared/corpora/make_corpora.sh and make_queries.py)" >&2; exit 77; }
done
command -v wrk >/dev/null || { echo "serve_load: wrk is not installed (tools/setup.sh)" >&2; exit 77; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "serve_load: nginx is not installed (tools/setup.sh)" >&2; exit 77; }
PY=/usr/bin/python3
T=$(mktemp -d)
SERVER_PID=""
NGINX_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || :
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || :
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

now() { date +%s.%N; }
# start_server DIR NAME: starts trawl serve -q on a free loopback port; sets SERVER_PID and PORT.
start_server() {
  : >"$T/serve.log"
  "$TRAWL" serve -q --listen 127.0.0.1:0 "$2=$1" 2>>"$T/serve.log" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/serve.log")
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "serve_load: trawl serve did not start: $(cat "$T/serve.log")" >&2
  exit 1
}
stop_server() { kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || :; SERVER_PID=""; }

echo "machine: $(nproc) CPUs, $(uptime | sed 's/.*load/load/')"
echo "corpus: $(wc -l <"$CORPUS") docs, $(wc -c <"$CORPUS") bytes; queries: $(wc -l <"$QUERIES") ($QUERIES)"

# --- 1. trawl index -------------------------------------------------------------------------
t0=$(now)
"$TRAWL" index -q -o "$T/debian" "$CORPUS"
t1=$(now)
INDEX_S=$(echo "$t1 - $t0" | bc -l)
printf 'trawl index: %.2f s\n' "$INDEX_S"

# --- 2. trawl serve under wrk ----------------------------------------------------------------
# The wrk script: every request is the next query of the file; done() prints one
# parseable line.
"$PY" - "$QUERIES" "$T/paths.lua" <<'EOF'
import sys, urllib.parse
qs = [l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
with open(sys.argv[2], "w") as f:
    f.write("paths = {\n")
    for q in qs:
        f.write('  "/indexes/debian/search?q=%s&limit=10",\n' % urllib.parse.quote(q))
    f.write("}\n")
EOF
cat >"$T/load.lua" <<EOF
dofile("$T/paths.lua")
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
EOF
sed 's|^dofile.*||; s|paths\[(i % #paths) + 1\]|"/static.json"|' "$T/load.lua" >"$T/static.lua"

start_server "$T/debian" debian
# Typical response size: the median over the first 200 queries.
"$PY" - "$PORT" "$QUERIES" "$T/static.json" <<'EOF'
import http.client, sys, urllib.parse
port, qfile, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
qs = [l.strip() for l in open(qfile, encoding="utf-8") if l.strip()][:200]
c = http.client.HTTPConnection("127.0.0.1", port)
sizes = []
for q in qs:
    c.request("GET", "/indexes/debian/search?q=%s&limit=10" % urllib.parse.quote(q))
    r = c.getresponse()
    sizes.append(len(r.read()))
    assert r.status == 200, r.status
sizes.sort()
med = sizes[len(sizes) // 2]
open(out, "w").write(("x" * (med - 1)) + "\n")
print("typical response: %d bytes (median of %d searches)" % (med, len(sizes)))
EOF
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d5s -s "$T/load.lua" "http://127.0.0.1:$PORT" >/dev/null # warm-up
: >"$T/rss"
( while kill -0 "$SERVER_PID" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status" >>"$T/rss" 2>/dev/null || :
    sleep 5
  done ) &
RSS_PID=$!
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$T/load.lua" "http://127.0.0.1:$PORT" >"$T/wrk-trawl.txt"
kill "$RSS_PID" 2>/dev/null || :
TRAWL_LINE=$(grep '^WRK' "$T/wrk-trawl.txt")
echo "trawl serve: $TRAWL_LINE"
RSS=$(tr '\n' ' ' <"$T/rss")
echo "trawl serve RSS (KiB, every 5 s): $RSS"
# The same queries counted only (limit=0: no hits, titles or snippets): what the
# HTTP layer and the query engine cost without the snippets.
sed 's|&limit=10"|\&limit=0"|' "$T/paths.lua" >"$T/paths0.lua"
sed "s|$T/paths.lua|$T/paths0.lua|" "$T/load.lua" >"$T/count.lua"
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${COUNT_DURATION}s" --latency -s "$T/count.lua" "http://127.0.0.1:$PORT" >"$T/wrk-count.txt"
COUNT_LINE=$(grep '^WRK' "$T/wrk-count.txt")
echo "trawl serve, count only: $COUNT_LINE"
stop_server

# --- 3. nginx, same machine, same wrk -----------------------------------------------------------
NPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/nginx/logs" "$T/nginx/www"
cp "$T/static.json" "$T/nginx/www/static.json"
# nginx's workers run as an unprivileged user: they must be able to read the file.
chmod 755 "$T" "$T/nginx" "$T/nginx/www"
chmod 644 "$T/nginx/www/static.json"
cat >"$T/nginx/nginx.conf" <<EOF
worker_processes $(nproc);
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  default_type application/json;
  client_body_temp_path $T/nginx/body; proxy_temp_path $T/nginx/proxy;
  fastcgi_temp_path $T/nginx/fastcgi; uwsgi_temp_path $T/nginx/uwsgi; scgi_temp_path $T/nginx/scgi;
  server { listen 127.0.0.1:$NPORT; root $T/nginx/www; }
}
EOF
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
sleep 0.5
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d3s -s "$T/static.lua" "http://127.0.0.1:$NPORT" >/dev/null
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${NGINX_DURATION}s" --latency -s "$T/static.lua" "http://127.0.0.1:$NPORT" >"$T/wrk-nginx.txt"
NGINX_LINE=$(grep '^WRK' "$T/wrk-nginx.txt")
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NPORT/static.json")" = 200 ] ||
  echo "serve_load: nginx does not answer 200 for the static file" >&2
echo "nginx: $NGINX_LINE"
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || :; NGINX_PID=""

# --- 4. ingestion over HTTP ------------------------------------------------------------------------
"$TRAWL" index -q -o "$T/ingest" /dev/null
start_server "$T/ingest" ingest
INGEST=$("$PY" - "$PORT" "$CORPUS" "$POSTERS" <<'EOF'
import http.client, json, sys, threading, time
port, corpus, posters = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
lines = open(corpus, "rb").read().split(b"\n")
batches = [b"\n".join(lines[i:i + 1000]) + b"\n" for i in range(0, len(lines), 1000)]
lock = threading.Lock()
bad = []
def post(mine):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    for b in mine:
        c.request("POST", "/indexes/ingest/documents", body=b, headers={"Content-Type": "application/x-ndjson"})
        r = c.getresponse()
        j = json.loads(r.read())
        if r.status != 200 or j["failed"]:
            with lock:
                bad.append((r.status, str(j)[:200]))
t0 = time.time()
ts = [threading.Thread(target=post, args=(batches[k::posters],)) for k in range(posters)]
for t in ts: t.start()
for t in ts: t.join()
secs = time.time() - t0
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/indexes/ingest/stats")
docs = json.loads(c.getresponse().read())["documents"]
print("%.2f %d %d %d" % (secs, docs, len(batches), len(bad)))
if bad: print(bad[:3], file=sys.stderr)
EOF
)
stop_server
set -- $INGEST
HTTP_S=$1
echo "ingestion over HTTP: $HTTP_S s, $2 documents, $3 batches, $4 failed batches"

# --- summary ---------------------------------------------------------------------------------------
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
TR=$(field "$TRAWL_LINE" rps); NR=$(field "$NGINX_LINE" rps)
echo
echo "| server | req/s | p50 ms | p99 ms | max ms | errors | non-2xx |"
echo "|---|---|---|---|---|---|---|"
for name in trawl count nginx; do
  case $name in
    trawl) L=$TRAWL_LINE; S="trawl serve (top-10 searches with snippets, debian)" ;;
    count) L=$COUNT_LINE; S="trawl serve (same queries, limit=0: count only)" ;;
    nginx) L=$NGINX_LINE; S="nginx (static file of the typical response size)" ;;
  esac
  echo "| $S | $(field "$L" rps) | $(field "$L" p50_ms) | $(field "$L" p99_ms) | $(field "$L" max_ms) | $(field "$L" errors) | $(field "$L" non2xx) |"
done
printf '\ntrawl/nginx: %.1f%%; RSS KiB over %s s: %s\n' "$(echo "100 * $TR / $NR" | bc -l)" "$DURATION" "$RSS"
printf 'ingestion: trawl index %.2f s, HTTP %.2f s (%.2fx)\n' "$INDEX_S" "$HTTP_S" "$(echo "$HTTP_S / $INDEX_S" | bc -l)"
