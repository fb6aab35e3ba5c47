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

/* Butterflies of the stage with m groups of half-length gap, groups [first, last) only. Forward:
 * values in [0, 4q) stay in [0, 4q); inverse: [0, 2q) stays in [0, 2q). */
typedef void ensi_ntt_groups_fn(const ensi_ntt_table *t, uint64_t *a, size_t m, size_t gap,
                                size_t first, size_t last);
/* a[0 .. count) = a * n^-1 mod q, fully reduced (the inverse transform's last step). */
typedef void ensi_ntt_scale_fn(const ensi_ntt_table *t, uint64_t *a, size_t count);
/* a[0 .. count) from [0, 4q) to [0, q) (the forward transform's last step). */
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

/* The portable kernel's reduction, which kernels without their own share. */
void ensi_ntt_reduce_portable(const ensi_ntt_table *t, uint64_t *a, size_t count);

void ensi_ntt_forward_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a);
void ensi_ntt_inverse_blocked(const ensi_ntt_kernel *k, const ensi_ntt_table *t, uint64_t *a);

/* The portable C kernel (ntt_portable.c), the AVX-512 ones (ntt_avx512.c: with and without
 * IFMA), the AVX2 one (ntt_avx2.c). */
extern const ensi_ntt_kernel ensi_ntt_kernel_portable;
extern const ensi_ntt_kernel ensi_ntt_kernel_avx512;
extern const ensi_ntt_kernel ensi_ntt_kernel_avx512ifma;
extern const ensi_ntt_kernel ensi_ntt_kernel_avx2;

#endif
