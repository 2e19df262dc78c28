/*
 * mapreg.c — the segment files this process has mapped, by device and inode.
 *
 * Every open segment (tw_segment_open) holds its file here until closed. The
 * writer asks before removing a segment file that a merge or a deletion left
 * unreferenced: a file some reader of this process still maps is kept and
 * removed by a later garbage collection. (Readers in other processes need no
 * such care: an unlinked file stays readable through their mappings.)
 */
#include "mapreg.h"
#include "error.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct mapent {
    dev_t dev;
    ino_t ino;
    unsigned n;
} mapent;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static mapent *ents;
static size_t nents, cap;

int tw_mapreg_hold(dev_t dev, ino_t ino) {
    int rc = 0;
    pthread_mutex_lock(&lock);
    size_t i = 0;
    while (i < nents && !(ents[i].dev == dev && ents[i].ino == ino)) i++;
    if (i < nents) {
        ents[i].n++;
    } else {
        if (nents == cap) {
            size_t nc = cap ? cap * 2 : 64;
            mapent *ne = realloc(ents, nc * sizeof *ne);
            if (!ne)
                rc = TRAWL_ENOMEM;
            else
                ents = ne, cap = nc;
        }
        if (rc == 0) ents[nents++] = (mapent){dev, ino, 1};
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void tw_mapreg_release(dev_t dev, ino_t ino) {
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nents; i++)
        if (ents[i].dev == dev && ents[i].ino == ino) {
            if (--ents[i].n == 0) ents[i] = ents[--nents];
            break;
        }
    if (nents == 0) { /* nothing mapped: give the table back */
        free(ents);
        ents = NULL;
        cap = 0;
    }
    pthread_mutex_unlock(&lock);
}

int tw_mapreg_held(dev_t dev, ino_t ino) {
    int held = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nents && !held; i++) held = ents[i].dev == dev && ents[i].ino == ino;
    pthread_mutex_unlock(&lock);
    return held;
}
