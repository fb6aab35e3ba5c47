/* The AVX-512 kernel of math/dot.h, for dot.c's dispatch. */
#ifndef ENSI_MATH_DOT_INTERNAL_H
#define ENSI_MATH_DOT_INTERNAL_H

#include "math/dot.h"

/* n must be a multiple of 8. */
void ensi_dot2_mod_avx512(uint64_t *out0, uint64_t *out1, const uint64_t *const *x,
                          const uint64_t *const *y0, const uint64_t *const *y1, size_t count,
                          const uint32_t *perm, size_t n, const ensi_modulus *q);

#endif
