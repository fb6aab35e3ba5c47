/* Internal layout of plaintexts and ciphertexts.
 *
 * Both are kept in the NTT domain. A polynomial at level l has l + 1 limbs of N words; limb i is
 * the residue modulo q_i. A ciphertext holds degree + 1 polynomials (degree 1 normally, 2 right
 * after a multiplication); polynomial k starts at data + k * stride, stride = (capacity + 1) * N,
 * where capacity is the level it was allocated for, so that dropping levels moves no data. */
#ifndef ENSI_CKKS_CIPHERTEXT_H
#define ENSI_CKKS_CIPHERTEXT_H

#include <ensi/ckks.h>

struct ensi_plaintext {
  size_t n;
  size_t level;
  size_t capacity; /* allocated level */
  size_t slots;    /* slot count of the encoding (a power of two <= N/2) */
  double scale;
  uint64_t *data;  /* (capacity + 1) limbs */
};

struct ensi_ciphertext {
  size_t n;
  size_t level;
  size_t capacity;
  size_t degree;   /* 1 or 2 */
  size_t slots;
  double scale;
  uint64_t *data;  /* 3 polynomials of (capacity + 1) limbs */
};

static inline uint64_t *ensi_ct_poly(const ensi_ciphertext *ct, size_t k) {
  return ct->data + k * (ct->capacity + 1) * ct->n;
}

static inline uint64_t *ensi_ct_limb(const ensi_ciphertext *ct, size_t k, size_t i) {
  return ensi_ct_poly(ct, k) + i * ct->n;
}

/* Makes room for `level` in ct (reallocating only when the capacity is too small); the contents
 * are undefined afterwards. */
ensi_status ensi_ciphertext_reserve(ensi_ciphertext *ct, size_t level);

#endif
