#!/usr/bin/python3
"""relevance_sets.py — the known-item query sets of `trawl-bench relevance`.

    /usr/bin/python3 bench/relevance_sets.py [CORPORA_DIR [OUT_DIR]]
        (defaults: $CORPORA_DIR or ~/.cache/trawl-corpora, and its relevance/)

For each set NAME it writes OUT_DIR/NAME.jsonl (the documents to index, one JSON
object a line: id, title, body) and OUT_DIR/NAME.tsv (one query a line:
split<TAB>answer id<TAB>query words). The text each query is made from is
removed from the indexed document, so the answer is not given away:

  linuxdoc    Linux kernel documentation files (linuxdoc.jsonl); query = words of
              the document's title heading; indexed: the body without the first
              line equal to that heading (nor the rule lines around it), no title.
  foldoc      FOLDOC entries (foldoc.jsonl); query = words of the definition's
              first sentence; indexed: the headword as title and the body without
              that sentence.
  changelogs  Debian changelog entries (changelogs.jsonl); query = words of the
              entry's first change line; indexed: title ("source version") and
              the body without that line.

Query words are the distinct content words of the removed text (lowercase
ASCII letters and digits, at least one letter, two characters or more, no
English stopword), 3 to 6 of them chosen by a generator seeded with the
document id, kept in text order; texts with fewer than 3 content words are
skipped, and so is every query that more than one document produced. At most
MAX_PER_SET queries a set (a seeded sample). The split is fixed by the id:
"tune" when the first byte of md5(id) is even, else "test" (held out).
Everything is deterministic: the same corpora give the same files.
"""
import hashlib
import json
import os
import random
import re
import sys

SEED = 20261129
MAX_PER_SET = 4000
MIN_WORDS, MAX_WORDS = 3, 6

STOPWORDS = set("""
a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each
few for from further had has have having he her here hers herself him himself his how
i if in into is it its itself just me more most my myself no nor not now of off on once
only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves via etc
""".split())


def content_words(text):
    """Distinct lowercase content words of text, in order."""
    words = [w for w in re.findall(r"[a-z0-9]+", text.lower())
             if len(w) > 1 and re.search(r"[a-z]", w) and w not in STOPWORDS]
    return list(dict.fromkeys(words))


def pick(doc_id, words):
    """3..6 of words, chosen by a generator seeded with the id, in text order."""
    rng = random.Random(hashlib.md5((str(SEED) + doc_id).encode()).hexdigest())
    n = min(len(words), rng.randint(MIN_WORDS, MAX_WORDS))
    return [words[i] for i in sorted(rng.sample(range(len(words)), n))]


def split_of(doc_id):
    return "tune" if hashlib.md5(doc_id.encode()).digest()[0] % 2 == 0 else "test"


RULE = re.compile(r"^\s*([=\-~^*#\"'`+.])\1{2,}\s*$")


def linuxdoc(doc):
    """(query text, indexed doc) or None."""
    title = doc["title"].strip()
    lines = doc["body"].split("\n")
    for i, line in enumerate(lines):
        if line.strip() == title:
            lo, hi = i, i + 1
            if lo > 0 and RULE.match(lines[lo - 1]):
                lo -= 1
            if hi < len(lines) and RULE.match(lines[hi]):
                hi += 1
            body = "\n".join(lines[:lo] + lines[hi:])
            return title, {"id": doc["id"], "title": "", "body": body}
    return None


FOLDOC_LEAD = re.compile(r"\s*(?:\d+\.\s*)?(?:<[^>]*>\s*)?(?:/[^/\n]*/\s*)?")


def foldoc(doc):
    body = doc["body"]
    start = body.find("\n\n")
    if start < 0:
        return None
    start += 2
    m = FOLDOC_LEAD.match(body, start)
    s = m.end()
    end = re.compile(r"\.(?:\s|$)").search(body, s)
    e = end.end() if end else len(body)
    sentence = body[s:e]
    if not sentence.strip():
        return None
    return sentence, {"id": doc["id"], "title": doc["title"], "body": body[:s] + body[e:]}


def changelogs(doc):
    lines = doc["body"].split("\n")
    for i, line in enumerate(lines):
        t = line.strip()
        if not t or (t.startswith("[") and t.endswith("]")):
            continue
        text = t.lstrip("*+- ")
        return text, {"id": doc["id"], "title": doc["title"], "body": "\n".join(lines[:i] + lines[i + 1:])}
    return None


SETS = [("linuxdoc", "linuxdoc.jsonl", linuxdoc), ("foldoc", "foldoc.jsonl", foldoc),
        ("changelogs", "changelogs.jsonl", changelogs)]


def build(name, src, fn, out_dir):
    docs, queries, seen = [], [], {}
    with open(src, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            r = fn(doc)
            if r is None:
                docs.append({"id": doc["id"], "title": doc.get("title", ""), "body": doc.get("body", "")})
                continue
            text, indexed = r
            docs.append(indexed)
            words = content_words(text)
            if len(words) < MIN_WORDS:
                continue
            q = " ".join(pick(doc["id"], words))
            seen[q] = seen.get(q, 0) + 1
            queries.append((doc["id"], q))
    queries = [(i, q) for i, q in queries if seen[q] == 1]
    if len(queries) > MAX_PER_SET:
        rng = random.Random(SEED)
        keep = set(rng.sample(range(len(queries)), MAX_PER_SET))
        queries = [x for k, x in enumerate(queries) if k in keep]
    with open(os.path.join(out_dir, name + ".jsonl"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    with open(os.path.join(out_dir, name + ".tsv"), "w", encoding="utf-8") as f:
        for i, q in queries:
            f.write("%s\t%s\t%s\n" % (split_of(i), i, q))
    tune = sum(1 for i, _ in queries if split_of(i) == "tune")
    print("%s: %d documents, %d queries (%d tune, %d test)" % (name, len(docs), len(queries), tune,
                                                                len(queries) - tune))


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "CORPORA_DIR", os.path.expanduser("~/.cache/trawl-corpora"))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(data, "relevance")
    os.makedirs(out, exist_ok=True)
    for name, file, fn in SETS:
        src = os.path.join(data, file)
        if not os.path.exists(src):
            sys.exit("%s: missing (build the corpora with ../shared/corpora/make_corpora.sh)" % src)
        build(name, src, fn, out)


if __name__ == "__main__":
    main()
