/* The special FFT of CKKS: the canonical embedding restricted to the slots.
 *
 * For n slots (a power of two, n <= N/2) let M = 4n and zeta = exp(2 pi i / M). A real polynomial
 * with 2n coefficients m_0..m_{2n-1} (for sparse packing these sit at X^(k N / (2n))) is folded
 * into w_k = m_k + i m_{k+n}, k < n, and its slots are
 *     z_j = m(zeta^(5^j mod M)) = sum_k w_k zeta^(5^j k),   j = 0 .. n-1.
 * Slot j therefore sits at the root indexed by 5^j, so rotating the slots left by r is the
 * automorphism X -> X^(5^r) and conjugating them is X -> X^(-1).
 *
 * ensi_special_fft maps w to z in place (decoding); ensi_special_ifft is its exact inverse
 * (encoding). Both cost (n/2) log2 n complex butterflies. */
#ifndef ENSI_CKKS_FFT_H
#define ENSI_CKKS_FFT_H

#include <complex.h>
#include <stddef.h>

#include <ensi/status.h>

ensi_status ensi_special_fft(double complex *values, size_t n);
ensi_status ensi_special_ifft(double complex *values, size_t n);

/* zeta_M^(5^j mod M) as used by the butterflies of a block of length len (M = 4 len). */
double complex ensi_special_fft_twiddle(size_t j, size_t len);

/* In-place bit-reversal permutation of n values. */
void ensi_bit_reverse_complex(double complex *values, size_t n);

#endif
