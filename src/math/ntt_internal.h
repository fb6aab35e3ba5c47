/* Layout of an NTT table and the kernel interface shared by the NTT implementations. */
#ifndef ENSI_MATH_NTT_INTERNAL_H
#define ENSI_MATH_NTT_INTERNAL_H

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

typedef struct {
  const char *name;
  void (*forward)(const ensi_ntt_table *t, uint64_t *a);
  void (*inverse)(const ensi_ntt_table *t, uint64_t *a);
} ensi_ntt_kernel;

/* The portable C kernel (ntt_portable.c). */
extern const ensi_ntt_kernel ensi_ntt_kernel_portable;

#endif
