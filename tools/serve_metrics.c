/*
 * serve_metrics.c — the counters of `trawl serve` and GET /metrics in the
 * Prometheus text exposition format (version 0.0.4): requests by route and
 * status, a latency histogram by route, requests in flight, and per index the
 * documents, segments, bytes and generation of the current commit, commits,
 * ingested bytes and documents. Counters are relaxed atomics bumped by the
 * HTTP threads; the text is built on demand.
 */
#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Status codes with their own counter; the last slot counts the others. */
static const int statuses[SRV_NSTATUS - 1] = {200, 201, 202, 204, 400, 401, 403, 404, 405, 409,
                                              413, 414, 415, 429, 431, 500, 501, 503, 0};
/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t bucket_us[SRV_NBUCKETS] = {100,   250,    500,    1000,   2500,    5000,    10000,   25000,
                                                 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

/* Slot of status in the requests table. */
static int status_slot(int status) {
    for (int i = 0; i < SRV_NSTATUS - 1; i++)
        if (statuses[i] == status) return i;
    return SRV_NSTATUS - 1;
}

void srv_metrics_record(srv_metrics *m, int route, int status, uint64_t us) {
    if (route < 0 || route >= SRV_NROUTES_MAX) route = SRV_ROUTE_OTHER;
    atomic_fetch_add_explicit(&m->requests[route][status_slot(status)], 1, memory_order_relaxed);
    int b = 0;
    while (b < SRV_NBUCKETS && us > bucket_us[b]) b++;
    atomic_fetch_add_explicit(&m->latency[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us[route], us, memory_order_relaxed);
}

/* Label of metrics row r. */
static const char *route_label(int r) {
    return r < (int)srv_nroutes ? srv_routes[r].metric : "none";
}

/* Is row r the first with its label (rows sharing a label are summed)? */
static int first_of_label(int r) {
    for (int j = 0; j < r; j++)
        if (strcmp(route_label(j), route_label(r)) == 0) return 0;
    return 1;
}

/* Writes the per-route families to f. */
static void write_routes(FILE *f, srv_metrics *m) {
    int nrows = SRV_ROUTE_OTHER + 1;
    fputs("# HELP trawl_http_requests_total HTTP requests answered, by route and status.\n"
          "# TYPE trawl_http_requests_total counter\n",
          f);
    for (int r = 0; r < nrows; r++) {
        if (!first_of_label(r)) continue;
        for (int st = 0; st < SRV_NSTATUS; st++) {
            uint64_t n = 0;
            for (int j = r; j < nrows; j++)
                if (strcmp(route_label(j), route_label(r)) == 0) n += atomic_load(&m->requests[j][st]);
            if (!n) continue;
            if (st < SRV_NSTATUS - 1)
                fprintf(f, "trawl_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", route_label(r), statuses[st],
                        (unsigned long long)n);
            else
                fprintf(f, "trawl_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", route_label(r),
                        (unsigned long long)n);
        }
    }
    fputs("# HELP trawl_http_request_duration_seconds Time from the request's headers to the end of its answer.\n"
          "# TYPE trawl_http_request_duration_seconds histogram\n",
          f);
    for (int r = 0; r < nrows; r++) {
        if (!first_of_label(r)) continue;
        uint64_t cum = 0, sum = 0;
        for (int b = 0; b <= SRV_NBUCKETS; b++) {
            for (int j = r; j < nrows; j++)
                if (strcmp(route_label(j), route_label(r)) == 0) cum += atomic_load(&m->latency[j][b]);
            if (b < SRV_NBUCKETS)
                fprintf(f, "trawl_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route_label(r),
                        (double)bucket_us[b] / 1e6, (unsigned long long)cum);
            else
                fprintf(f, "trawl_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                        route_label(r), (unsigned long long)cum);
        }
        for (int j = r; j < nrows; j++)
            if (strcmp(route_label(j), route_label(r)) == 0) sum += atomic_load(&m->latency_sum_us[j]);
        fprintf(f, "trawl_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_label(r), (double)sum / 1e6);
        fprintf(f, "trawl_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_label(r),
                (unsigned long long)cum);
    }
    fprintf(f,
            "# HELP trawl_http_requests_in_flight Requests being handled now.\n"
            "# TYPE trawl_http_requests_in_flight gauge\n"
            "trawl_http_requests_in_flight %d\n",
            atomic_load(&m->in_flight));
}

/* One gauge or counter family over every index. */
static void write_index_family(FILE *f, srv_index **list, size_t n, srv_snap **snaps, const char *name,
                               const char *type, const char *help, int which) {
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = 0;
        switch (which) {
            case 0: v = snaps[i]->documents; break;
            case 1: v = snaps[i]->segments; break;
            case 2: v = snaps[i]->bytes; break;
            case 3: v = snaps[i]->generation; break;
            case 4: v = atomic_load(&list[i]->commits); break;
            case 5: v = atomic_load(&list[i]->ingest_bytes); break;
            case 6: v = atomic_load(&list[i]->merges); break;
            case 7: v = atomic_load(&list[i]->reopens); break;
            case 8: v = atomic_load(&list[i]->snaps_live); break;
        }
        fprintf(f, "%s{index=\"%s\"} %llu\n", name, list[i]->name, (unsigned long long)v);
    }
}

char *srv_metrics_text(srv_server *s, size_t *len) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return NULL;
    write_routes(f, &s->metrics);
    srv_index **list = NULL;
    size_t n = 0;
    srv_snap **snaps = NULL;
    if (srv_index_list(s, &list, &n) == 0 && (snaps = calloc(n ? n : 1, sizeof *snaps)) != NULL) {
        for (size_t i = 0; i < n; i++) snaps[i] = srv_snap_get(list[i]);
        write_index_family(f, list, n, snaps, "trawl_index_documents", "gauge", "Live documents in the served commit.",
                           0);
        write_index_family(f, list, n, snaps, "trawl_index_segments", "gauge", "Segments in the served commit.", 1);
        write_index_family(f, list, n, snaps, "trawl_index_bytes", "gauge", "Bytes of the served commit's segments.",
                           2);
        write_index_family(f, list, n, snaps, "trawl_index_generation", "gauge", "Generation of the served commit.", 3);
        write_index_family(f, list, n, snaps, "trawl_index_commits_total", "counter",
                           "Commits made by this server's ingestion.", 4);
        write_index_family(f, list, n, snaps, "trawl_index_merges_total", "counter",
                           "Merges made by this server's ingester when idle.", 6);
        write_index_family(f, list, n, snaps, "trawl_index_reopens_total", "counter",
                           "Newer commits installed (searches already running keep theirs).", 7);
        write_index_family(f, list, n, snaps, "trawl_index_snapshots", "gauge",
                           "Commits open: the served one and older ones still held by running searches.", 8);
        write_index_family(f, list, n, snaps, "trawl_ingest_bytes_total", "counter",
                           "Bytes of document batches ingested.", 5);
        fputs("# HELP trawl_ingest_documents_total Documents ingested, by result.\n"
              "# TYPE trawl_ingest_documents_total counter\n",
              f);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "trawl_ingest_documents_total{index=\"%s\",result=\"added\"} %llu\n", list[i]->name,
                    (unsigned long long)atomic_load(&list[i]->docs_added));
            fprintf(f, "trawl_ingest_documents_total{index=\"%s\",result=\"replaced\"} %llu\n", list[i]->name,
                    (unsigned long long)atomic_load(&list[i]->docs_replaced));
            fprintf(f, "trawl_ingest_documents_total{index=\"%s\",result=\"failed\"} %llu\n", list[i]->name,
                    (unsigned long long)atomic_load(&list[i]->docs_failed));
            fprintf(f, "trawl_ingest_documents_total{index=\"%s\",result=\"deleted\"} %llu\n", list[i]->name,
                    (unsigned long long)atomic_load(&list[i]->docs_deleted));
        }
        for (size_t i = 0; i < n; i++) srv_snap_release(snaps[i]);
    }
    for (size_t i = 0; list && i < n; i++) srv_index_release(list[i]);
    free(list);
    free(snaps);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = size;
    return buf;
}

void srv_h_metrics(srv_server *s, srv_request *rq, srv_response *rs) {
    (void)rq;
    rs->text = srv_metrics_text(s, &rs->text_len);
    rs->status = 200;
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
