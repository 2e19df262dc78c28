#!/bin/sh
# check_header.sh — every trawl_ name the public header's comments mention,
# and every trawl_ function the README calls (trawl_name(...)), is declared by
# include/trawl.h: a function, type or macro an embedding program can use.
# Oracle: the header's own declarations, read with its comments removed.
set -eu
cd "${TRAWL_SOURCE_DIR:?}"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is needed"; exit 77; }
python3 - <<'PYEOF'
import re, sys
hdr = open("include/trawl.h", encoding="utf-8").read()
comments = re.findall(r"/\*.*?\*/", hdr, flags=re.S)
code = re.sub(r"/\*.*?\*/", " ", hdr, flags=re.S)
declared = set(re.findall(r"\b((?:trawl|TRAWL)_\w+)", code))
# Error-code names are made by the TRAWL_ERRORS X-macro: TRAWL_ + name.
declared |= {"TRAWL_" + n for n in re.findall(r"X\((\w+),", code)}
named = {}
for c in comments:
    for n in re.findall(r"\b(trawl_\w+)", c):
        named.setdefault(n, "include/trawl.h comment")
readme = open("README.md", encoding="utf-8").read()
# In the README only calls count (trawl_name(...)): it also names metrics and
# build targets that start with trawl_.
for n in re.findall(r"\b(trawl_[A-Za-z0-9_]+)\(", readme):
    named.setdefault(n, "README.md")
missing = sorted((where, n) for n, where in named.items() if n not in declared)
for where, n in missing:
    print("%s names %s, which include/trawl.h does not declare" % (where, n))
if missing:
    sys.exit(1)
print("ok: %d names, all declared" % len(named))
PYEOF
