#ifndef SONO_KERNELS_H
#define SONO_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* CRC-32C update with the SSE4.2 crc32 instruction; `crc` is the running state (already
   inverted by the caller). Only call when sono_crc32c_hw_available() is non-zero. */
uint32_t sono_crc32c_update_hw(uint32_t crc, const void *data, size_t length);
int sono_crc32c_hw_available(void);
#endif

#ifndef SONO_KERNELS_CONVERT_H
#define SONO_KERNELS_CONVERT_H
/* dst[i] = src[i] * scale + bias, for u8 pixels and IEEE half log-mel values (F16C where the CPU
   has it). The loader's hot loops: they run at memory speed where Swift's scalar half
   conversion calls a library routine per element. */
void sono_u8_to_f32(const uint8_t *src, float *dst, size_t n, float scale, float bias);
void sono_f16_to_f32(const uint16_t *src, float *dst, size_t n, float scale, float bias);
#endif
