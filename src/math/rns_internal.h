/* Layout of a base converter and the block kernels of the fast base conversion (rns.h): the
 * portable one in rns.c, the AVX-512 one in rns_avx512.c and the AVX2 one in rns_avx2.c, chosen
 * together with the NTT kernel. */
#ifndef ENSI_MATH_RNS_INTERNAL_H
#define ENSI_MATH_RNS_INTERNAL_H

#include "math/rns.h"

struct ensi_base_converter {
  size_t from_count, to_count;
  ensi_modulus *from, *to;
  uint64_t *qhat_inv, *qhat_inv_shoup; /* [i]: (Q / q_i)^{-1} mod q_i */
  uint64_t *qhat_mod_to;               /* [j * from_count + i]: (Q / q_i) mod p_j */
  uint64_t *qhat_mod_to_shoup;         /* its Shoup constants modulo p_j */
  uint64_t *qhat_mod_to_montgomery;    /* (Q / q_i) 2^64 mod p_j, for Montgomery's reduction */
  uint64_t *multiple_mod_to;           /* [j * (from_count + 1) + u]: u Q mod p_j, u <= from_count */
};

/* Coefficients are converted in blocks so that y = [x_i qhat_i^{-1}]_{q_i} stays in cache. */
enum { ENSI_CONVERT_BLOCK = 64, ENSI_CONVERT_MAX_FROM = 64 };

/* Coefficients [start, start + len) of the conversion; y: from_count * ENSI_CONVERT_BLOCK words.
 * The AVX-512 kernel needs len a multiple of 8, the AVX2 one (rns_avx2.c) of 4. All give the
 * same words. */
void ensi_base_convert_block_avx512(const ensi_base_converter *bc, uint64_t *out,
                                    const uint64_t *in, size_t n, size_t start, size_t len,
                                    uint64_t *y);
void ensi_base_convert_block_avx2(const ensi_base_converter *bc, uint64_t *out,
                                  const uint64_t *in, size_t n, size_t start, size_t len,
                                  uint64_t *y);

#endif
