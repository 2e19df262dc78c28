/*
 * serve_trends.c — GET/POST /indexes/NAME/trends of `trawl serve`: emerging
 * terms of a time window (trawl_index_trends) or, with "bursts", the bursts of
 * one term (trawl_index_bursts). Parameters come from the query string (GET)
 * or a JSON body (POST), with the names and meanings of `trawl trends`'s
 * options; each is checked (type, range, unknown names) before the library
 * runs on the index's current snapshot. The answer is the library's JSON
 * object, the one `trawl trends --json` prints.
 */
#include "serve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TR_DATE_MAX 64 /* bytes of one end of a window (a date-time is 35 at most) */

typedef struct trends_params {
    const char *q;      /* the query restricting the window, or NULL */
    const char *bursts; /* the term whose bursts are asked, or NULL */
    int has_window, has_background;
    char window[2][TR_DATE_MAX], background[2][TR_DATE_MAX]; /* "" = open */
    size_t limit, min_docs;
    int has_limit, has_min_docs;
    const char *score, *field, *unit, *tz;
    double s, gamma;
    int has_s, has_gamma;
} trends_params;

/* Copies the range "FROM..TO" (either side may be empty) into ends; 0 or -1. */
static int parse_range(const char *v, size_t len, char ends[2][TR_DATE_MAX]) {
    if (memchr(v, 0, len)) return -1;
    const char *dots = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (v[i] == '.' && v[i + 1] == '.') {
            dots = v + i;
            break;
        }
    if (!dots) return -1;
    size_t a = (size_t)(dots - v), b = len - a - 2;
    if (a >= TR_DATE_MAX || b >= TR_DATE_MAX) return -1;
    memcpy(ends[0], v, a);
    ends[0][a] = 0;
    memcpy(ends[1], dots + 2, b);
    ends[1][b] = 0;
    return 0;
}

/* Parses a whole decimal number in [min, max]; 0 or -1. */
static int parse_size(const char *s, size_t min, size_t max, size_t *out) {
    size_t v = 0;
    if (!*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (v > (max - (size_t)(*s - '0')) / 10) return -1;
        v = v * 10 + (size_t)(*s - '0');
    }
    if (v < min) return -1;
    *out = v;
    return 0;
}

/* Parses a finite number; 0 or -1. */
static int parse_real(const char *s, double *out) {
    char *end;
    if (!*s) return -1;
    double v = strtod(s, &end);
    if (*end || v != v || v > 1e300 || v < -1e300) return -1;
    *out = v;
    return 0;
}

/* The text parameters, kept as pointers into the request (or its body): the
 * address in p of k's pointer, or NULL when k is not one. */
static const char **text_slot(trends_params *p, const char *k) {
    if (!strcmp(k, "q")) return &p->q;
    if (!strcmp(k, "bursts")) return &p->bursts;
    if (!strcmp(k, "score")) return &p->score;
    if (!strcmp(k, "field")) return &p->field;
    if (!strcmp(k, "unit")) return &p->unit;
    if (!strcmp(k, "tz")) return &p->tz;
    return NULL;
}

/* Parses the value parameter k (window, background, limit, min_docs, s,
 * gamma) from the text v (len bytes, no NUL) into p, which keeps no pointer
 * to v. 0, or -1 with the 400 in rs. */
static int set_value(trends_params *p, const char *k, const char *v, size_t len, srv_response *rs) {
    if (!strcmp(k, "window") || !strcmp(k, "background")) {
        int w = !strcmp(k, "window");
        if (parse_range(v, len, w ? p->window : p->background) != 0) {
            srv_error(rs, 400, "bad_parameter", -1, "'%s' is FROM..TO (dates, either may be empty)", k);
            return -1;
        }
        *(w ? &p->has_window : &p->has_background) = 1;
    } else if (!strcmp(k, "limit")) {
        if (parse_size(v, 1, 10000, &p->limit) != 0) {
            srv_error(rs, 400, "bad_parameter", -1, "'limit' must be a whole number from 1 to 10000");
            return -1;
        }
        p->has_limit = 1;
    } else if (!strcmp(k, "min_docs")) {
        if (parse_size(v, 1, (size_t)1 << 40, &p->min_docs) != 0) {
            srv_error(rs, 400, "bad_parameter", -1, "'min_docs' must be a whole number of 1 or more");
            return -1;
        }
        p->has_min_docs = 1;
    } else if (!strcmp(k, "s") || !strcmp(k, "gamma")) {
        int is_s = !strcmp(k, "s");
        double x;
        if (parse_real(v, &x) != 0 || (is_s ? x <= 1.0 : x < 0.0)) {
            srv_error(rs, 400, "bad_parameter", -1,
                      is_s ? "'s' must be a number above 1" : "'gamma' must be a number of 0 or more");
            return -1;
        }
        *(is_s ? &p->s : &p->gamma) = x;
        *(is_s ? &p->has_s : &p->has_gamma) = 1;
    } else {
        srv_error(rs, 400, "unknown_parameter", -1, "unknown parameter '%s'", k);
        return -1;
    }
    return 0;
}

/* Applies one parameter k given as text v (len bytes; a text parameter keeps
 * v, which must outlive p). 0, or -1 with the 400 in rs. */
static int set_param(trends_params *p, const char *k, const char *v, size_t len, srv_response *rs) {
    if (memchr(v, 0, len)) {
        srv_error(rs, 400, "bad_parameter", -1, "'%s' must not contain NUL characters", k);
        return -1;
    }
    const char **slot = text_slot(p, k);
    if (!slot) return set_value(p, k, v, len, rs);
    *slot = v;
    return 0;
}

/* Is k a parameter name of the route? */
static int known_name(const char *k) {
    static const char *const names[] = {"q",     "bursts", "window", "background", "limit", "min_docs",
                                        "score", "field",  "unit",   "tz",         "s",     "gamma"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(k, names[i])) return 1;
    return 0;
}

/* Reads the POST form: every member a string, except limit and min_docs
 * (integers), s and gamma (numbers) and window/background, which may also be
 * {"from": .., "to": ..} (strings or null). body stays alive while p is
 * used. 0, or -1. */
static int params_from_json(json_t *body, trends_params *p, srv_response *rs) {
    if (!json_is_object(body)) {
        srv_error(rs, 400, "bad_request", -1, "the body must be a JSON object");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(body, k, v) {
        char num[64];
        if (!known_name(k)) {
            srv_error(rs, 400, "unknown_parameter", -1, "unknown parameter '%s'", k);
            return -1;
        }
        if ((!strcmp(k, "window") || !strcmp(k, "background")) && json_is_object(v)) {
            json_t *from = json_object_get(v, "from"), *to = json_object_get(v, "to");
            size_t known = (from != NULL) + (to != NULL);
            if (json_object_size(v) != known || (from && !json_is_string(from) && !json_is_null(from)) ||
                (to && !json_is_string(to) && !json_is_null(to))) {
                srv_error(rs, 400, "bad_parameter", -1, "'%s' is \"FROM..TO\" or {\"from\", \"to\"} (strings or null)",
                          k);
                return -1;
            }
            char range[2 * TR_DATE_MAX + 2];
            const char *a = json_is_string(from) ? json_string_value(from) : "";
            const char *b = json_is_string(to) ? json_string_value(to) : "";
            if (strlen(a) >= TR_DATE_MAX || strlen(b) >= TR_DATE_MAX || strstr(a, "..") || strstr(b, "..")) {
                srv_error(rs, 400, "bad_parameter", -1, "'%s' has a malformed date", k);
                return -1;
            }
            snprintf(range, sizeof range, "%s..%s", a, b);
            if (set_value(p, k, range, strlen(range), rs) != 0) return -1;
        } else if (json_is_string(v)) {
            if (!strcmp(k, "limit") || !strcmp(k, "min_docs") || !strcmp(k, "s") || !strcmp(k, "gamma")) goto type;
            if (set_param(p, k, json_string_value(v), json_string_length(v), rs) != 0) return -1;
        } else if ((!strcmp(k, "limit") || !strcmp(k, "min_docs")) && json_is_integer(v)) {
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            if (set_value(p, k, num, strlen(num), rs) != 0) return -1;
        } else if ((!strcmp(k, "s") || !strcmp(k, "gamma")) && json_is_number(v)) {
            snprintf(num, sizeof num, "%.17g", json_number_value(v));
            if (set_value(p, k, num, strlen(num), rs) != 0) return -1;
        } else {
            goto type;
        }
        continue;
    type:
        srv_error(rs, 400, "bad_parameter", -1, "'%s' has the wrong type", k);
        return -1;
    }
    return 0;
}

/* Builds the library's request from p. 0, or -1 with the 400/500 in rs. */
static int make_request(const trends_params *p, trawl_trends *t, srv_response *rs) {
    if (p->field && trawl_trends_set_field(t, p->field) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1, "'field' wants a field name");
        return -1;
    }
    if (p->has_window && trawl_trends_set_window(t, p->window[0], p->window[1]) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1,
                  "'window' wants dates (YYYY, YYYY-MM, YYYY-MM-DD, a date-time), from not after to");
        return -1;
    }
    if (p->has_background && trawl_trends_set_background(t, p->background[0], p->background[1]) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1,
                  "'background' wants dates (YYYY, YYYY-MM, YYYY-MM-DD, a date-time), from not after to");
        return -1;
    }
    if (p->has_limit && trawl_trends_set_limit(t, p->limit) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1, "'limit' must be a whole number from 1 to 10000");
        return -1;
    }
    if (p->has_min_docs && trawl_trends_set_min_docs(t, p->min_docs) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1, "'min_docs' must be a whole number of 1 or more");
        return -1;
    }
    if (p->score && trawl_trends_set_score(t, p->score) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1, "'score' must be \"jlh\" or \"chi2\"");
        return -1;
    }
    if ((p->unit || p->tz) && trawl_trends_set_unit(t, p->unit ? p->unit : "month", p->tz) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1,
                  "'unit' wants year, quarter, month, week or day and 'tz' a fixed offset such as +05:30");
        return -1;
    }
    if ((p->has_s || p->has_gamma) &&
        trawl_trends_set_burst_params(t, p->has_s ? p->s : 2.0, p->has_gamma ? p->gamma : 1.0) != TRAWL_OK) {
        srv_error(rs, 400, "bad_parameter", -1, "'s' must be above 1 and 'gamma' 0 or more");
        return -1;
    }
    return 0;
}

/* Is s valid UTF-8 (jansson refuses it otherwise)? */
static int valid_utf8(const char *s) {
    json_t *probe = json_string(s);
    json_decref(probe);
    return probe != NULL;
}

void srv_h_trends(srv_server *s, srv_request *rq, srv_response *rs) {
    trends_params p = {0};
    json_t *body = NULL;
    trawl_trends *t = NULL;
    if (!strcmp(rq->method, "POST")) {
        const char *ct = rq->content_type;
        if (ct && *ct && !(strcspn(ct, "; \t") == 16 && strncasecmp(ct, "application/json", 16) == 0)) {
            srv_error(rs, 415, "unsupported_media_type", -1, "Content-Type must be application/json");
            return;
        }
        json_error_t err;
        body = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &err);
        if (!body) {
            srv_error(rs, 400, "malformed_json", err.position, "malformed JSON: %s", err.text);
            return;
        }
        if (params_from_json(body, &p, rs) != 0) goto out;
    } else {
        for (size_t i = 0; i < rq->nargs; i++) {
            const char *v = rq->args[i].value ? rq->args[i].value : "";
            if (set_param(&p, rq->args[i].key, v, strlen(v), rs) != 0) goto out;
        }
    }
    if (p.bursts) {
        if (p.q || p.has_window || p.has_background || p.has_limit || p.has_min_docs || p.score) {
            srv_error(rs, 400, "bad_parameter", -1,
                      "'bursts' takes no 'q', 'window', 'background', 'limit', 'min_docs' or 'score'");
            goto out;
        }
    } else if (!p.has_window) {
        srv_error(rs, 400, "missing_parameter", -1, "'window' (FROM..TO) or 'bursts' (a term) is required");
        goto out;
    } else if (p.unit || p.tz || p.has_s || p.has_gamma) {
        srv_error(rs, 400, "bad_parameter", -1, "'unit', 'tz', 's' and 'gamma' go with 'bursts'");
        goto out;
    }
    const char *text = p.bursts ? p.bursts : p.q;
    if (text && strlen(text) > s->cfg.max_query) {
        srv_error(rs, 414, "query_too_long", -1, "the query is longer than %zu bytes", s->cfg.max_query);
        goto out;
    }
    if ((text && !valid_utf8(text)) || (p.field && !valid_utf8(p.field))) {
        srv_error(rs, 400, "bad_utf8", -1, "the query or field is not valid UTF-8");
        goto out;
    }
    if (!(t = trawl_trends_new())) {
        srv_error(rs, 500, "internal", -1, "out of memory");
        goto out;
    }
    if (make_request(&p, t, rs) != 0) goto out;
    srv_index *ix = srv_index_get(s, rq->name);
    if (!ix) {
        srv_error(rs, 404, "index_not_found", -1, "no index named '%s'", rq->name);
        goto out;
    }
    srv_snap *sn = srv_snap_get(ix);
    char *json = NULL, *msg = NULL;
    trawl_rc rc = p.bursts ? trawl_index_bursts(sn->idx, p.bursts, t, &json, &msg)
                           : trawl_index_trends(sn->idx, p.q && *p.q ? p.q : NULL, t, &json, &msg);
    srv_snap_release(sn);
    srv_index_release(ix);
    const char *m = msg && *msg ? msg : trawl_strerror(rc);
    if (rc == TRAWL_OK) {
        if ((rs->text = strdup(json))) {
            rs->status = 200;
            rs->text_len = strlen(rs->text);
        } else {
            srv_error(rs, 500, "internal", -1, "out of memory");
        }
    } else if (rc == TRAWL_ESYNTAX) {
        srv_error(rs, 400, "query_syntax", -1, "%s", m);
    } else if (rc == TRAWL_EINVAL) {
        srv_error(rs, 400, "bad_query", -1, "%s", m);
    } else if (rc == TRAWL_ELIMIT) {
        srv_error(rs, 400, "query_limit", -1, "%s", m);
    } else {
        srv_error(rs, 500, "internal", -1, "trends failed: %s", m);
    }
    trawl_free(json);
    trawl_free(msg);
out:
    trawl_trends_free(t);
    json_decref(body);
}
