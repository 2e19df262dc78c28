/*
 * mapreg.h — the process-wide registry of mapped segment files (mapreg.c):
 * a count per (device, inode), thread-safe.
 */
#ifndef TW_MAPREG_H
#define TW_MAPREG_H

#include <sys/types.h>

/* Counts one more mapping of the file. 0 or TRAWL_ENOMEM. */
int tw_mapreg_hold(dev_t dev, ino_t ino);
/* Counts one mapping less. */
void tw_mapreg_release(dev_t dev, ino_t ino);
/* Does some open segment of this process map the file? */
int tw_mapreg_held(dev_t dev, ino_t ino);

#endif
