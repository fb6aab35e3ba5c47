/* ensi bench ntt: forward and inverse negacyclic NTT at N = 2^16 for a 50-bit and a 60-bit
 * prime, one thread, median of many runs, for every kernel this CPU runs (side by side, so their
 * ratio is measured under the same conditions). */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "math/ntt.h"
#include "math/primes.h"

int ensi_bench_ntt(int argc, char **argv, const bench_options *opt);

static int bench_prime(const bench_options *opt, const char *kernel, int bits, size_t n, int reps) {
  uint64_t q;
  ensi_modulus m;
  ensi_ntt_table *t;
  if (ensi_primes_near(&q, 1, bits, 2 * n, NULL, 0) || ensi_modulus_init(&m, q) ||
      ensi_ntt_table_create(&t, &m, n) || ensi_ntt_use_kernel(kernel))
    return 1;
  uint64_t *a = malloc(n * sizeof *a);
  double *fwd = malloc(reps * sizeof *fwd), *inv = malloc(reps * sizeof *inv);
  if (!a || !fwd || !inv)
    return 1;
  for (size_t i = 0; i < n; i++)
    a[i] = (q / n) * i + 1;
  for (int r = 0; r < 10; r++) /* warm-up */
    ensi_ntt_forward(t, a);
  for (int r = 0; r < reps; r++) {
    double t0 = bench_now();
    ensi_ntt_forward(t, a);
    double t1 = bench_now();
    ensi_ntt_inverse(t, a);
    fwd[r] = t1 - t0;
    inv[r] = bench_now() - t1;
  }
  char extra[128], name[64];
  snprintf(extra, sizeof extra, "\"n\":%zu,\"bits\":%d,\"kernel\":\"%s\"", n, bits, kernel);
  snprintf(name, sizeof name, "ntt/forward/%d-bit", bits);
  bench_report(opt, name, "-", reps, bench_median(fwd, (size_t)reps), extra);
  snprintf(name, sizeof name, "ntt/inverse/%d-bit", bits);
  bench_report(opt, name, "-", reps, bench_median(inv, (size_t)reps), extra);
  free(a);
  free(fwd);
  free(inv);
  ensi_ntt_table_free(t);
  return 0;
}

int ensi_bench_ntt(int argc, char **argv, const bench_options *opt) {
  (void)argc;
  (void)argv;
  const int reps = opt->reps ? opt->reps : 200;
  const char *kernels[8];
  const size_t count = ensi_ntt_kernel_names(kernels, 8);
  int failed = 0;
  for (size_t k = 0; k < count; k++)
    failed |= bench_prime(opt, kernels[k], 50, (size_t)1 << 16, reps) |
              bench_prime(opt, kernels[k], 60, (size_t)1 << 16, reps);
  return failed;
}
