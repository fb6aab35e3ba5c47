/* NTT tables (bit-reversed powers of psi with Shoup constants) and kernel dispatch: the fastest
 * kernel this CPU runs, unless ENSI_NTT_KERNEL names another (e.g. "portable"). */
#include "math/ntt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "math/ntt_internal.h"
#include "math/primes.h"

static size_t bit_reverse(size_t x, unsigned bits) {
  size_t r = 0;
  for (unsigned i = 0; i < bits; i++, x >>= 1)
    r = (r << 1) | (x & 1);
  return r;
}

static const ensi_ntt_kernel *const kernels[] = {&ensi_ntt_kernel_avx512ifma,
                                                 &ensi_ntt_kernel_avx512, &ensi_ntt_kernel_avx2,
                                                 &ensi_ntt_kernel_portable};
enum { KERNEL_COUNT = sizeof kernels / sizeof kernels[0] };

static const ensi_ntt_kernel *active;

static const ensi_ntt_kernel *find(const char *name) {
  for (size_t i = 0; i < KERNEL_COUNT; i++)
    if (kernels[i]->supported() && (!name || strcmp(kernels[i]->name, name) == 0))
      return kernels[i];
  return NULL;
}

static void choose_default(void) {
  const char *forced = getenv("ENSI_NTT_KERNEL");
  active = forced && find(forced) ? find(forced) : find(NULL);
}

/* Chosen once, at the first table's creation (tables exist before any transform runs), so the
 * transforms themselves only read `active`. */
static void choose_kernel(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, choose_default);
}

ensi_status ensi_ntt_table_create(ensi_ntt_table **out, const ensi_modulus *q, size_t n) {
  if (!out || !q || n < ENSI_NTT_MIN || n > ((size_t)1 << 17) || (n & (n - 1)))
    return ensi_fail(ENSI_ERR_ARG, "NTT: ring dimension %zu not a power of two in 2^4..2^17", n);
  choose_kernel();
  uint64_t psi;
  ENSI_TRY(ensi_primitive_root_2n(q->value, 2 * (uint64_t)n, &psi));
  ensi_ntt_table *t = calloc(1, sizeof *t);
  if (!t)
    return ENSI_ERR_NOMEM;
  t->n = n;
  t->q = *q;
  while (((size_t)1 << t->log_n) < n)
    t->log_n++;
  t->roots = malloc(n * sizeof *t->roots);
  t->roots_shoup = malloc(n * sizeof *t->roots_shoup);
  t->inv_roots = malloc(n * sizeof *t->inv_roots);
  t->inv_roots_shoup = malloc(n * sizeof *t->inv_roots_shoup);
  if (!t->roots || !t->roots_shoup || !t->inv_roots || !t->inv_roots_shoup) {
    ensi_ntt_table_free(t);
    return ENSI_ERR_NOMEM;
  }
  const uint64_t psi_inv = ensi_inv_mod(psi, q);
  uint64_t power = 1, inv_power = 1;
  for (size_t i = 0; i < n; i++) { /* psi^i stored at bitrev(i) */
    const size_t r = bit_reverse(i, t->log_n);
    t->roots[r] = power;
    t->inv_roots[r] = inv_power;
    power = ensi_mul_mod(power, psi, q);
    inv_power = ensi_mul_mod(inv_power, psi_inv, q);
  }
  for (size_t i = 0; i < n; i++) {
    t->roots_shoup[i] = ensi_shoup_precompute(t->roots[i], q->value);
    t->inv_roots_shoup[i] = ensi_shoup_precompute(t->inv_roots[i], q->value);
  }
  t->n_inv = ensi_inv_mod(n, q);
  t->n_inv_shoup = ensi_shoup_precompute(t->n_inv, q->value);
  *out = t;
  return ENSI_OK;
}

void ensi_ntt_table_free(ensi_ntt_table *t) {
  if (!t)
    return;
  free(t->roots);
  free(t->roots_shoup);
  free(t->inv_roots);
  free(t->inv_roots_shoup);
  free(t);
}

ensi_status ensi_ntt_use_kernel(const char *name) {
  choose_kernel(); /* the default first, so that it cannot override this choice later */
  const ensi_ntt_kernel *k = name ? find(name) : NULL;
  if (!k)
    return ensi_fail(ENSI_ERR_ARG, "NTT kernel '%s' is unknown or not supported by this CPU",
                     name ? name : "(null)");
  active = k;
  return ENSI_OK;
}

size_t ensi_ntt_kernel_names(const char **names, size_t max) {
  size_t count = 0;
  for (size_t i = 0; i < KERNEL_COUNT; i++)
    if (kernels[i]->supported() && count < max)
      names[count++] = kernels[i]->name;
  return count;
}

void ensi_ntt_forward(const ensi_ntt_table *t, uint64_t *a) { ensi_ntt_forward_blocked(active, t, a); }

void ensi_ntt_forward_prefix(const ensi_ntt_table *t, uint64_t *a, size_t m) {
  ensi_ntt_table view = *t; /* the first m roots; n_inv is not used by the forward transform */
  view.n = m;
  view.log_n = 0;
  while (((size_t)1 << view.log_n) < m)
    view.log_n++;
  ensi_ntt_forward_blocked(active, &view, a);
}

void ensi_ntt_inverse(const ensi_ntt_table *t, uint64_t *a) { ensi_ntt_inverse_blocked(active, t, a); }

const char *ensi_ntt_kernel_name(void) {
  choose_kernel();
  return active->name;
}

bool ensi_ntt_kernel_is_avx512(void) {
  choose_kernel();
  return active == &ensi_ntt_kernel_avx512 || active == &ensi_ntt_kernel_avx512ifma;
}

bool ensi_ntt_kernel_uses_ifma(void) {
  choose_kernel();
  return active == &ensi_ntt_kernel_avx512ifma;
}

bool ensi_ntt_kernel_is_avx2(void) {
  choose_kernel();
  return active == &ensi_ntt_kernel_avx2;
}
