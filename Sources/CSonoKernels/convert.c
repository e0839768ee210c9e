#include "sono_kernels.h"
#include <string.h>

void sono_u8_to_f32(const uint8_t *src, float *dst, size_t n, float scale, float bias) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] * scale + bias;
}

/* Portable half → float (normals, subnormals, inf, NaN). */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) { bits = sign; }
        else {
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) { man <<= 1; exp--; }
            man &= 0x3FF;
            bits = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7F800000 | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n, float scale, float bias) {
    size_t i = 0;
    __m256 s = _mm256_set1_ps(scale), b = _mm256_set1_ps(bias);
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        __m256 f = _mm256_cvtph_ps(h);
        _mm256_storeu_ps(dst + i, _mm256_add_ps(_mm256_mul_ps(f, s), b));
    }
    for (; i < n; i++) dst[i] = half_to_float(src[i]) * scale + bias;
}
#endif

void sono_f16_to_f32(const uint16_t *src, float *dst, size_t n, float scale, float bias) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("f16c")) { f16_to_f32_f16c(src, dst, n, scale, bias); return; }
#endif
    for (size_t i = 0; i < n; i++) dst[i] = half_to_float(src[i]) * scale + bias;
}
