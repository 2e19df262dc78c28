/*
 * trends.c — emerging terms and bursts (trawl_index_trends,
 * trawl_index_bursts) and their request object. The request is complete;
 * the computation needs date fields, which arrive with the typed-field
 * storage: until then both entry points refuse with that reason.
 */
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "engine.h"

struct trawl_trends {
    char *field;
    char *w_from, *w_to, *b_from, *b_to; /* as given (NULL: open) */
    int has_window, has_background;
    size_t limit;
    uint64_t min_docs;
    int chi2;
    tw_cal_unit unit;
    int32_t tz;
    double s, gamma;
};

trawl_trends *trawl_trends_new(void) {
    trawl_trends *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (!(t->field = strdup("date"))) {
        free(t);
        return NULL;
    }
    t->limit = 20;
    t->min_docs = 3;
    t->unit = TW_CAL_MONTH;
    t->s = 2;
    t->gamma = 1;
    return t;
}

void trawl_trends_free(trawl_trends *t) {
    if (!t) return;
    free(t->field);
    free(t->w_from);
    free(t->w_to);
    free(t->b_from);
    free(t->b_to);
    free(t);
}

trawl_rc trawl_trends_set_field(trawl_trends *t, const char *field) {
    if (!t || !field || !*field) return TRAWL_EINVAL;
    char *f = strdup(field);
    if (!f) return TRAWL_ENOMEM;
    free(t->field);
    t->field = f;
    return TRAWL_OK;
}

/* Replaces *from / *to with copies of a / b (NULL or "" = open). */
static trawl_rc set_range(char **from, char **to, const char *a, const char *b) {
    char *x = a && *a ? strdup(a) : NULL, *y = b && *b ? strdup(b) : NULL;
    if ((a && *a && !x) || (b && *b && !y)) {
        free(x);
        free(y);
        return TRAWL_ENOMEM;
    }
    free(*from);
    free(*to);
    *from = x;
    *to = y;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_window(trawl_trends *t, const char *from, const char *to) {
    if (!t) return TRAWL_EINVAL;
    trawl_rc rc = set_range(&t->w_from, &t->w_to, from, to);
    if (!rc) t->has_window = 1;
    return rc;
}

trawl_rc trawl_trends_set_background(trawl_trends *t, const char *from, const char *to) {
    if (!t) return TRAWL_EINVAL;
    trawl_rc rc = set_range(&t->b_from, &t->b_to, from, to);
    if (!rc) t->has_background = 1;
    return rc;
}

trawl_rc trawl_trends_set_limit(trawl_trends *t, size_t n) {
    if (!t || n < 1 || n > 10000) return TRAWL_EINVAL;
    t->limit = n;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_min_docs(trawl_trends *t, uint64_t m) {
    if (!t || m < 1) return TRAWL_EINVAL;
    t->min_docs = m;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_score(trawl_trends *t, const char *name) {
    if (!t || !name) return TRAWL_EINVAL;
    if (!strcmp(name, "jlh"))
        t->chi2 = 0;
    else if (!strcmp(name, "chi2"))
        t->chi2 = 1;
    else
        return TRAWL_EINVAL;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_unit(trawl_trends *t, const char *unit, const char *tz) {
    tw_cal_unit u;
    int32_t off;
    if (!t || tw_cal_unit_parse(unit, &u) || tw_cal_offset_parse(tz, &off)) return TRAWL_EINVAL;
    t->unit = u;
    t->tz = off;
    return TRAWL_OK;
}

trawl_rc trawl_trends_set_burst_params(trawl_trends *t, double s, double gamma) {
    if (!t || !(s > 1 && s <= 1e6) || !(gamma >= 0 && gamma <= 1e6)) return TRAWL_EINVAL;
    t->s = s;
    t->gamma = gamma;
    return TRAWL_OK;
}

static trawl_rc refuse(const trawl_index *idx, const trawl_trends *t, char **json, char **errmsg) {
    if (json) *json = NULL;
    if (errmsg) *errmsg = NULL;
    if (!idx || !t || !json) return TRAWL_EINVAL;
    char msg[512];
    int rc = tw_err(msg, sizeof msg, TRAWL_EINVAL, "no date field named '%s'", t->field);
    if (errmsg) *errmsg = strdup(msg);
    return rc;
}

trawl_rc trawl_index_trends(const trawl_index *idx, const char *query, const trawl_trends *t, char **json,
                            char **errmsg) {
    (void)query;
    return refuse(idx, t, json, errmsg);
}

trawl_rc trawl_index_bursts(const trawl_index *idx, const char *term, const trawl_trends *t, char **json,
                            char **errmsg) {
    (void)term;
    return refuse(idx, t, json, errmsg);
}
