/* A sort that never allocates.  glibc's qsort() calls malloc for arrays
 * larger than 1 KiB (msort.c), and the rule set can be built on a hook's path
 * (first write of a process), where malloc is not safe to call. */
#ifndef RD_SORT_H
#define RD_SORT_H

#include <stddef.h>

void rd_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
