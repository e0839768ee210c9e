#ifndef SONO_KERNELS_H
#define SONO_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* CRC-32C update with the SSE4.2 crc32 instruction; `crc` is the running state (already
   inverted by the caller). Only call when sono_crc32c_hw_available() is non-zero. */
uint32_t sono_crc32c_update_hw(uint32_t crc, const void *data, size_t length);
int sono_crc32c_hw_available(void);
#endif
