/*
 * progress.c — draws the in-place progress line of `trawl index` on stderr
 * (see progress.h). Uses a carriage return and the ANSI "erase line" escape;
 * only ever enabled when stderr is a terminal.
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>

#define REFRESH_SECONDS 0.1
#define BAR_WIDTH 24
#define LABEL_WIDTH 28

void progress_init(progress *p, int enabled) {
    memset(p, 0, sizeof *p);
    p->enabled = enabled;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->last_draw = -1.0;
}

double progress_elapsed(const progress *p) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
}

void progress_begin_input(progress *p, const char *label, uint64_t size, uint64_t bytes_so_far) {
    p->label = label;
    p->input_size = size;
    p->input_base = bytes_so_far;
}

/* Draws the line now. */
static void draw(progress *p, uint64_t bytes_so_far, uint64_t docs, double elapsed) {
    const char *label = p->label ? p->label : "";
    size_t llen = strlen(label);
    /* Long paths keep their tail, which names the file. */
    const char *shown = llen > LABEL_WIDTH ? label + (llen - (LABEL_WIDTH - 3)) : label;
    fprintf(stderr, "\r\033[K%s%-*s", llen > LABEL_WIDTH ? "..." : "",
            llen > LABEL_WIDTH ? LABEL_WIDTH - 3 : LABEL_WIDTH, shown);
    if (p->input_size > 0) {
        uint64_t done = bytes_so_far - p->input_base;
        if (done > p->input_size) done = p->input_size;
        double frac = (double)done / (double)p->input_size;
        int fill = (int)(frac * BAR_WIDTH);
        char bar[BAR_WIDTH + 1];
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '-';
        bar[BAR_WIDTH] = '\0';
        fprintf(stderr, " %3d%% [%s]", (int)(frac * 100.0), bar);
    }
    double rate = elapsed > 0 ? (double)docs / elapsed : 0.0;
    fprintf(stderr, " %llu docs, %.1f MB, %.0f docs/s", (unsigned long long)docs, (double)bytes_so_far / 1e6, rate);
    fflush(stderr);
    p->drawn = 1;
}

void progress_update(progress *p, uint64_t bytes_so_far, uint64_t docs) {
    if (!p->enabled) return;
    double now = progress_elapsed(p);
    if (p->last_draw >= 0 && now - p->last_draw < REFRESH_SECONDS) return;
    p->last_draw = now;
    draw(p, bytes_so_far, docs, now);
}

void progress_status(progress *p, const char *text) {
    if (!p->enabled) return;
    fprintf(stderr, "\r\033[K%s", text);
    fflush(stderr);
    p->drawn = 1;
}

void progress_clear(progress *p) {
    if (!p->drawn) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->drawn = 0;
}
