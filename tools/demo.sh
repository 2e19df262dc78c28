#!/bin/sh
# Installs the dependencies, builds trawl, indexes the bundled sample corpus
# (sample/trends.jsonl) into build/demo-index and runs a few ranked searches.
set -eu
cd "$(dirname "$0")/.."
sh tools/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target trawl
rm -rf build/demo-index
build/trawl index -o build/demo-index sample/trends.jsonl
for q in 'vector database' '"cold start" OR serverless' 'title:postgres -vector' 'supply chain security'; do
  echo
  echo "\$ trawl search build/demo-index '$q'"
  build/trawl search -k 5 build/demo-index "$q"
done
