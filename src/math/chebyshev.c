/* Chebyshev interpolation and Clenshaw evaluation (see chebyshev.h). */
#include "math/chebyshev.h"

#include <math.h>
#include <stdlib.h>

#include "base/error.h"

ensi_status ensi_chebyshev_fit(double *coeffs, int degree, double a, double b, ensi_real_fn f,
                               void *context) {
  if (!coeffs || !f || degree < 0 || degree > 4096 || !(b > a))
    return ensi_fail(ENSI_ERR_ARG, "chebyshev fit: bad argument");
  const int n = degree + 1;
  long double *values = malloc((size_t)n * sizeof *values);
  if (!values)
    return ENSI_ERR_NOMEM;
  const long double pi = 3.14159265358979323846264338327950288L;
  for (int j = 0; j < n; j++) { /* node j: cos(pi (j + 1/2) / n) mapped to [a, b] */
    const long double y = cosl(pi * (j + 0.5L) / n);
    values[j] = f((double)(0.5L * (b - a) * y + 0.5L * (b + a)), context);
  }
  for (int k = 0; k < n; k++) {
    long double sum = 0;
    for (int j = 0; j < n; j++)
      sum += values[j] * cosl(pi * k * (j + 0.5L) / n);
    coeffs[k] = (double)(sum * (k == 0 ? 1.0L : 2.0L) / n);
  }
  free(values);
  return ENSI_OK;
}

double ensi_chebyshev_eval(const double *coeffs, int degree, double a, double b, double x) {
  const double y = (2.0 * x - a - b) / (b - a);
  double b1 = 0, b2 = 0;
  for (int k = degree; k >= 1; k--) {
    const double t = 2.0 * y * b1 - b2 + coeffs[k];
    b2 = b1;
    b1 = t;
  }
  return y * b1 - b2 + coeffs[0];
}
