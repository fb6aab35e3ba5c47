/* Layout of an NTT table, the cache-blocked transform drivers and the kernel interface shared by
 * the NTT implementations. A kernel supplies the butterflies of one stage over a range of groups
 * (and the final scaling by 1/N); the drivers in ntt_portable.c order the stages for the cache. */
#ifndef ENSI_MATH_NTT_INTERNAL_H
#define ENSI_MATH_NTT_INTERNAL_H

#include <stdbool.h>

#include "math/ntt.h"

struct ensi_ntt_table {
  size_t n;
  unsigned log_n;
  ensi_modulus q;
  uint64_t *roots;         /* psi^bitrev(i), i < n (index 0 unused by the butterflies) */
  uint64_t *roots_shoup;
  uint64_t *inv_roots;     /* psi^-(bitrev(i)) */
  uint64_t *inv_roots_shoup;
  uint64_t n_inv, n_inv_shoup;
};

/* Butterflies of the stage with m groups of half-length gap, groups [first, last) only. Values are
 * lazy in a range of the kernel's own (the vector kernels: [0, 4q) forward, [0, 2q) inverse; the
 * portable one: [0, 8q) and [0, 4q)); inputs in [0, q) are in every range. */
typedef void ensi_ntt_groups_fn(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                size_t first, size_t last);
/* a[0 .. count) = a * n^-1 mod q, fully reduced (the inverse transform's last step). */
typedef void ensi_ntt_scale_fn(const ensi_ntt_table *t, uint64_t *a, size_t count);
/* a[0 .. count) from the kernel's forward range to [0, q) (the forward transform's last step). */
typedef void ensi_ntt_reduce_fn(const ensi_ntt_table *t, uint64_t *a, size_t count);

typedef struct {
  const char *name;
  bool (*supported)(void); /* whether this CPU runs the kernel */
  ensi_ntt_groups_fn *forward_groups;
  ensi_ntt_groups_fn *inverse_groups;
  ensi_ntt_scale_fn *scale;
  ensi_ntt_reduce_fn *reduce;
  /* Optional (NULL: the drivers run single stages): stages m and 2m in one pass over groups
   * [first, last) of stage m, with the same value ranges as a single stage. */
  ensi_ntt_groups_fn *forward_pairs;
  ensi_ntt_groups_fn *inverse_pairs;
} ensi_ntt_kernel;

void ensi_ntt_forward_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a);
void ensi_ntt_inverse_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a);

/* The portable C kernel (ntt_portable.c), the AVX-512 ones (ntt_avx512.c: with and without
 * IFMA), the AVX2 one (ntt_avx2.c). */
extern const ensi_ntt_kernel ensi_ntt_kernel_portable;
extern const ensi_ntt_kernel ensi_ntt_kernel_avx512;
extern const ensi_ntt_kernel ensi_ntt_kernel_avx512ifma;
extern const ensi_ntt_kernel ensi_ntt_kernel_avx2;

#endif
