#include "sono_kernels.h"
#include <string.h>

void sono_window_to_double(const float *frame, const float *window, double *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (double)frame[i] * (double)window[i];
}

void sono_power_from_complex(const double *spectrum, float *power, size_t bins) {
    for (size_t k = 0; k < bins; k++) {
        double re = spectrum[2 * k], im = spectrum[2 * k + 1];
        power[k] = (float)(re * re + im * im);
    }
}

void sono_mel_apply(const float *power, const float *weights, const long *offsets, const long *first, size_t mels, float *mel) {
    /* Reassociation lets the compiler vectorise the sums (the order is fixed by the code, so
       results are still identical from run to run). */
#pragma clang fp reassociate(on)
    for (size_t m = 0; m < mels; m++) {
        const float *w = weights + offsets[m], *p = power + first[m];
        long count = offsets[m + 1] - offsets[m];
        float acc = 0;
        for (long i = 0; i < count; i++) acc += w[i] * p[i];
        mel[m] = acc;
    }
}

int sono_all_finite(const float *x, size_t n) {
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned bits;
        memcpy(&bits, x + i, 4);
        bad |= ((bits & 0x7F800000u) == 0x7F800000u);
    }
    return !bad;
}

void sono_power_to_db(float *v, size_t n, float amin, float refDB) {
    const float ln2 = 0.69314718055994530942f, tenOverLn10 = 4.34294481903251827651f;
    for (size_t i = 0; i < n; i++) {
        float x = v[i] > amin ? v[i] : amin;
        unsigned bits;
        memcpy(&bits, &x, 4);
        int e = (int)((bits >> 23) & 0xFF) - 127;
        unsigned mb = (bits & 0x7FFFFFu) | 0x3F800000u;
        float m;
        memcpy(&m, &mb, 4);                       /* m in [1, 2) */
        int big = m > 1.41421356237309504880f;    /* reduce to [√½, √2) */
        m = big ? m * 0.5f : m;
        e += big;
        float f = (m - 1.0f) / (m + 1.0f), f2 = f * f;
        /* log m = 2 atanh f = 2 (f + f³/3 + f⁵/5 + f⁷/7 + f⁹/9), |f| ≤ 0.1716 */
        float logm = 2.0f * f * (1.0f + f2 * (1.0f / 3 + f2 * (1.0f / 5 + f2 * (1.0f / 7 + f2 * (1.0f / 9)))));
        v[i] = tenOverLn10 * ((float)e * ln2 + logm) - refDB;
    }
}
