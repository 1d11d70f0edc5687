#include "rd_sort.h"

#include <stdint.h>
#include <string.h>

/* Heapsort: O(n log n), in place, no recursion.  Elements are swapped
 * byte-wise through a small stack buffer. */
static void swap(char *a, char *b, size_t size)
{
	char tmp[64];
	while (size) {
		size_t n = size < sizeof(tmp) ? size : sizeof(tmp);
		memcpy(tmp, a, n);
		memcpy(a, b, n);
		memcpy(b, tmp, n);
		a += n;
		b += n;
		size -= n;
	}
}

static void sift_down(char *base, size_t start, size_t end, size_t size, int (*cmp)(const void *, const void *))
{
	size_t root = start;
	while (2 * root + 1 < end) {
		size_t child = 2 * root + 1;
		if (child + 1 < end && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap(base + root * size, base + child * size, size);
		root = child;
	}
}

void rd_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	if (n < 2)
		return;
	for (size_t start = n / 2; start-- > 0;)
		sift_down(b, start, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}
