/* NTT-friendly primes (q = 1 mod 2N) and primitive 2N-th roots of unity. */
#ifndef ENSI_MATH_PRIMES_H
#define ENSI_MATH_PRIMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ensi/status.h>

/* Deterministic Miller-Rabin, exact for all 64-bit integers. */
bool ensi_is_prime(uint64_t n);

/* Writes `count` distinct primes q = 1 mod two_n closest to 2^log2_target, alternating one below
 * and one above 2^log2_target (so that products of consecutive ones stay close to a power of
 * two), skipping exclude[0..exclude_count). Deterministic. Every prime is below 2^61. */
ensi_status ensi_primes_near(uint64_t *out, size_t count, int log2_target, uint64_t two_n,
                             const uint64_t *exclude, size_t exclude_count);

/* Writes `count` distinct primes q = 1 mod two_n strictly below 2^bits, largest first. */
ensi_status ensi_primes_below(uint64_t *out, size_t count, int bits, uint64_t two_n,
                              const uint64_t *exclude, size_t exclude_count);

/* The primitive two_n-th root of unity psi = g^((q-1)/two_n) for the smallest g that yields one.
 * q must be prime with q = 1 mod two_n. */
ensi_status ensi_primitive_root_2n(uint64_t q, uint64_t two_n, uint64_t *psi);

#endif
