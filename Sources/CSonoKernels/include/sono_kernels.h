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

#ifndef SONO_KERNELS_SPECTRAL_H
#define SONO_KERNELS_SPECTRAL_H
/* The log-mel front end's per-frame loops, in C so the compiler vectorises them. */
/* out[i] = frame[i] * window[i], widened to double for the FFT. */
void sono_window_to_double(const float *frame, const float *window, double *out, size_t n);
/* power[k] = re² + im² of interleaved double complex values. */
void sono_power_from_complex(const double *spectrum, float *power, size_t bins);
/* mel[m] = Σ weights[offsets[m] + i] · power[first[m] + i], i < offsets[m+1] − offsets[m]. */
void sono_mel_apply(const float *power, const float *weights, const long *offsets, const long *first, size_t mels, float *mel);
/* 1 when every value is finite, else 0. */
int sono_all_finite(const float *x, size_t n);
#endif

#ifndef SONO_KERNELS_DB_H
#define SONO_KERNELS_DB_H
/* v[i] = 10·log10(max(v[i], amin)) − refDB, vectorisable (series for log on [√½, √2), error
   below 1e-6 dB for normal inputs; amin must be a normal float). */
void sono_power_to_db(float *v, size_t n, float amin, float refDB);
#endif

#ifndef SONO_KERNELS_MEMORY_H
#define SONO_KERNELS_MEMORY_H
/* Tells glibc's malloc to keep freed blocks for reuse (no per-array mappings, no trimming), so
   a training step's activations are not faulted in afresh each step. No-op elsewhere. */
void sono_reuse_freed_memory(void);
#endif
