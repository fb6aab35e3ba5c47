/* Internal layout of plaintexts and ciphertexts.
 *
 * Both are kept in the NTT domain. A polynomial at level l has l + 1 limbs of N words; limb i is
 * the residue modulo q_i. A ciphertext holds degree + 1 polynomials (degree 1 normally, 2 right
 * after a multiplication); polynomial k starts at data + k * stride, stride = (capacity + 1) * N,
 * where capacity is the level it was allocated for, so that dropping levels moves no data. Room
 * for a third polynomial is allocated only when a ciphertext first holds degree 2, so the
 * degree-1 ciphertexts that make up nearly all of the memory carry no unused polynomial. */
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
  size_t polys;    /* polynomials allocated: degree + 1 or more */
  size_t slots;
  double scale;
  uint64_t *data;  /* polys polynomials of (capacity + 1) limbs */
};

static inline uint64_t *ensi_ct_poly(const ensi_ciphertext *ct, size_t k) {
  return ct->data + k * (ct->capacity + 1) * ct->n;
}

static inline uint64_t *ensi_ct_limb(const ensi_ciphertext *ct, size_t k, size_t i) {
  return ensi_ct_poly(ct, k) + i * ct->n;
}

/* Makes room for `level` and `degree` in ct, reallocating only when its capacity or polynomial
 * count is too small; a reallocation keeps the contents (polynomials up to ct->degree, limbs up to
 * ct->level), so an output may alias an input. Sets ct->level (not ct->degree). */
ensi_status ensi_ciphertext_reserve(ensi_ciphertext *ct, size_t level, size_t degree);

/* A ciphertext at `level` with room for `degree` (1 or 2), zero-filled. */
ensi_status ensi_ciphertext_create_with_degree(ensi_ciphertext **out, const ensi_context *ctx,
                                               size_t level, size_t degree);

/* Exchanges the contents of a and b (no data is copied). */
void ensi_ciphertext_swap(ensi_ciphertext *a, ensi_ciphertext *b);

#endif
