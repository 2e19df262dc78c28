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

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

struct xapian_handle {
    Xapian::Database db;
    Xapian::Enquire ranked;
    Xapian::Enquire counting;
    Xapian::Stem stem;
    Xapian::doccount ndocs;
    std::vector<std::string> terms;

    explicit xapian_handle(const char *dir)
        : db(dir), ranked(db), counting(db), stem("english"), ndocs(db.get_doccount()) {
        ranked.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.75, 0.5));
        counting.set_weighting_scheme(Xapian::BoolWeight());
    }
};

struct build_ctx {
    Xapian::WritableDatabase *db;
    Xapian::TermGenerator *tg;
    uint64_t docs;
};

int add_doc(void *vctx, const bench_doc *d, char *err, size_t errlen) {
    build_ctx *c = static_cast<build_ctx *>(vctx);
    try {
        Xapian::Document doc;
        c->tg->set_document(doc);
        c->tg->index_text(std::string(d->title, d->title_len), 2);
        c->tg->increase_termpos();
        c->tg->index_text(std::string(d->body, d->body_len));
        doc.set_data(std::string(d->line, d->line_len));
        doc.add_value(0, std::string(d->id, d->id_len));
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

int xapian_build(const char *corpus, const char *dir, uint64_t *docs, char *err, size_t errlen) {
    try {
        Xapian::WritableDatabase db(dir, Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS);
        Xapian::TermGenerator tg;
        tg.set_stemmer(Xapian::Stem("english"));
        tg.set_stemming_strategy(Xapian::TermGenerator::STEM_ALL);
        build_ctx c = {&db, &tg, 0};
        if (bench_corpus_each(corpus, add_doc, &c, err, errlen) != 0) return -1;
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
        Xapian::MSet m = enq.get_mset(0, cls == BENCH_COUNT ? 0 : (Xapian::doccount)k, x->ndocs);
        if (m.get_matches_lower_bound() != m.get_matches_upper_bound()) {
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

const bench_engine xapian_engine = {"xapian", xapian_version, xapian_build, xapian_open, xapian_run, xapian_close};

} // namespace

extern "C" const bench_engine *bench_engine_xapian(void) {
    return &xapian_engine;
}

#else /* !TRAWL_BENCH_HAVE_XAPIAN */

extern "C" const bench_engine *bench_engine_xapian(void) {
    return nullptr;
}

#endif
