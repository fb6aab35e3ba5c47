/* Chebyshev interpolation in plain arithmetic: fitting a function on [a, b] at set-up (nodes
 * and sums in long double) and evaluating the resulting polynomial (Clenshaw). The encrypted
 * evaluator (ensi/polynomial.h) consumes the same coefficients, so plaintext and encrypted
 * paths compute the same polynomial. */
#ifndef ENSI_MATH_CHEBYSHEV_H
#define ENSI_MATH_CHEBYSHEV_H

#include <ensi/status.h>

typedef double (*ensi_real_fn)(double x, void *context);

/* coeffs[0..degree] of the interpolant of f at the degree + 1 Chebyshev nodes of [a, b]. */
ensi_status ensi_chebyshev_fit(double *coeffs, int degree, double a, double b, ensi_real_fn f,
                               void *context);

/* sum_k coeffs[k] T_k((2x - a - b) / (b - a)). */
double ensi_chebyshev_eval(const double *coeffs, int degree, double a, double b, double x);

#endif
