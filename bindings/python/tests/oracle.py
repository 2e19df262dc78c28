"""oracle.py — what the binding's tests compare trawl against: a generated
corpus and a brute-force reimplementation, in plain Python, of the matching and
BM25F ranking (the default) the README specifies, for indexes built with lang="none" (no
stemming, so a term is the lower-cased ASCII token)."""

import math
import random
import re

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
FIELDS = ("title", "body")
WEIGHTS = {"title": 2.0, "body": 1.0}
K1, B = 1.2, 0.75


def vocabulary(rng, n):
    """n distinct lower-case pseudo-words of 2 or 3 syllables (never a query
    keyword such as "and", "or", "not")."""
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))))
    return sorted(words)


def make_corpus(seed, ndocs, nwords=150):
    """A deterministic list of documents {"id", "title", "body"} whose words
    follow a Zipf-like law over a generated vocabulary, in mixed case, separated
    by spaces and punctuation; and the vocabulary."""
    rng = random.Random(seed)
    vocab = vocabulary(rng, nwords)
    weights = [1.0 / (r + 1) for r in range(len(vocab))]

    def text(lo, hi):
        words = rng.choices(vocab, weights, k=rng.randint(lo, hi))
        words = [w.upper() if rng.random() < 0.05 else w.capitalize() if rng.random() < 0.1 else w for w in words]
        return "".join(w + rng.choice((" ", " ", " ", ", ", ". ", " - ")) for w in words).strip()

    docs = [{"id": "d%04d" % i, "title": text(1, 5), "body": text(5, 60)} for i in range(ndocs)]
    return docs, vocab


def tokens(s):
    """The terms of a text as trawl analyzes ASCII with lang "none"."""
    return re.findall(r"[a-z0-9]+", s.lower())


class Oracle:
    """Brute-force matching and BM25 over a list of documents (the live ones,
    each id once, in index order)."""

    def __init__(self, docs):
        self.docs = docs
        self.toks = [{f: tokens(d.get(f, "")) for f in FIELDS} for d in docs]
        self.n = {f: sum(1 for t in self.toks if t[f]) for f in FIELDS}
        self.avgdl = {f: sum(len(t[f]) for t in self.toks) / max(self.n[f], 1) for f in FIELDS}

    def has(self, i, word, fields=FIELDS):
        return any(word in self.toks[i][f] for f in fields)

    def phrase_count(self, i, words, field):
        t = self.toks[i][field]
        k = len(words)
        return sum(1 for p in range(len(t) - k + 1) if t[p:p + k] == words)

    def match(self, pred):
        """Ids of the documents for which pred(i) is true, in index order."""
        return [self.docs[i]["id"] for i in range(len(self.docs)) if pred(i)]

    def df(self, word, field):
        return sum(1 for t in self.toks if word in t[field])

    def idf(self, word, field):
        df = self.df(word, field)
        return math.log(1 + (self.n[field] - df + 0.5) / (df + 0.5))

    def bm25(self, i, words):
        """The default ranking's score (BM25F) of document i for the
        unqualified terms words (README, Ranking): per term, the weighted,
        length-normalized frequencies of its fields summed into x, then
        idf · x · (k1 + 1) / (x + k1) with one idf over all documents."""
        score = 0.0
        for w in words:
            x = 0.0
            for f in FIELDS:
                t = self.toks[i][f]
                tf = t.count(w)
                if tf:
                    x += WEIGHTS[f] * tf / (1 - B + B * len(t) / self.avgdl[f])
            if x > 0:
                df = sum(1 for j in range(len(self.docs)) if self.has(j, w))
                idf = math.log(1 + (len(self.docs) - df + 0.5) / (df + 0.5))
                score += idf * x * (K1 + 1) / (x + K1)
        return score
