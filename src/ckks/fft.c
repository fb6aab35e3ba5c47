/* The special FFT (see fft.h). The decoding direction splits w by even and odd indices:
 * z_j = A_j + zeta^(5^j) B_j and z_{j + n/2} = A_j - zeta^(5^j) B_j, because 5^(n/2) = 1 + 2n
 * modulo 4n; iterating from blocks of 2 up to n after a bit-reversal gives the transform. */
#include "ckks/fft.h"

#include <math.h>
#include <stdlib.h>

#include "base/error.h"

void ensi_bit_reverse_complex(double complex *values, size_t n) {
  for (size_t i = 1, j = 0; i < n; i++) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j) {
      double complex t = values[i];
      values[i] = values[j];
      values[j] = t;
    }
  }
}

double complex ensi_special_fft_twiddle(size_t j, size_t len) {
  const size_t m = 4 * len;
  size_t e = 1;
  for (size_t k = 0; k < j; k++)
    e = e * 5 % m;
  return cexp(2.0 * M_PI * I * (double)e / (double)m);
}

/* Twiddles zeta_{4 len}^(5^j) for j < len / 2, for every block length, precomputed per call
 * into `table` (n - 1 entries: block len uses table[len/2 - 1 + j]). */
static void twiddles(double complex *table, size_t n) {
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t m = 4 * len;
    size_t e = 1;
    for (size_t j = 0; j < len / 2; j++) {
      table[len / 2 - 1 + j] = cexp(2.0 * M_PI * I * (double)e / (double)m);
      e = e * 5 % m;
    }
  }
}

ensi_status ensi_special_fft(double complex *values, size_t n) {
  if (n < 2)
    return ENSI_OK;
  double complex *table = malloc(n * sizeof *table);
  if (!table)
    return ENSI_ERR_NOMEM;
  twiddles(table, n);
  ensi_bit_reverse_complex(values, n);
  for (size_t len = 2; len <= n; len <<= 1) {
    const size_t half = len / 2;
    for (size_t i = 0; i < n; i += len)
      for (size_t j = 0; j < half; j++) {
        const double complex u = values[i + j], v = values[i + j + half] * table[half - 1 + j];
        values[i + j] = u + v;
        values[i + j + half] = u - v;
      }
  }
  free(table);
  return ENSI_OK;
}

ensi_status ensi_special_ifft(double complex *values, size_t n) {
  if (n < 2)
    return ENSI_OK;
  double complex *table = malloc(n * sizeof *table);
  if (!table)
    return ENSI_ERR_NOMEM;
  twiddles(table, n);
  for (size_t len = n; len >= 2; len >>= 1) {
    const size_t half = len / 2;
    for (size_t i = 0; i < n; i += len)
      for (size_t j = 0; j < half; j++) {
        const double complex u = values[i + j], v = values[i + j + half];
        values[i + j] = 0.5 * (u + v);
        values[i + j + half] = 0.5 * (u - v) * conj(table[half - 1 + j]);
      }
  }
  ensi_bit_reverse_complex(values, n);
  free(table);
  return ENSI_OK;
}
