/* Encrypted evaluation of polynomials given in the Chebyshev basis on an interval [a, b]:
 * p(x) = sum_k c_k T_k(y), y = (2x - a - b) / (b - a).
 *
 * Baby-step giant-step: the baby powers T_1 .. T_{m-1} (m a power of two near sqrt(degree)) and
 * the giant powers T_m, T_2m, T_4m, ... are computed once (T_2k = 2 T_k^2 - 1,
 * T_{a+b} = 2 T_a T_b - T_{a-b}); the polynomial is split recursively as p = q T_n + r with
 * Chebyshev division, and the leaves sum_j c_j T_j are formed with integer constants chosen so
 * that every intermediate lands on an exact, planned scale. The output has exactly the requested
 * scale (up to 2^-40 relative) at the level ensi_chebyshev_output_level() returns.
 * Depth (ensi_chebyshev_depth): ceil(log2(degree + 1)) + 1 for degree >= 4 (the leaves' constant
 * multiplications take one level; folding them into the power basis would save it), plus one
 * for the map x -> y, which also sets T_1's scale to the prime of its level so that the power
 * basis keeps its scales near the primes. Measured: degree 16 on [-10, 11] uses 7 levels. */
#ifndef ENSI_POLYNOMIAL_H
#define ENSI_POLYNOMIAL_H

#include <ensi/ckks.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Levels consumed by ensi_eval_chebyshev for this degree and interval. */
size_t ensi_chebyshev_depth(int degree, double a, double b);

/* out = p(in) for coefficients[0..degree] on [a, b]; out has scale `scale` (0: in's scale) at
 * level ensi_ciphertext_level(in) - ensi_chebyshev_depth(degree, a, b). Needs the
 * relinearization key. out may alias in. */
ensi_status ensi_eval_chebyshev(const ensi_context *ctx, ensi_ciphertext *out,
                                const ensi_ciphertext *in, const double *coefficients, int degree,
                                double a, double b, double scale, const ensi_eval_keys *keys);

/* The same with in already on [-1, 1] (y itself, not x): one level fewer (no map), which lets a
 * caller fold the map into a product it runs anyway (a mask). in should sit at a scale near the
 * prime of its level (the power basis keeps its scales near the primes from there). */
ensi_status ensi_eval_chebyshev_unit(const ensi_context *ctx, ensi_ciphertext *out,
                                     const ensi_ciphertext *in, const double *coefficients,
                                     int degree, double scale, const ensi_eval_keys *keys);

#ifdef __cplusplus
}
#endif
#endif
