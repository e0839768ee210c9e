#include "sono_kernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#include <limits.h>
#endif

void sono_reuse_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}
