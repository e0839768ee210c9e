#ifndef SONODUAL_COPENBLAS_SHIM_H
#define SONODUAL_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
