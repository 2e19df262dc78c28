/*
 * engine_xapian.cc — the Xapian peer of trawl-bench (the harness's only C++
 * file). Xapian's API is C++; this file exposes it through the harness's C
 * adapter (bench_engine_xapian in bench.h) and lets no exception escape.
 *
 * Index: a glass database in INDEX_DIR. Each document is indexed with a
 * TermGenerator using Stem("english") (Snowball English, the stemmer trawl
 * uses) and STEM_ALL: every word becomes one stemmed term with positions, so
 * AND, OR and phrase queries all run on the same terms, as in trawl. The title
 * is indexed with wdf increment 2 (Xapian's way to weight a field; trawl's
 * default title weight is 2), then the term position jumps by 100 so that no
 * phrase spans title and body. The whole JSON line is the document data (a
 * document store, as trawl and FTS5 keep) and the external id is value slot 0.
 * Documents go in with add_document and one commit at the end (Xapian's own
 * default flush threshold). Index bytes = the sizes of the files in INDEX_DIR.
 *
 * Queries are built directly from stemmed terms (no QueryParser, whose parsing
 * cost trawl's side would not pay in the same way): OP_AND, OP_OR, or OP_PHRASE
 * with a window of the number of terms. Ranked classes use
 * BM25Weight(1.2, 0, 1, 0.75, 0.5) and get_mset(0, K, doccount): asking for
 * check_at_least = doccount makes the total exact (it also stops Xapian from
 * skipping documents that cannot enter the top K, which the exact total
 * requires anyway). count uses BoolWeight and get_mset(0, 0, doccount). Every
 * total is checked to be exact (lower bound == upper bound).
 */
#include "bench.h"

#ifdef TRAWL_BENCH_HAVE_XAPIAN

#include <xapian.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

struct xapian_handle {
    Xapian::Database db;
    Xapian::Enquire ranked;
    Xapian::Enquire counting;
    Xapian::Stem stem;
    Xapian::doccount ndocs;
    bench_mode mode;
    std::vector<std::string> terms;

    explicit xapian_handle(const char *dir)
        : db(dir), ranked(db), counting(db), stem("english"), ndocs(db.get_doccount()), mode(BENCH_EXACT) {
        ranked.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
        counting.set_weighting_scheme(Xapian::BoolWeight());
    }
};

struct build_ctx {
    Xapian::WritableDatabase *db;
    Xapian::TermGenerator *tg;
    uint64_t docs;
};

/* What every Xapian index here holds of d: title (wdf 2) and body as stemmed
 * text with positions, the JSON line as data, the id in slot 0. */
void index_common(Xapian::TermGenerator &tg, Xapian::Document &doc, const bench_doc *d) {
    tg.set_document(doc);
    tg.index_text(std::string(d->title, d->title_len), 2);
    tg.increase_termpos();
    tg.index_text(std::string(d->body, d->body_len));
    doc.set_data(std::string(d->line, d->line_len));
    doc.add_value(0, std::string(d->id, d->id_len));
}

int add_doc(void *vctx, const bench_doc *d, char *err, size_t errlen) {
    build_ctx *c = static_cast<build_ctx *>(vctx);
    try {
        Xapian::Document doc;
        index_common(*c->tg, doc, d);
        c->db->add_document(doc);
        c->docs++;
        return 0;
    } catch (const Xapian::Error &e) {
        bench_seterr(err, errlen, "xapian add: %s", e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        bench_seterr(err, errlen, "out of memory");
    }
    return -1;
}

/* Builds a glass database in dir from corpus, each document added by add
 * (called with a build_ctx), one commit at the end. */
int build_with(const char *corpus, const char *dir, bench_doc_fn add, uint64_t *docs, char *err, size_t errlen) {
    try {
        Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS);
        Xapian::TermGenerator tg;
        tg.set_stemmer(Xapian::Stem("english"));
        tg.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
        build_ctx c = {&db, &tg, 0};
        if (bench_corpus_each(corpus, add, &c, err, errlen) != 0) return -1;
        db.commit();
        db.close();
        *docs = c.docs;
        return 0;
    } catch (const Xapian::Error &e) {
        bench_seterr(err, errlen, "xapian build: %s", e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        bench_seterr(err, errlen, "out of memory");
    }
    return -1;
}

int xapian_build(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen) {
    return build_with(corpus, dir, add_doc, docs, err, errlen);
}

int xapian_open(const char *dir, void **h, char *err, size_t errlen) {
    *h = nullptr;
    try {
        *h = new xapian_handle(dir);
        return 0;
    } catch (const Xapian::Error &e) {
        bench_seterr(err, errlen, "xapian open %s: %s", dir, e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        bench_seterr(err, errlen, "out of memory");
    }
    return -1;
}

void xapian_close(void *h) {
    delete static_cast<xapian_handle *>(h);
}

int xapian_run(void *vh, bench_class cls, const bench_query *q, size_t k, bench_result *res, char *err, size_t errlen) {
    xapian_handle *x = static_cast<xapian_handle *>(vh);
    try {
        x->terms.clear();
        for (size_t i = 0; i < q->nwords; i++)
            x->terms.push_back(x->stem(Xapian::Unicode::tolower(std::string(q->words[i]))));
        Xapian::Query::op op = cls == BENCH_OR       ? Xapian::Query::OP_OR
                               : cls == BENCH_PHRASE ? Xapian::Query::OP_PHRASE
                                                     : Xapian::Query::OP_AND;
        Xapian::Query query(op, x->terms.begin(), x->terms.end(),
                            cls == BENCH_PHRASE ? (Xapian::termcount)x->terms.size() : 0);
        Xapian::Enquire &enq = cls == BENCH_COUNT ? x->counting : x->ranked;
        enq.set_query(query);
        /* Exact: check_at_least = every document. Default: Xapian's own
         * (check_at_least 0: the total is an estimate). */
        Xapian::MSet m =
            enq.get_mset(0, cls == BENCH_COUNT ? 0 : (Xapian::doccount)k, x->mode == BENCH_EXACT ? x->ndocs : 0);
        if (x->mode == BENCH_EXACT && m.get_matches_lower_bound() != m.get_matches_upper_bound()) {
            bench_seterr(err, errlen, "xapian: total not exact (%u..%u)", m.get_matches_lower_bound(),
                         m.get_matches_upper_bound());
            return -1;
        }
        res->total = m.get_matches_estimated();
        for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it) {
            std::string id = it.get_document().get_value(0);
            if (bench_result_add(res, id.data(), id.size()) != 0) throw std::bad_alloc();
        }
        return 0;
    } catch (const Xapian::Error &e) {
        bench_seterr(err, errlen, "xapian query: %s", e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        bench_seterr(err, errlen, "out of memory");
    }
    return -1;
}

const char *xapian_version() {
    return Xapian::version_string();
}

void xapian_set_mode(void *h, bench_mode mode) {
    static_cast<xapian_handle *>(h)->mode = mode;
}

const bench_engine xapian_engine = {"xapian",   xapian_version, xapian_build,   xapian_open,
                                    xapian_run, xapian_close,   xapian_set_mode};

/* ---- analytics (trawl-bench analytics) ----------------------------------
 *
 * Index: as above (title and body as stemmed text, the JSON line as data, the
 * id in slot 0), plus the values Xapian's users keep for faceting, ranges and
 * sorting:
 *   slot 1  sortable_serialise(date) — date ranges (OP_VALUE_RANGE, what
 *           NumberRangeProcessor produces) and sort by value
 *   slot 2  "YYYY-MM" of the date (UTC) — a ValueCountMatchSpy on it is the
 *           month histogram
 *   slot 3  the tags, each followed by a NUL byte — a value slot holds one
 *           string, so a multi-valued facet needs a MatchSpy subclass that
 *           splits it (TagSpy below), as Xapian's documentation advises
 *   slot 4  source
 * Queries (terms built as in xapian_run, OP_AND):
 *   histogram  BoolWeight, ValueCountMatchSpy(2), get_mset(0, 0, doccount)
 *   facets     BoolWeight, TagSpy(3), get_mset(0, 0, doccount), top N in C++
 *   and        BM25 as xapian_run, get_mset(0, K, doccount)
 *   and+filter Query(OP_FILTER, and, Query(OP_VALUE_RANGE, 1, lo, hi))
 *   sort       set_sort_by_value_then_relevance(1, true), get_mset(0, K, doccount)
 * check_at_least = doccount makes every total exact (checked) and the spies see
 * every match. */

const Xapian::valueno SLOT_DATE = 1, SLOT_MONTH = 2, SLOT_TAGS = 3, SLOT_SOURCE = 4;

/* Counts every tag of the packed slot 3 value of each match. */
class TagSpy : public Xapian::MatchSpy {
  public:
    std::unordered_map<std::string, Xapian::doccount> counts;
    void operator()(const Xapian::Document &doc, double) override {
        std::string v = doc.get_value(SLOT_TAGS);
        size_t st = 0;
        for (size_t i = 0; i < v.size(); i++) {
            if (v[i] != '\0') continue;
            counts[v.substr(st, i - st)]++;
            st = i + 1;
        }
    }
};

int an_add_doc(void *vctx, const bench_doc *d, char *err, size_t errlen) {
    build_ctx *c = static_cast<build_ctx *>(vctx);
    try {
        Xapian::Document doc;
        index_common(*c->tg, doc, d);
        if (d->has_date) {
            char month[8];
            bench_month(d->date, month);
            doc.add_value(SLOT_DATE, Xapian::sortable_serialise((double)d->date));
            doc.add_value(SLOT_MONTH, std::string(month));
        }
        if (d->ntags) {
            std::string tags;
            for (size_t i = 0; i < d->ntags; i++) {
                tags.append(d->tags[i], d->tag_len[i]);
                tags.push_back('\0');
            }
            doc.add_value(SLOT_TAGS, tags);
        }
        if (d->source_len) doc.add_value(SLOT_SOURCE, std::string(d->source, d->source_len));
        c->db->add_document(doc);
        c->docs++;
        return 0;
    } catch (const Xapian::Error &e) {
        bench_seterr(err, errlen, "xapian add: %s", e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        bench_seterr(err, errlen, "out of memory");
    }
    return -1;
}

int an_build(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen) {
    return build_with(corpus, dir, an_add_doc, docs, err, errlen);
}

struct an_handle {
    Xapian::Database db;
    Xapian::Enquire ranked, counting, sorted;
    Xapian::Stem stem;
    Xapian::doccount ndocs;
    std::vector<std::string> terms;
    std::vector<std::pair<std::string, Xapian::doccount>> top;

    explicit an_handle(const char *dir)
        : db(dir), ranked(db), counting(db), sorted(db), stem("english"), ndocs(db.get_doccount()) {
        ranked.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
        sorted.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
        sorted.set_sort_by_value_then_relevance(SLOT_DATE, true);
        counting.set_weighting_scheme(Xapian::BoolWeight());
    }
};

int an_open(const char *dir, void **h, char *err, size_t errlen) {
    *h = nullptr;
    try {
        *h = new an_handle(dir);
        return 0;
    } catch (const Xapian::Error &e) {
        bench_seterr(err, errlen, "xapian open %s: %s", dir, e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        bench_seterr(err, errlen, "out of memory");
    }
    return -1;
}

void an_close(void *h) {
    delete static_cast<an_handle *>(h);
}

/* Appends "KEY COUNT" to res; throws bad_alloc when out of memory. */
void add_pair(bench_result *res, const std::string &key, unsigned long long count) {
    std::string item = key + " " + std::to_string(count);
    if (bench_result_add(res, item.data(), item.size()) != 0) throw std::bad_alloc();
}

int check_exact(const Xapian::MSet &m, char *err, size_t errlen) {
    if (m.get_matches_lower_bound() == m.get_matches_upper_bound()) return 0;
    bench_seterr(err, errlen, "xapian: total not exact (%u..%u)", m.get_matches_lower_bound(),
                 m.get_matches_upper_bound());
    return -1;
}

int an_run(void *vh, bench_an_kind kind, const bench_query *q, const bench_an_params *p, bench_result *res, char *err,
           size_t errlen) {
    an_handle *x = static_cast<an_handle *>(vh);
    try {
        x->terms.clear();
        for (size_t i = 0; i < q->nwords; i++)
            x->terms.push_back(x->stem(Xapian::Unicode::tolower(std::string(q->words[i]))));
        Xapian::Query query(Xapian::Query::OP_AND, x->terms.begin(), x->terms.end());
        switch (kind) {
            case BENCH_AN_HIST: {
                Xapian::ValueCountMatchSpy spy(SLOT_MONTH);
                x->counting.set_query(query);
                x->counting.clear_matchspies();
                x->counting.add_matchspy(&spy);
                Xapian::MSet m = x->counting.get_mset(0, 0, x->ndocs);
                x->counting.clear_matchspies();
                if (check_exact(m, err, errlen) != 0) return -1;
                res->total = m.get_matches_estimated();
                for (Xapian::TermIterator it = spy.values_begin(); it != spy.values_end(); ++it)
                    add_pair(res, *it, it.get_termfreq());
                return 0;
            }
            case BENCH_AN_FACET: {
                TagSpy spy;
                x->counting.set_query(query);
                x->counting.clear_matchspies();
                x->counting.add_matchspy(&spy);
                Xapian::MSet m = x->counting.get_mset(0, 0, x->ndocs);
                x->counting.clear_matchspies();
                if (check_exact(m, err, errlen) != 0) return -1;
                res->total = m.get_matches_estimated();
                x->top.assign(spy.counts.begin(), spy.counts.end());
                size_t n = std::min(p->facet_n, x->top.size());
                auto better = [](const std::pair<std::string, Xapian::doccount> &a,
                                 const std::pair<std::string, Xapian::doccount> &b) {
                    return a.second != b.second ? a.second > b.second : a.first < b.first;
                };
                std::partial_sort(x->top.begin(), x->top.begin() + (std::ptrdiff_t)n, x->top.end(), better);
                for (size_t i = 0; i < n; i++) add_pair(res, x->top[i].first, x->top[i].second);
                return 0;
            }
            case BENCH_AN_FILTER:
                query = Xapian::Query(Xapian::Query::OP_FILTER, query,
                                      Xapian::Query(Xapian::Query::OP_VALUE_RANGE, SLOT_DATE,
                                                    Xapian::sortable_serialise((double)p->lo),
                                                    Xapian::sortable_serialise((double)p->hi)));
                /* fall through */
            case BENCH_AN_AND:
            case BENCH_AN_SORT: {
                Xapian::Enquire &enq = kind == BENCH_AN_SORT ? x->sorted : x->ranked;
                enq.set_query(query);
                Xapian::MSet m = enq.get_mset(0, (Xapian::doccount)p->k, x->ndocs);
                if (check_exact(m, err, errlen) != 0) return -1;
                res->total = m.get_matches_estimated();
                for (Xapian::MSetIterator it = m.begin(); it != m.end(); ++it) {
                    Xapian::Document doc = it.get_document();
                    std::string item =
                        kind == BENCH_AN_SORT
                            ? std::to_string((long long)Xapian::sortable_unserialise(doc.get_value(SLOT_DATE)))
                            : doc.get_value(0);
                    if (bench_result_add(res, item.data(), item.size()) != 0) throw std::bad_alloc();
                }
                return 0;
            }
            default: bench_seterr(err, errlen, "xapian: unknown workload"); return -1;
        }
    } catch (const Xapian::Error &e) {
        bench_seterr(err, errlen, "xapian query: %s", e.get_description().c_str());
    } catch (const std::bad_alloc &) {
        bench_seterr(err, errlen, "out of memory");
    }
    return -1;
}

const bench_an_engine xapian_an = {"xapian", xapian_version, an_build, an_open, an_run, an_close};

} // namespace

extern "C" const bench_engine *bench_engine_xapian(void) {
    return &xapian_engine;
}

extern "C" const bench_an_engine *bench_an_xapian(void) {
    return &xapian_an;
}

#else /* !TRAWL_BENCH_HAVE_XAPIAN */

extern "C" const bench_engine *bench_engine_xapian(void) {
    return nullptr;
}

extern "C" const bench_an_engine *bench_an_xapian(void) {
    return nullptr;
}

#endif
